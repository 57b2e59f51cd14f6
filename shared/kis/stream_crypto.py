"""Decrypting KIS's fill notices: base64, AES-256-CBC, PKCS7 (pure, no I/O).

See docs/ARCHITECTURE.md, 'The price and fill stream'. The key (32 characters) and iv
(16 characters) come in ``output`` of the fill notice's subscribe answer, UTF-8 encoded as they
are (OTA ``examples_llm/kis_auth.py``, ``aes_cbc_base64_dec``).
"""

from __future__ import annotations

import base64
import binascii

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

AES_BLOCK_BITS = 128


class DecryptError(ValueError):
    """An encrypted payload that does not decrypt with the key and iv we hold."""


def decrypt_payload(cipher_text: str, key: str, iv: str) -> str:
    """The plain ``^``-separated payload of an encrypted data frame."""
    try:
        raw = base64.b64decode(cipher_text, validate=True)
        decryptor = Cipher(algorithms.AES(key.encode()), modes.CBC(iv.encode())).decryptor()
        padded = decryptor.update(raw) + decryptor.finalize()
        unpadder = padding.PKCS7(AES_BLOCK_BITS).unpadder()
        return (unpadder.update(padded) + unpadder.finalize()).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError) as e:
        # Never echo the payload or the key: a fill notice carries the account number.
        raise DecryptError(f"cannot decrypt the payload ({type(e).__name__})") from None
