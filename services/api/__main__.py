"""``python -m services.api``: check the settings, then serve the status API with waitress.

One process with a few threads: every answer is read from Redis, so threads serve it as well as
worker processes would, and one process stays well under the 80 MB each service is allowed
(gunicorn's master and two workers took 110 MB; see docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import logging
import os
import socket

from services.api.app import create_app
from services.api.http_server import serve_app
from shared.infra.service import Started, exit_now, run_service
from shared.infra.settings import INTEGER_PATTERN, ConfigError

log = logging.getLogger("api")

DEFAULT_HOST = "127.0.0.1"
"""Where the API listens unless API_HOST says otherwise (the container sets 0.0.0.0)."""
DEFAULT_PORT = 8000
"""TCP port unless API_PORT says otherwise."""
THREADS = 4
"""Requests served at once; the page polls a handful of JSON endpoints."""
CHANNEL_TIMEOUT_SECONDS = 3
"""A connection that has sent and been sent nothing for this long is closed: an idle keep-alive,
or a body shorter than its ``Content-Length`` (docs/ARCHITECTURE.md, 'Input limits'). One being
answered is never closed (waitress waits for its requests); Redis calls time out after 2 s."""
CLEANUP_INTERVAL_SECONDS = 1
"""How often waitress looks for such connections (its default, 30 s, would keep one a minute)."""

PARSER = argparse.ArgumentParser(
    prog="python -m services.api",
    description="The read-only status API, the status page and the control endpoints "
    "(API_HOST, API_PORT and the rest from the environment).",
)


def main(argv: list[str] | None = None) -> int:
    """Exit 2 on bad configuration, 1 when the port cannot be bound; 0 after SIGTERM/SIGINT."""
    return run_service("api", PARSER, _serve, argv=argv)


def _serve(started: Started) -> int:
    port = _port(os.environ.get("API_PORT") or str(DEFAULT_PORT))
    host = _host(os.environ.get("API_HOST") or DEFAULT_HOST, port)
    app = create_app(started.settings)
    try:
        server = serve_app(
            app,
            host=host,
            port=port,
            threads=THREADS,
            channel_timeout=CHANNEL_TIMEOUT_SECONDS,
            cleanup_interval=CLEANUP_INTERVAL_SECONDS,
            ident="kis-autotrader",
        )
    except OSError as e:
        log.error("cannot listen on %s:%d: %s", host, port, e)
        return 1
    # waitress leaves its loop on SystemExit and lets the requests in hand finish.
    started.stop.on_request(exit_now)
    log.info("status API on http://%s:%d (waitress, %d threads)", host, port, THREADS)
    server.run()
    log.info("stopped")
    return 0


def _port(value: str) -> int:
    if not INTEGER_PATTERN.fullmatch(value) or not 0 < int(value) < 65536:
        raise ConfigError(f"API_PORT: must be a TCP port number (1-65535), got {value!r}")
    return int(value)


def _host(value: str, port: int) -> str:
    """``value`` when it is an address (or a name of one) this machine can listen on.

    waitress itself turns a bad one (``999.1.1.1``) into a ValueError and a traceback.
    """
    try:
        socket.getaddrinfo(value, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (OSError, UnicodeError):
        raise ConfigError(
            f"API_HOST: must be an IP address or a host name that resolves, got {value!r}"
        ) from None
    return value


if __name__ == "__main__":
    raise SystemExit(main())
