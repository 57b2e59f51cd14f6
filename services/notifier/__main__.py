"""``python -m services.notifier [--burst]``: load settings, set up logging, work the queue."""

from __future__ import annotations

import argparse
import logging
import sys

import redis

from services.notifier.context import SERVICE, build_context
from services.notifier.worker import run
from shared.infra.logs import setup_logging
from shared.infra.settings import ConfigError, load_settings
from shared.state.control import instance_id

log = logging.getLogger(SERVICE)


def main(argv: list[str] | None = None) -> int:
    """Run the notifier; exit code 2 on bad configuration, 1 when Redis is unavailable."""
    parser = argparse.ArgumentParser(
        prog="python -m services.notifier",
        description="Posts notifications to the Discord webhook (or logs them), in order.",
    )
    parser.add_argument(
        "--burst", action="store_true", help="drain the event list and the outbox, then exit"
    )
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as e:
        print(f"configuration error: {e}", file=sys.stderr)
        return 2
    # The webhook URL is among the secrets: it is redacted from every log line.
    setup_logging(SERVICE, settings.log_level, settings.secret_values())
    try:
        ctx = build_context(settings)
        return run(ctx, instance_id(), burst=args.burst)
    except redis.RedisError as e:
        log.error("stopped: Redis unavailable (%s)", e)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
