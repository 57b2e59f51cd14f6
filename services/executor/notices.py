"""Realtime fill notices: a fill marked on its order record and the ledger the moment KIS says so.

See docs/ARCHITECTURE.md, 'The price and fill stream'. The scheduler's stream queues every fill
notice (``shared.messaging.queues.enqueue_fill_notice``); this job keeps it in Redis per KIS order
(one field per fill, so a notice seen twice is kept once), sums the order's notices and moves the
record forward only when they count more shares than it has, through :class:`Fills` like every
other writer of an order's fills. The daily executions stay the
reconciliation of record: they only ever add what the notices did not bring (a lost notice),
and the ledger takes each share once whichever path reported it first.
"""

from __future__ import annotations

import logging
import time
from datetime import date

from services.executor.context import Context
from services.executor.fills import Fills
from shared.infra.redis_keys import SESSION_RETENTION_SECONDS, text
from shared.kis.stream_frames import FillNotice

log = logging.getLogger(__name__)

OWNER_WAIT_SECONDS = 5.0
"""A notice can outrun the placing job's record of the KIS order number: wait this long for it."""
OWNER_POLL_SECONDS = 0.1


class FillNotices:
    """Applies fill notices to order records through :class:`Fills`."""

    def __init__(self, ctx: Context, owner_wait_seconds: float = OWNER_WAIT_SECONDS) -> None:
        self.ctx = ctx
        self.fills = Fills(ctx)
        self.owner_wait_seconds = owner_wait_seconds

    def apply(self, notice: FillNotice) -> str:
        """Record the notice and bring its order up to every notice of it; what happened:
        ``applied``, ``counted`` (nothing new), ``unmatched`` (no record owns the order number:
        the executions settle it) or ``ignored`` (not a fill)."""
        if not notice.filled or notice.refused or notice.quantity <= 0:
            return "ignored"
        session = self.ctx.clock.now().date()
        key = self.ctx.keys.fill_notices(session, notice.order_no)
        field = f"{notice.hhmmss}|{notice.quantity}|{notice.price}"
        pipe = self.ctx.redis.pipeline()
        pipe.hsetnx(key, field, f"{notice.quantity}|{notice.price}")
        pipe.expire(key, SESSION_RETENTION_SECONDS)
        pipe.execute()
        owner = self._owner(session, notice.order_no)
        if owner is None or self.ctx.book.get(owner) is None:
            log.info("fill notice for KIS order %s: no record owns it (yet)", notice.order_no)
            return "unmatched"
        filled, amount = self._totals(key)
        updated = self.fills.record_notices(owner, filled, amount)
        if updated is None:
            return "counted"
        log.info(
            "fill notice: order %s now %d of %d filled",
            owner,
            updated.filled_quantity,
            updated.order_quantity,
        )
        return "applied"

    def _owner(self, session_day: date, order_no: str) -> str | None:
        deadline = time.monotonic() + self.owner_wait_seconds
        while True:
            owner = self.ctx.book.broker_owner(session_day, order_no)
            if owner is not None or time.monotonic() >= deadline:
                return owner
            time.sleep(OWNER_POLL_SECONDS)

    def _totals(self, key: str) -> tuple[int, int]:
        filled = amount = 0
        for value in self.ctx.redis.hvals(key):
            qty, price = (int(part) for part in text(value).split("|"))
            filled += qty
            amount += qty * price
        return filled, amount
