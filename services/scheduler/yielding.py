"""The scheduler's reads (quotes, balance) give way while a streamed code is near a decision.

See docs/ARCHITECTURE.md, 'The cash read ahead'. At paper's one request a second a read holds
the only slot for a second; a tick that decides meanwhile waits that second for its POST. So
while a code on the healthy stream is within ``NEAR_DECISION`` of its next decision, a read waits
until it is not, or until the scheduler has read nothing for :data:`MAX_DEFER_SECONDS`. A quote
the stream stands behind never waits: a code without any price yet (nothing can be decided on
it), or a code on the stream read once as it joins (its ticks carry it from then on).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import date

from services.scheduler.metering import KisReader
from shared.kis.models import Balance, BuyableCash, Execution, MarketDay, Quote

log = logging.getLogger(__name__)

YIELD_BELOW_RATE = 2.0
"""Reads yield only under this rate limit (requests/s), where one read holds the window's only
slot. Above it, polling is paced to ``POLL_SHARE_WHILE_STREAMING`` of the rate and a balance
takes a slot of many: an order decided on a tick finds a free one without yielding."""
MAX_DEFER_SECONDS = 120.0
"""However long codes stay near, the scheduler reads at least once in this many seconds of the
clock (real seconds at its speed 1; a fast simulated clock's upkeep is not held for hours).
Such a forced read holds paper's slot one second in 120: under 1 % of the ticks that decide
find it taken (docs/ARCHITECTURE.md, 'The cash read ahead')."""
CHECK_SECONDS = 0.1
"""How often a yielding read looks again, in real seconds."""


class ReadGate:
    """Holds the scheduler's reads back while ``near()`` says a streamed code is near a decision.

    Used from the loop's thread only. ``keep_alive`` (the leader lock and the heartbeat) is
    called every ``keep_alive_seconds`` while waiting; when it says the lead is lost, or ``stop``
    is set, the read goes on at once (the cycle stops on its own after its reads).
    """

    def __init__(
        self,
        rate_limit: float,
        near: Callable[[], bool],
        keep_alive: Callable[[], bool],
        keep_alive_seconds: float,
        stop: Callable[[], threading.Event],
        clock_speed: float = 1.0,
    ) -> None:
        self._active = rate_limit < YIELD_BELOW_RATE
        self._max_defer = MAX_DEFER_SECONDS / max(clock_speed, 1.0)
        self._near = near
        self._keep_alive = keep_alive
        self._keep_alive_seconds = keep_alive_seconds
        self._stop = stop
        self._last_read = time.monotonic()
        self.yielded_seconds = 0.0
        """Real seconds reads have waited so far (for logs and tests)."""

    def wait_turn(self) -> None:
        """Return when a read may go: nothing near, or the deferral is used up."""
        if not self._active:
            return
        deadline = self._last_read + self._max_defer
        started = refreshed = time.monotonic()
        while time.monotonic() < deadline and self._near():
            if self._stop().wait(CHECK_SECONDS):
                break
            if time.monotonic() - refreshed >= self._keep_alive_seconds:
                if not self._keep_alive():
                    break
                refreshed = time.monotonic()
        waited = time.monotonic() - started
        if waited >= CHECK_SECONDS:
            self.yielded_seconds += waited
            log.debug("a read yielded %.1f s to a code near its decision", waited)
        self._last_read = time.monotonic()


class YieldingReader:
    """A :class:`KisReader` whose quotes and balance wait for their turn at a :class:`ReadGate`;
    an ``urgent`` quote, and the other reads (calendar, executions, cash), go at once."""

    def __init__(self, inner: KisReader, gate: ReadGate, urgent: Callable[[str], bool]) -> None:
        self._inner = inner
        self._gate = gate
        self._urgent = urgent

    def current_price(self, code: str) -> Quote:
        if not self._urgent(code):
            self._gate.wait_turn()
        return self._inner.current_price(code)

    def balance(self) -> Balance:
        self._gate.wait_turn()
        return self._inner.balance()

    def buyable_cash(self, code: str, price: int | None = None) -> BuyableCash:
        return self._inner.buyable_cash(code, price)

    def market_days(self, start: date) -> list[MarketDay]:
        return self._inner.market_days(start)

    def daily_executions(self, start: date) -> list[Execution]:
        return self._inner.daily_executions(start)
