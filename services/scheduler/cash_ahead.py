"""The scheduler's thread that reads the buyable cash ahead, at the limit prices of the picks
near their band, so that a buy decided on a tick spends one request (its POST).

See docs/ARCHITECTURE.md, 'The cash read ahead'; validity is ``shared.state.cash_ahead``. The
thread looks every :data:`LOOK_SECONDS`; a limit price whose answer is missing or stale is read
again once the cash generation has stood still for :data:`SETTLE_SECONDS` (an order moves its
record several times within a second: sent, answered, filled), one read at a time, through the
shared rate limiter.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime

import redis

from shared.infra.redis_keys import Keys
from shared.kis.errors import KisError
from shared.kis.models import BuyableCash
from shared.state.account_cash import remember_orderable_cash
from shared.state.cash_ahead import CashAhead, cash_generation, keep, redis_epoch, valid_ahead

log = logging.getLogger(__name__)

LOOK_SECONDS = 0.2
"""How often the thread looks for a missing or stale answer, in real seconds."""
SETTLE_SECONDS = 1.0
"""The cash generation must have stood still this long (real seconds) before a read."""
ERROR_PAUSE_SECONDS = 10.0
"""Real seconds to wait after a read failed (a buy meanwhile asks KIS itself): a code KIS
refuses must not take every other slot at paper's rate."""

BuyableReader = Callable[[str, int], BuyableCash]
"""``inquire-psbl-order`` of a code at a limit price (``KisClient.buyable_cash``)."""
WantedLimits = Callable[[], Mapping[int, str]]
"""The limit prices to hold an answer for now, each with a code to ask with (empty: none)."""


class CashReader:
    """Keeps a valid answer for every wanted limit price, on a thread of its own."""

    def __init__(
        self,
        client: redis.Redis,
        keys: Keys,
        read: BuyableReader,
        wanted: WantedLimits,
        now: Callable[[], datetime],
    ) -> None:
        self._redis = client
        self._keys = keys
        self._read = read
        self._wanted = wanted
        self._now = now
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._generation = -1
        self._changed = 0.0
        self.reads = 0
        """Answers read so far (for logs and tests)."""

    def activate(self, active: bool) -> None:
        """Start the thread when ``active``, stop it when not."""
        if active and self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name="scheduler-cash-ahead", daemon=True
            )
            self._thread.start()
        elif not active and self._thread is not None:
            self._stop.set()
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(LOOK_SECONDS):
            try:
                self.look()
            except (redis.RedisError, KisError) as e:
                log.warning("buyable cash not read ahead: %s", e)
                self._stop.wait(ERROR_PAUSE_SECONDS)
            except Exception:
                log.exception("reading the buyable cash ahead failed; going on")
                self._stop.wait(ERROR_PAUSE_SECONDS)

    def look(self) -> bool:
        """Read one missing or stale answer when the cash has settled; whether one was read."""
        wanted = self._wanted()
        if not wanted:
            return False
        generation = cash_generation(self._redis, self._keys)
        if generation != self._generation:
            self._generation, self._changed = generation, time.monotonic()
        if time.monotonic() - self._changed < SETTLE_SECONDS:
            return False
        for limit in sorted(wanted):
            if valid_ahead(self._redis, self._keys, limit) is not None:
                continue
            code = wanted[limit]
            # The generation before the request: a change while it is on the way makes it stale.
            before = cash_generation(self._redis, self._keys)
            answer = self._read(code, limit)
            keep(
                self._redis,
                self._keys,
                CashAhead(limit, code, before, redis_epoch(self._redis), answer),
            )
            remember_orderable_cash(self._redis, self._keys, answer.orderable_cash, self._now())
            self.reads += 1
            log.info(
                "buyable cash read ahead at %d (%s): %d shares, orderable cash %d",
                limit,
                code,
                answer.buy_quantity,
                answer.orderable_cash,
            )
            return True
        return False
