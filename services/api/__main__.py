"""``python -m services.api``: check the settings, then exec gunicorn serving the status API."""

from __future__ import annotations

import os
import sys

from shared.settings import ConfigError, load_settings

DEFAULT_HOST = "127.0.0.1"
"""Where the API listens unless API_HOST says otherwise (the container sets 0.0.0.0)."""
DEFAULT_PORT = 8000
"""TCP port unless API_PORT says otherwise."""
WORKERS = 2
"""gunicorn worker processes: every answer is read from Redis, so any worker can serve it."""
TIMEOUT_SECONDS = 30
"""gunicorn kills a worker stuck on one request this long (Redis calls time out after 2 s)."""


def gunicorn_argv(host: str, port: int) -> list[str]:
    """The gunicorn command line, run by this very interpreter (the same venv or image)."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(WORKERS),
        "--timeout",
        str(TIMEOUT_SECONDS),
        "--graceful-timeout",
        "10",
        "--log-level",
        "info",
        "services.api.wsgi:app",
    ]


def main() -> int:
    """Exit 2 on bad configuration; otherwise this process becomes gunicorn."""
    try:
        load_settings()
        host = os.environ.get("API_HOST") or DEFAULT_HOST
        port = _port(os.environ.get("API_PORT") or str(DEFAULT_PORT))
    except ConfigError as e:
        print(f"configuration error: {e}", file=sys.stderr)
        return 2
    argv = gunicorn_argv(host, port)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        # exec, not a child: compose's SIGTERM then reaches gunicorn's master directly.
        os.execv(argv[0], argv)  # noqa: S606 - replacing this process on purpose
    except OSError as e:
        print(f"cannot start gunicorn: {e}", file=sys.stderr)
    return 1


def _port(value: str) -> int:
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise ConfigError(f"API_PORT: must be a TCP port number (1-65535), got {value!r}")
    return int(value)


if __name__ == "__main__":
    sys.exit(main())
