"""Notice that a running session's state is gone from Redis, rebuild it from KIS, go on.

See docs/ARCHITECTURE.md, 'When our state is lost'. The planner writes the session's sentinel
with the day's plan. When it vanishes while the scheduler runs (Redis restarted empty), or when
a scheduler starting late finds orders at KIS that our records lack, the user is told once, the
executor is asked to reconcile (it adopts KIS's orders with their fills, so a pick already bought
is never bought again and its position exits by the rules), positions of earlier sessions that
KIS still holds come back from the last export, and new buys wait until a whole reconciliation
that began after the loss has rebuilt the day's orders. Then the day's plan goes on. While KIS's
orders cannot be read, no such pass completes and new buys keep waiting; sells go on.
"""

from __future__ import annotations

import logging
import time
from datetime import date
from pathlib import Path

import redis

from services.scheduler.metering import KisReader
from services.scheduler.notices import Notifier, first_time
from shared.infra.redis_keys import SESSION_RETENTION_SECONDS, Keys
from shared.messaging.events import ServiceError
from shared.messaging.queues import enqueue_reconcile
from shared.state.order_book import OrderBook
from shared.state.positions import PositionLedger
from shared.state.reconciled import reconciled_epoch

log = logging.getLogger(__name__)

ASK_AGAIN_SECONDS = 10.0
"""While rebuilding, how often (real seconds) another reconciliation is asked for: a pass that
could not read KIS's orders leaves no mark, and nothing else would queue the next one."""


class StateWatch:
    """Checks each cycle that the session's sentinel is still there; rebuilds once if not."""

    def __init__(
        self,
        client: redis.Redis,
        keys: Keys,
        kis: KisReader,
        book: OrderBook,
        ledger: PositionLedger,
        export_folder: Path,
        notify: Notifier,
    ) -> None:
        self._redis = client
        self._keys = keys
        self._kis = kis
        self._book = book
        self._ledger = ledger
        self._export_folder = export_folder
        self._notify = notify
        self._seen: set[date] = set()
        """Sessions whose sentinel this process has seen."""
        self._looked_at_kis: set[date] = set()
        """Sessions whose orders at KIS this process compared with our records."""
        self._handled: set[date] = set()
        """Sessions whose lost state this process has reacted to."""
        self._lost_epoch: dict[date, float] = {}
        """Sessions being rebuilt: the real epoch at which the loss was noticed."""
        self._asked_epoch: dict[date, float] = {}
        """When a reconciliation was last asked for, per session being rebuilt."""

    def saw(self, session: date) -> None:
        """The planner just wrote the session's sentinel: from now on its absence is a loss."""
        self._seen.add(session)

    def check(self, session: date) -> str | None:
        """Why the session's state counts as lost (reacted to once, now), else None."""
        if session in self._handled:
            return None
        if self._redis.exists(self._keys.session_alive(session)):
            self._seen.add(session)
            return None
        reason: str | None = None
        if session in self._seen:
            reason = (
                f"the state of {session} vanished from Redis while trading (its sentinel is "
                "gone): our state was lost"
            )
        elif session not in self._looked_at_kis:
            self._looked_at_kis.add(session)
            reason = self._orders_only_at_kis(session)
        if reason is not None:
            self._handled.add(session)
            try:
                self._react(session, reason)
            except Exception:
                self._handled.discard(session)  # tried again next cycle (each step is idempotent)
                raise
        return reason

    def rebuilding(self, session: date) -> bool:
        """Whether new buys of ``session`` wait for its orders to be rebuilt from KIS."""
        lost = self._lost_epoch.get(session)
        if lost is None:
            return False
        done = reconciled_epoch(self._redis, self._keys, session)
        if done is not None and done >= lost:
            del self._lost_epoch[session]
            # Watched again from here: a second loss the same day is noticed like the first.
            self._redis.set(self._keys.session_alive(session), "1", ex=SESSION_RETENTION_SECONDS)
            self._handled.discard(session)
            self._seen.add(session)
            log.warning("the orders of %s were rebuilt from KIS: new buys go on", session)
            return False
        if time.time() - self._asked_epoch.get(session, 0.0) >= ASK_AGAIN_SECONDS:
            self._ask_reconcile(session)
        return True

    def _orders_only_at_kis(self, session: date) -> str | None:
        """A late start: does KIS already have orders of ``session`` our records lack?"""
        known = {r.broker_order_no for r in self._book.of_day(session)}
        rows = self._kis.daily_executions(session)
        unknown = [r for r in rows if r.order_no not in known]
        if not unknown:
            return None
        return (
            f"KIS has {len(unknown)} order(s) of {session} that our records lack: our state "
            "was lost"
        )

    def _react(self, session: date, reason: str) -> None:
        self._lost_epoch.setdefault(session, time.time())
        message = (
            f"{reason}; rebuilding the day from KIS's orders and balance: new buys wait until "
            "it is done, sells go on"
        )
        log.error("%s", message)
        if first_time(self._redis, self._keys.once("state-lost", session)):
            self._notify(ServiceError(message=message, service="scheduler", phase="state lost"))
        self._ask_reconcile(session)
        held = {code: h.quantity for code, h in self._kis.balance().held().items()}
        restored = self._ledger.restore_from_export(self._export_folder, held)
        if restored:
            log.warning("positions restored from the last export: %s", ", ".join(restored))

    def _ask_reconcile(self, session: date) -> None:
        self._asked_epoch[session] = time.time()
        enqueue_reconcile(self._redis, session.isoformat(), why="state lost")
