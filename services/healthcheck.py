"""``python -m services.healthcheck SERVICE``: exit 0 when SERVICE beats from this host.

The containers' healthcheck. It answers what ``kat health SERVICE`` answers, but imports only the
Redis client and the key names: it runs every 15 s in each worker's container, where the whole
CLI (settings, calendar, RQ) cost 0.7 s of CPU and 57 MB per run, most of the system's idle CPU
(docs/benchmarks.md). Reads ``REDIS_URL`` and ``REDIS_PREFIX`` from the environment, with the
settings' defaults.
"""

from __future__ import annotations

import os
import socket
import sys

import redis

from shared.infra.redis_keys import Keys
from shared.state.control import heartbeats, is_healthy

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
"""The settings' default ``REDIS_URL``."""
DEFAULT_PREFIX = "kat:"
"""The settings' default ``REDIS_PREFIX``."""
TIMEOUT_SECONDS = 3.0
"""Connect and read timeout: a healthcheck must answer, not hang."""


def verdict(client: redis.Redis, keys: Keys, service: str, host: str) -> str:
    """Empty when a live heartbeat of ``service`` from ``host`` says it is healthy; else why not.

    A process that beats but says a part of it is stuck (the notifier's sender loop) is not
    healthy. See docs/ARCHITECTURE.md, 'Redis outages'.
    """
    beats = [
        hb
        for hb in heartbeats(client, keys)
        if hb["service"] == service and str(hb["instance"]).startswith(host)
    ]
    if not beats:
        return f"no live heartbeat from {service}"
    if any(is_healthy(hb) for hb in beats):
        return ""
    return f"{service} is unhealthy: {beats[0].get('sender', 'see its log')}"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m services.healthcheck SERVICE", file=sys.stderr)
        return 2
    service = args[0]
    client = redis.Redis.from_url(
        os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL,
        socket_timeout=TIMEOUT_SECONDS,
        socket_connect_timeout=TIMEOUT_SECONDS,
    )
    try:
        problem = verdict(
            client, Keys(os.environ.get("REDIS_PREFIX") or DEFAULT_PREFIX), service, _host()
        )
    except redis.RedisError as e:
        print(f"redis unavailable: {e}", file=sys.stderr)
        return 1
    finally:
        client.close()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


def _host() -> str:
    return socket.gethostname()


if __name__ == "__main__":
    raise SystemExit(main())
