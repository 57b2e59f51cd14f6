"""A keyring backend for tests only: a plain JSON file, chosen explicitly, never automatically.

Tests select it with ``PYTHON_KEYRING_BACKEND=tests.keyring_backend.PlainFileKeyring`` and
``KAT_TEST_KEYRING_FILE=<path>``. It is not installed as a package and registers no entry point,
so the environment the services run in can never fall back to it (docs/DECISIONS.md, 'Keyring
backends in tests'). It keeps secrets in plain text, which is why ``kat credentials`` refuses it
without ``--allow-plaintext``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from jaraco.classes import properties
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

FILE_VARIABLE = "KAT_TEST_KEYRING_FILE"
"""Names the JSON file the backend reads and writes."""
SELECT = {"PYTHON_KEYRING_BACKEND": "tests.keyring_backend.PlainFileKeyring"}
"""The variable that selects this backend in a process a test starts."""


def store_with_the_command(
    folder: Path, kis_env: str, app_key: str, app_secret: str
) -> dict[str, str]:
    """Store the keys as a user does (``python -m shared.infra.credentials store``) in a file
    keyring in ``folder``; the variables that point a process at it. Never the machine's own
    keyring."""
    env = {**SELECT, FILE_VARIABLE: str(folder / "keyring-data" / "keyring.json")}
    root = Path(__file__).resolve().parent.parent
    command = ["store", "--env", kis_env, "--allow-plaintext"]
    stored = subprocess.run(
        [sys.executable, "-m", "shared.infra.credentials", *command],
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(root), "HOME": str(folder), **env},
        input=f"{app_key}\n{app_secret}\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert stored.returncode == 0, stored.stderr
    assert Path(env[FILE_VARIABLE]).exists(), "the file keyring holds the keys"
    return env


class PlainFileKeyring(KeyringBackend):
    """``{service: {username: password}}`` in the JSON file ``KAT_TEST_KEYRING_FILE`` names."""

    @properties.classproperty
    def priority(cls) -> float:
        # keyring reads priority as a class property; raising makes the backend not viable, so
        # automatic selection never picks it even where this module happens to be imported.
        if not os.environ.get(FILE_VARIABLE):
            raise RuntimeError(f"{FILE_VARIABLE} is not set")
        return 0.1

    def __init__(self, path: Path | None = None) -> None:
        super().__init__()
        self.path = path or Path(os.environ[FILE_VARIABLE])

    def _read(self) -> dict[str, dict[str, str]]:
        if not self.path.exists():
            return {}
        data: dict[str, dict[str, str]] = json.loads(self.path.read_text(encoding="utf-8"))
        return data

    def get_password(self, service: str, username: str) -> str | None:
        return self._read().get(service, {}).get(username)

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._read()
        data.setdefault(service, {})[username] = password
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(data), encoding="utf-8")

    def delete_password(self, service: str, username: str) -> None:
        data = self._read()
        if username not in data.get(service, {}):
            raise PasswordDeleteError(username)
        del data[service][username]
        self.path.write_text(json.dumps(data), encoding="utf-8")
