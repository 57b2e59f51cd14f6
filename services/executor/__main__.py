"""``python -m services.executor [--burst]``: build the clients on the common start, then work."""

from __future__ import annotations

import argparse
import logging

from services.executor.context import SERVICE, build_context, install
from services.executor.worker import run
from shared.infra.service import Started, exit_now, run_service
from shared.state.control import instance_id

log = logging.getLogger("executor")

PARSER = argparse.ArgumentParser(
    prog="python -m services.executor",
    description="RQ worker that places each order exactly once (sells before buys).",
)
PARSER.add_argument("--burst", action="store_true", help="drain the order queues, then exit")


def main(argv: list[str] | None = None) -> int:
    """Run the executor; exit code 2 on bad configuration, 1 when it cannot start."""
    return run_service(SERVICE, PARSER, _run, argv=argv, wait_for_redis=True)


def _run(started: Started) -> int:
    # Until RQ installs its own handlers (warm stop: finish the current job), stop at once.
    started.stop.on_request(exit_now)
    try:
        ctx = install(build_context(started.settings, started.redis))
    except Exception as e:
        log.error("cannot start: %s", e)
        return 1
    return run(ctx, instance_id(), burst=started.args.burst)


if __name__ == "__main__":
    raise SystemExit(main())
