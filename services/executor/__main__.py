"""``python -m services.executor [--burst]``: load settings, set up logging, build clients, work."""

from __future__ import annotations

import argparse
import logging
import sys

import redis

from services.executor.context import build_context, install
from services.executor.worker import run
from shared.infra.logs import setup_logging
from shared.infra.settings import ConfigError, load_settings
from shared.state.control import instance_id

log = logging.getLogger("executor")


def main(argv: list[str] | None = None) -> int:
    """Run the executor; exit code 2 on bad configuration, 1 when it cannot start."""
    parser = argparse.ArgumentParser(
        prog="python -m services.executor",
        description="RQ worker that places each order exactly once (sells before buys).",
    )
    parser.add_argument("--burst", action="store_true", help="drain the order queues, then exit")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as e:
        print(f"configuration error: {e}", file=sys.stderr)
        return 2
    setup_logging("executor", settings.log_level, settings.secret_values())
    try:
        ctx = install(build_context(settings))
    except Exception as e:
        log.error("cannot start: %s", e)
        return 1
    try:
        return run(ctx, instance_id(), burst=args.burst)
    except redis.RedisError as e:
        log.error("stopped: Redis unavailable (%s)", e)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
