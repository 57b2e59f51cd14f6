"""Notice that a running session's state is gone from Redis, and make trading safe again.

See docs/ARCHITECTURE.md, 'When our state is lost'. The planner writes the session's sentinel
with the day's plan at pre-market. When it vanishes while the scheduler runs (Redis restarted
empty), or when a scheduler starting late finds orders at KIS that our records lack, the
session's entries stop (a plan that may be gone must not open new positions), the user is told
once, positions of earlier sessions come back from the last export, and the executor is asked
to reconcile: it adopts KIS's orders with their fills, so exits go on by the rules.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import redis

from services.scheduler.metering import KisReader
from services.scheduler.notices import Notifier
from shared.infra.redis_keys import Keys
from shared.messaging.events import EntriesStopped
from shared.messaging.queues import enqueue_reconcile
from shared.state.control import stop_entries
from shared.state.order_book import OrderBook
from shared.state.positions import PositionLedger

log = logging.getLogger(__name__)


class StateWatch:
    """Checks each cycle that the session's sentinel is still there; reacts once if not."""

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
        message = f"{reason}; no new buys today, sells go on"
        if stop_entries(self._redis, self._keys, session, message):
            log.error("entries stopped for %s: %s", session, message)
            self._notify(EntriesStopped(session=session, message=message))
        enqueue_reconcile(self._redis, session.isoformat(), why="state lost")
        held = {code: h.quantity for code, h in self._kis.balance().held().items()}
        restored = self._ledger.restore_from_export(self._export_folder, held)
        if restored:
            log.warning("positions restored from the last export: %s", ", ".join(restored))
