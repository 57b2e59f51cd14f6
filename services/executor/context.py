"""Everything a job needs (settings, Redis, clock, KIS client, books), built once per process."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import redis

from shared.infra.clock import Clock, build_clock
from shared.infra.redis_client import connect
from shared.infra.redis_keys import Keys
from shared.infra.settings import Settings, load_settings
from shared.kis.client import KisClient, build_client
from shared.state.control import Controls
from shared.state.money_limits import LimitGuard, LimitStore, MoneyLimits
from shared.state.once import ONCE_FOLDER, OnceMarks
from shared.state.order_book import OrderBook
from shared.state.positions import PositionLedger
from shared.trading.market_calendar import KrxCalendar

log = logging.getLogger(__name__)

SERVICE = "executor"
"""Name of this service in heartbeats and logs."""


@dataclass(frozen=True)
class Context:
    """The executor's dependencies; one per process, shared by every job it runs."""

    settings: Settings
    redis: redis.Redis
    keys: Keys
    clock: Clock
    calendar: KrxCalendar
    client: KisClient
    book: OrderBook
    ledger: PositionLedger
    controls: Controls
    limits: LimitGuard
    """The money limits, checked right before every POST (docs/ARCHITECTURE.md, 'Money limits')."""
    stale_seconds: float
    """An order ``submitting`` (or ``pending``) untouched this long, in real seconds, is stale."""
    absence_grace_seconds: float
    """Real seconds between a lost answer and the executions read that may prove absence."""
    buy_limit_wait_seconds: float
    """Real seconds a limit buy may take to fill before its remainder is cancelled."""


def build_context(settings: Settings, client: redis.Redis | None = None) -> Context:
    """Build the clock, calendar and KIS client for ``settings`` on ``client`` (by default a
    new connection to ``REDIS_URL``)."""
    connection = client or connect(settings.redis_url)
    keys = Keys(settings.redis_prefix)
    clock = build_clock(settings, connection, publish=True)
    stale = settings.order_stale_seconds
    longest_post = settings.kis_connect_timeout_seconds + settings.kis_read_timeout_seconds
    if stale <= longest_post:
        # Reconciliation takes a silent 'submitting' order for dead only after this long; if a
        # live POST can outlast it, a slow answer could be read as absence and the order resent.
        log.warning(
            "ORDER_STALE_SECONDS=%g is not above the KIS connect+read timeouts (%gs): a slow "
            "order POST could be reconciled while still in flight",
            stale,
            longest_post,
        )
    return Context(
        settings=settings,
        redis=connection,
        keys=keys,
        clock=clock,
        calendar=KrxCalendar.from_settings(settings),
        client=build_client(settings, connection, clock),
        book=OrderBook(connection, keys, clock),
        ledger=PositionLedger(connection, keys, clock),
        controls=Controls(connection, keys),
        limits=LimitGuard(
            connection,
            keys,
            LimitStore(connection, keys, MoneyLimits.from_settings(settings)),
            OnceMarks(connection, keys, settings.data_dir / ONCE_FOLDER),
        ),
        stale_seconds=stale,
        absence_grace_seconds=settings.order_absence_grace_seconds,
        buy_limit_wait_seconds=settings.buy_limit_wait_seconds,
    )


_lock = threading.Lock()
_current: Context | None = None


def install(context: Context) -> Context:
    """Make ``context`` the one :func:`get_context` returns (the worker's ``__main__`` does)."""
    global _current
    with _lock:
        _current = context
    return context


def get_context() -> Context:
    """This process's context, built from the environment on first use."""
    global _current
    with _lock:
        if _current is None:
            _current = build_context(load_settings())
        return _current
