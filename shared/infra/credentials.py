"""Where credentials come from: environment, then ``*_FILE`` (Docker secrets), then the OS keyring.

The seed stored its app key and secret with ``keyring``; we keep that for local runs under one
service name, one entry per KIS environment (``paper:app_key``, ``real:app_secret``, ...).
Storing names the backend used and refuses one that is not an OS keyring unless the user asks
for it (``--allow-plaintext``): see docs/ARCHITECTURE.md, 'Secrets'.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import keyring
import keyring.errors
from keyring.backend import KeyringBackend

log = logging.getLogger(__name__)

KEYRING_SERVICE = "kis-autotrader"
"""Service name of every keyring entry this system reads or writes."""

FILE_VARIABLES = (
    "KIS_APP_KEY",
    "KIS_APP_SECRET",
    "KIS_ACCOUNT",
    "KIS_HTS_ID",
    "DISCORD_WEBHOOK_URL",
    "STATUS_API_TOKEN",
)
"""Variables that may instead be given as ``NAME_FILE`` pointing at a file (Docker secrets)."""

KEYRING_VARIABLES = {"KIS_APP_KEY": "app_key", "KIS_APP_SECRET": "app_secret"}
"""Variables looked up in the keyring, and the entry name suffix each uses."""


OS_KEYRINGS = frozenset(
    {
        "keyring.backends.SecretService.Keyring",
        "keyring.backends.libsecret.Keyring",
        "keyring.backends.kwallet.DBusKeyring",
        "keyring.backends.kwallet.DBusKeyringKWallet4",
        "keyring.backends.macOS.Keyring",
        "keyring.backends.Windows.WinVaultKeyring",
    }
)
"""Backends that keep secrets in the operating system's own encrypted store."""
NO_KEYRINGS = frozenset({"keyring.backends.fail.Keyring", "keyring.backends.null.Keyring"})
"""Backends that stand for "no keyring at all"."""

BackendKind = Literal["os", "none", "plaintext"]
"""An OS keyring, none at all, or anything else (a file, a third-party store: treated as plain)."""


class CredentialFileError(ValueError):
    """A ``*_FILE`` variable names a file that cannot be read."""


def keyring_username(kis_env: str, entry: str) -> str:
    """The keyring username for one entry of one KIS environment, e.g. ``paper:app_key``."""
    return f"{kis_env}:{entry}"


def from_files(environ: Mapping[str, str]) -> dict[str, str]:
    """Values of ``NAME`` read from the file ``NAME_FILE`` names, for names not set directly."""
    found: dict[str, str] = {}
    for name in FILE_VARIABLES:
        path = environ.get(f"{name}_FILE")
        if environ.get(name) or not path:
            continue
        try:
            # A trailing newline in a secret file is the classic cause of EGW00105.
            found[name] = Path(path).read_text(encoding="utf-8").strip()
        except OSError as e:
            raise CredentialFileError(f"{name}_FILE: cannot read {path!r} ({e.strerror})") from e
    return found


def from_keyring(kis_env: str, missing: list[str]) -> dict[str, str]:
    """Values for the ``missing`` variables that the OS keyring holds for ``kis_env``."""
    found: dict[str, str] = {}
    for name in missing:
        entry = KEYRING_VARIABLES.get(name)
        if entry is None:
            continue
        try:
            value = keyring.get_password(KEYRING_SERVICE, keyring_username(kis_env, entry))
        except keyring.errors.KeyringError as e:
            # No usable backend (typical in containers): the variable simply stays missing.
            log.debug("keyring unavailable for %s: %s", name, type(e).__name__)
            continue
        if value:
            found[name] = value
    return found


def backend_name(backend: KeyringBackend | type[KeyringBackend]) -> str:
    """``module.Class`` of a backend (or its class), e.g. ``keyring.backends.fail.Keyring``."""
    cls = backend if isinstance(backend, type) else type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def backend_kind(backend: KeyringBackend | type[KeyringBackend]) -> BackendKind:
    """What ``backend`` is; a chain counts as an OS keyring only if every link is one."""
    links: Any = getattr(backend, "backends", None)
    if not isinstance(backend, type) and isinstance(links, list) and links:
        kinds = {backend_kind(link) for link in links}
        return "os" if kinds == {"os"} else "plaintext"
    name = backend_name(backend)
    if name in OS_KEYRINGS:
        return "os"
    if name in NO_KEYRINGS:
        return "none"
    return "plaintext"


def backend_refusal(backend: KeyringBackend | type[KeyringBackend]) -> str | None:
    """Why credentials should not be stored in ``backend`` without being asked, or None."""
    kind = backend_kind(backend)
    if kind == "none":
        return f"no usable OS keyring on this machine ({backend_name(backend)})"
    if kind == "plaintext":
        return (
            f"{backend_name(backend)} is not an OS keyring: it may keep the key and secret in a"
            " plain file"
        )
    return None


def store_in_keyring(kis_env: str, app_key: str, app_secret: str) -> None:
    """Save an app key and secret for ``kis_env`` in the OS keyring (the seed's way)."""
    keyring.set_password(KEYRING_SERVICE, keyring_username(kis_env, "app_key"), app_key)
    keyring.set_password(KEYRING_SERVICE, keyring_username(kis_env, "app_secret"), app_secret)


def main(argv: list[str] | None = None) -> int:
    """``python -m shared.infra.credentials store --env paper``: save an app key and secret.

    Exit 1 without a usable keyring, 2 when the keyring is not an OS keyring and
    ``--allow-plaintext`` was not given; both before asking for anything.
    """
    parser = argparse.ArgumentParser(description="Store KIS credentials in the OS keyring.")
    parser.add_argument("action", choices=["store"])
    parser.add_argument("--env", choices=["paper", "real"], required=True)
    parser.add_argument(
        "--allow-plaintext",
        action="store_true",
        help="store them even in a keyring backend that is not the OS's own (a plain file)",
    )
    args = parser.parse_args(argv)
    backend = keyring.get_keyring()
    name = backend_name(backend)
    kind = backend_kind(backend)
    if kind == "none":
        print(
            f"{backend_refusal(backend)}: nothing stored; put the keys in .env or in *_FILE"
            " variables instead (README.md, 'Moving to paper, then to real money')",
            file=sys.stderr,
        )
        return 1
    if kind == "plaintext" and not args.allow_plaintext:
        print(
            f"refused: {backend_refusal(backend)}; nothing stored. Pass --allow-plaintext to"
            " store them there anyway, or use .env or *_FILE variables",
            file=sys.stderr,
        )
        return 2
    interactive = sys.stdin.isatty()
    read = getpass.getpass if interactive else (lambda prompt: sys.stdin.readline())
    app_key = read("app key: ").strip()
    app_secret = read("app secret: ").strip()
    if not app_key or not app_secret:
        print("both the app key and the app secret are needed", file=sys.stderr)
        return 2
    try:
        store_in_keyring(args.env, app_key, app_secret)
    except keyring.errors.KeyringError as e:
        print(
            f"no usable keyring on this machine ({type(e).__name__}); use .env or *_FILE "
            "variables instead",
            file=sys.stderr,
        )
        return 1
    note = " (plain text, as --allow-plaintext asked)" if kind == "plaintext" else ""
    print(f"stored the {args.env} app key and secret under {KEYRING_SERVICE} in {name}{note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
