"""``python -m services.scheduler``: clock, calendar and KIS on the common start; run forever."""

from __future__ import annotations

import argparse
import logging

from services.scheduler.loop import ROLE, Scheduler
from services.scheduler.streaming import FillNotices, session_factory
from shared.infra.clock import build_clock
from shared.infra.redis_keys import Keys
from shared.infra.service import Started, run_service
from shared.kis.client import build_client
from shared.messaging.events import ServiceStart, ServiceStop, notify
from shared.trading.market_calendar import KrxCalendar

log = logging.getLogger("scheduler")

PARSER = argparse.ArgumentParser(
    prog="python -m services.scheduler",
    description="Decide the day's trades on the KRX calendar and queue them for the executor "
    "(one leader; a second copy waits as a standby). Configured by the environment.",
)


def main(argv: list[str] | None = None) -> int:
    """Run until SIGTERM or SIGINT; exit code 2 on bad configuration."""
    return run_service(ROLE, PARSER, _run, argv=argv, wait_for_redis=True)


def _run(started: Started) -> int:
    settings, client = started.settings, started.redis
    keys = Keys(settings.redis_prefix)
    clock = build_clock(settings, client, publish=True)
    calendar = KrxCalendar.from_settings(settings)
    kis = build_client(settings, client, clock)
    stream = session_factory(settings, kis.approval_key, FillNotices(client))
    scheduler = Scheduler(settings, client, kis, clock, calendar, stream=stream)
    if settings.dry_run:
        log.info(
            "%s: quotes from %s, orders and the account at the local ledger %s",
            settings.mode_label,
            settings.base_url,
            settings.order_base_url,
        )
    log.info(
        "mode %s, endpoint %s, account %s, clock %r, prices by %s",
        settings.kis_env,
        settings.base_url,
        settings.masked_account,
        clock,
        settings.quote_source,
    )
    notify(client, ServiceStart(service=ROLE, instance=scheduler.instance), keys)
    scheduler.run(started.stop)
    notify(client, ServiceStop(service=ROLE, instance=scheduler.instance), keys)
    log.info("stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
