"""The access token as Redis keeps it: encrypted with a key derived from the app secret.

See docs/ARCHITECTURE.md, 'Secrets'. Every process holding the app secret can open the sealed
token; a Redis dump, an AOF file, ``MONITOR`` or a stray ``GET`` shows only ciphertext. Fernet
(AES-128-CBC with HMAC-SHA256, from ``cryptography``) does the sealing; HKDF-SHA256 turns the app
secret into its key, so the secret itself is never the key.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_INFO = b"kis-autotrader access token seal v1"
"""HKDF's context string: a key derived for this purpose is good for nothing else."""


class TokenSeal:
    """Seals and opens access tokens for one app secret."""

    def __init__(self, app_secret: str) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=KEY_INFO).derive(
            app_secret.encode("utf-8")
        )
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, token: str) -> str:
        """``token`` encrypted and authenticated, as ASCII text."""
        return self._fernet.encrypt(token.encode("utf-8")).decode("ascii")

    def open(self, sealed: str) -> str | None:
        """The token inside ``sealed``; None when it was sealed under another secret or altered."""
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError):
            return None


def fingerprint(token: str) -> str:
    """A short one-way name for ``token``: what Redis compares when a token is dropped."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:32]
