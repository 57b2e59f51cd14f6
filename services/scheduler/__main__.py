"""``python -m services.scheduler``: settings, logging, Redis, clock, calendar, KIS; run forever."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType

import redis

from services.scheduler.loop import ROLE, Scheduler
from services.scheduler.streaming import FillNotices, session_factory
from shared.infra.clock import build_clock
from shared.infra.logs import setup_logging
from shared.infra.redis_client import connect
from shared.infra.redis_keys import Keys
from shared.infra.settings import ConfigError, load_settings
from shared.kis.client import build_client
from shared.messaging.events import ServiceStart, ServiceStop, notify
from shared.trading.market_calendar import KrxCalendar

log = logging.getLogger("scheduler")

REDIS_RETRY_SECONDS = 1.0
"""Real seconds between attempts to reach Redis at start."""


def main(argv: list[str] | None = None) -> int:
    """Run until SIGTERM or SIGINT; exit code 2 on bad configuration."""
    argparse.ArgumentParser(
        prog="python -m services.scheduler",
        description="Decide the day's trades on the KRX calendar and queue them for the executor "
        "(one leader; a second copy waits as a standby). Configured by the environment.",
    ).parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as e:
        print(f"configuration error: {e}", file=sys.stderr)
        return 2
    setup_logging(ROLE, settings.log_level, settings.secret_values())

    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    client = connect(settings.redis_url)
    keys = Keys(settings.redis_prefix)
    # Never exit on our own: a Redis that is late to start is waited for.
    while not stop.is_set():
        try:
            client.ping()
            break
        except redis.RedisError as e:
            log.warning("Redis not reachable (%s); trying again", e)
            stop.wait(REDIS_RETRY_SECONDS)
    if stop.is_set():
        return 0

    clock = build_clock(settings, client)
    calendar = KrxCalendar.from_settings(settings)
    kis = build_client(settings, client, clock)
    stream = session_factory(settings, kis.approval_key, FillNotices(client))
    scheduler = Scheduler(settings, client, kis, clock, calendar, stream=stream)
    log.info(
        "mode %s, endpoint %s, account %s, clock %r, prices by %s",
        settings.kis_env,
        settings.base_url,
        settings.masked_account,
        clock,
        settings.quote_source,
    )
    notify(client, ServiceStart(service=ROLE, instance=scheduler.instance), keys)
    scheduler.run(stop)
    notify(client, ServiceStop(service=ROLE, instance=scheduler.instance), keys)
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
