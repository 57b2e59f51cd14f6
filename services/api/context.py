"""What every request needs: settings, one Redis client, keys, clock and calendar, built once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask, Response, current_app
from redis import Redis

from services.api.auth_throttle import AuthThrottle
from services.api.read_cache import ReadCache
from shared.infra.clock import Clock, build_clock
from shared.infra.redis_client import connect
from shared.infra.redis_keys import Keys
from shared.infra.settings import Settings
from shared.trading.costs import TradeCosts
from shared.trading.market_calendar import KrxCalendar
from shared.trading.rules import Thresholds

EXTENSION = "kat_api"
"""Key of the :class:`ApiContext` in ``app.extensions``."""
REDIS_TIMEOUT_SECONDS = 2.0
"""Connect and read timeout of the API's Redis client: a stuck Redis must not hang a page."""


@dataclass
class ApiContext:
    """Shared by every request (and thread) of one app."""

    settings: Settings
    redis: Redis
    keys: Keys
    calendar: KrxCalendar
    thresholds: Thresholds
    auth_throttle: AuthThrottle
    read_cache: ReadCache
    """The read-only answers of the last second (services/api/read_cache.py)."""
    _clock: Clock | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def costs(self) -> TradeCosts:
        """KIS's fee and sell tax as configured, for realised P&L net of them."""
        return TradeCosts(self.settings.fee_pct, self.settings.sell_tax_pct)

    @classmethod
    def build(cls, settings: Settings, client: Redis | None = None) -> ApiContext:
        if client is None:
            client = connect(
                settings.redis_url,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                connect_timeout=REDIS_TIMEOUT_SECONDS,
            )
        return cls(
            settings=settings,
            redis=client,
            keys=Keys(settings.redis_prefix),
            calendar=KrxCalendar.from_settings(settings),
            thresholds=Thresholds.from_settings(settings),
            auth_throttle=AuthThrottle(limit=settings.status_api_failure_limit),
            read_cache=ReadCache(settings.status_api_cache_seconds),
        )

    @property
    def clock(self) -> Clock:
        """The system clock, built on first use.

        A simulated clock without CLOCK_EPOCH reads its anchor from Redis; building it lazily
        lets the app start (and ``/healthz`` answer) while Redis is still down.
        """
        with self._lock:
            if self._clock is None:
                self._clock = build_clock(self.settings, self.redis)
            return self._clock


def install(app: Flask, ctx: ApiContext) -> None:
    app.extensions[EXTENSION] = ctx


def ctx() -> ApiContext:
    """The context of the app handling the current request."""
    found: ApiContext = current_app.extensions[EXTENSION]
    return found


def kept(make: Callable[[], Response]) -> Response:
    """This request's answer as :class:`ReadCache` keeps it, made by ``make`` when it has none."""
    return ctx().read_cache.answer(make)
