"""Where credentials come from: environment, then ``*_FILE`` (Docker secrets), then the OS keyring.

The seed stored its app key and secret with ``keyring``; we keep that for local runs under one
service name, one entry per KIS environment (``paper:app_key``, ``real:app_secret``, ...).
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from collections.abc import Mapping
from pathlib import Path

import keyring
import keyring.errors

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


def store_in_keyring(kis_env: str, app_key: str, app_secret: str) -> None:
    """Save an app key and secret for ``kis_env`` in the OS keyring (the seed's way)."""
    keyring.set_password(KEYRING_SERVICE, keyring_username(kis_env, "app_key"), app_key)
    keyring.set_password(KEYRING_SERVICE, keyring_username(kis_env, "app_secret"), app_secret)


def main(argv: list[str] | None = None) -> int:
    """``python -m shared.credentials store --env paper``: save an app key and secret."""
    parser = argparse.ArgumentParser(description="Store KIS credentials in the OS keyring.")
    parser.add_argument("action", choices=["store"])
    parser.add_argument("--env", choices=["paper", "real"], required=True)
    args = parser.parse_args(argv)
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
    print(f"stored the {args.env} app key and secret in the keyring ({KEYRING_SERVICE})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
