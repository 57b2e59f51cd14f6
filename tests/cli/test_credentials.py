"""``kat credentials``: names the keyring backend it used and refuses a plaintext one unless asked.

Issue 11: on a server without an OS keyring, ``kat credentials --env paper`` stored the key and
secret base64-encoded in a plain file through keyrings.alt (a test-only dependency that the
services' environment installed too) and said "stored … in the keyring". See
docs/ARCHITECTURE.md, 'Secrets'.
"""

from __future__ import annotations

import base64
import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import keyring.backends.fail
import pytest

from shared.infra.credentials import KEYRING_SERVICE, backend_name, backend_refusal
from tests.conftest import ROOT
from tests.keyring_backend import FILE_VARIABLE, SELECT, PlainFileKeyring

APP_KEY = "PScredentialsTestAppKey0123456789ab"
APP_SECRET = "credentials-test-secret/" + "z" * 60


def credentials_command(home: Path, *options: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``kat credentials --env paper`` as a user on a machine without a desktop session runs it."""
    base = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT),
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "KAT_ENV_FILE": "",
    }
    return subprocess.run(
        [sys.executable, "-m", "services.cli", "credentials", "--env", "paper", *options],
        env={**base, **env},
        cwd=ROOT,
        input=f"{APP_KEY}\n{APP_SECRET}\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def files_holding_the_secret(folder: Path) -> list[Path]:
    forms = [APP_SECRET.encode(), base64.b64encode(APP_SECRET.encode())]
    return [
        path
        for path in folder.rglob("*")
        if path.is_file() and any(form in path.read_bytes() for form in forms)
    ]


@pytest.mark.processes
def test_without_an_os_keyring_nothing_is_stored_anywhere(tmp_path: Path) -> None:
    result = credentials_command(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    [line] = result.stderr.strip().splitlines()
    assert "no usable OS keyring" in line
    assert "keyring.backends.fail.Keyring" in line
    assert files_holding_the_secret(tmp_path) == []
    assert APP_SECRET not in result.stdout + result.stderr


@pytest.mark.processes
def test_a_plaintext_backend_is_refused_unless_asked_for(tmp_path: Path) -> None:
    store = tmp_path / "test-keyring.json"
    refused = credentials_command(tmp_path, **SELECT, **{FILE_VARIABLE: str(store)})
    assert refused.returncode == 2, refused.stdout + refused.stderr
    [line] = refused.stderr.strip().splitlines()
    assert "tests.keyring_backend.PlainFileKeyring" in line
    assert "--allow-plaintext" in line
    assert not store.exists()

    stored = credentials_command(
        tmp_path, "--allow-plaintext", **SELECT, **{FILE_VARIABLE: str(store)}
    )
    assert stored.returncode == 0, stored.stderr
    assert stored.stdout.strip() == (
        "stored the paper app key and secret under kis-autotrader in"
        " tests.keyring_backend.PlainFileKeyring (plain text, as --allow-plaintext asked)"
    )
    assert PlainFileKeyring(store).get_password(KEYRING_SERVICE, "paper:app_secret") == APP_SECRET
    assert APP_SECRET not in stored.stdout + stored.stderr


@pytest.mark.parametrize(
    ("module", "name", "refused"),
    [
        ("keyring.backends.fail", "Keyring", "no usable OS keyring"),
        ("keyring.backends.null", "Keyring", "no usable OS keyring"),
        ("keyring.backends.SecretService", "Keyring", None),
        ("keyring.backends.macOS", "Keyring", None),
        ("keyring.backends.Windows", "WinVaultKeyring", None),
        ("keyring.backends.kwallet", "DBusKeyring", None),
        ("keyring.backends.libsecret", "Keyring", None),
    ],
)
@pytest.mark.processes
def test_which_backends_count_as_an_os_keyring(module: str, name: str, refused: str | None) -> None:
    backend_class = getattr(__import__(module, fromlist=[name]), name)
    assert backend_name(backend_class) == f"{module}.{name}"
    refusal = backend_refusal(backend_class)
    assert (refusal is None) if refused is None else (refused in (refusal or ""))


def test_a_file_backend_counts_as_plaintext() -> None:
    refusal = backend_refusal(PlainFileKeyring)
    assert refusal is not None and "plain" in refusal
    assert "no usable" in (backend_refusal(keyring.backends.fail.Keyring) or "")


def test_keyrings_alt_is_not_in_the_services_environment() -> None:
    # The services run from the same virtual environment as `make run`: no plaintext fallback.
    with pytest.raises(importlib.metadata.PackageNotFoundError):
        importlib.metadata.distribution("keyrings.alt")
    assert "keyrings.alt" not in (ROOT / "pyproject.toml").read_text(encoding="utf-8")
