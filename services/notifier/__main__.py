"""``python -m services.notifier [--burst]``: the common start, then work the event list."""

from __future__ import annotations

import argparse

from services.notifier.context import SERVICE, build_context
from services.notifier.worker import run
from shared.infra.service import Started, run_service
from shared.state.control import instance_id

PARSER = argparse.ArgumentParser(
    prog="python -m services.notifier",
    description="Posts notifications to the Discord webhook (or logs them), in order.",
)
PARSER.add_argument(
    "--burst", action="store_true", help="drain the event list and the outbox, then exit"
)


def main(argv: list[str] | None = None) -> int:
    """Run the notifier; exit code 2 on bad configuration, 1 when Redis is unavailable.

    The webhook URL is among the secrets: it is redacted from every log line.
    """
    return run_service(SERVICE, PARSER, _run, argv=argv, wait_for_redis=True)


def _run(started: Started) -> int:
    ctx = build_context(started.settings, started.redis)
    return run(ctx, instance_id(), started.stop, burst=started.args.burst)


if __name__ == "__main__":
    raise SystemExit(main())
