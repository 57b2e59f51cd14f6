"""Fills and cancels: every change that what KIS reports (or proves absent) makes to an order.

See docs/ARCHITECTURE.md, 'Fills and the ledger' and 'Reconciliation'. Placing (one order, right
after its POST), reconciliation (every order of a session) and realtime fill notices all write an
order's outcome through this module, so each step has one home:

- :meth:`Fills.record_progress`: KIS's execution row of an accepted order -> its fills;
  :meth:`Fills.record_notices`: the order's realtime fill notices -> its fills; both through
  :meth:`Fills.write_fills`, the one writer of an order's fills;
- :meth:`Fills.apply`: those fills -> the position ledger, exactly once, and the notification;
- :meth:`Fills.settle` / :meth:`Fills.settle_one`: an order whose POST answer was lost is found at
  KIS (adopted with its fills) or proven absent (back to ``pending``, or cancelled too late);
- :meth:`Fills.waiting`: an accepted order KIS holds for an auction (the closing call, a
  volatility interruption) is marked as waiting, and the user told once;
- :meth:`Fills.cancel`: an order that must not be sent is cancelled, and the user told;
  :meth:`Fills.cancel_remainder`: the unfilled rest of a limit buy is cancelled at KIS;
- :meth:`Fills.adopt_orphan`: an order KIS has and we have no record of (our state was lost) is
  recorded with its fills, under the intent id that keeps the scheduler from placing it again.

Every change is a compare-and-set on the order record, decided from the record as stored
(``OrderBook.update``): what KIS reports is compared with the record each time it is read, so a
writer that read an older record can never take filled shares back. Fills reach the ledger through
``apply_fills``, so a second pass over the same facts changes nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Any

from services.executor.context import Context
from services.executor.matching import (
    Progress,
    absence_proven,
    could_answer,
    match_unsettled,
    notice_progress,
    progress,
    row_for,
)
from shared.kis.errors import KisError, KisRejected
from shared.kis.models import Execution, OrderAck, Side
from shared.messaging.events import (
    notify,
    order_accepted,
    order_cancelled,
    order_filled,
    order_waiting,
)
from shared.state.order_book import BrokerOrderTaken, Change
from shared.state.positions import FillApplied
from shared.trading.auctions import Auction, filled_note, waiting_note
from shared.trading.orders import (
    AT_BROKER,
    UNSETTLED,
    OrderIntent,
    OrderRecord,
    OrderStatus,
    Reason,
    order_id,
)

log = logging.getLogger(__name__)

SESSION_OVER = "its session is over: an order is never sent on a later day"
"""Why a pending order of a past session is cancelled instead of sent."""
HALTED = "halted by operator"
"""Why a pending order is cancelled while the system is halted."""


class Fills:
    """Writes orders' outcomes; one per job or pass (it counts the fills it applied)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.book = ctx.book
        self.applied = 0
        """How many times :meth:`apply` wrote fills to the ledger."""

    # Fills -----------------------------------------------------------------------------------
    def record_progress(self, record: OrderRecord, row: Execution) -> OrderRecord:
        """Write KIS's execution ``row`` to an order KIS has, then to the ledger; the record."""
        self.write_fills(record.id, lambda current: progress(current, row))
        return self.book.get(record.id) or record

    def record_notices(self, order_id: str, filled: int, amount: int) -> OrderRecord | None:
        """Write realtime fill notices totalling ``filled`` shares for ``amount`` won to an order
        KIS has, then to the ledger; the new record, or None when they bring nothing new."""
        return self.write_fills(order_id, lambda current: notice_progress(current, filled, amount))

    def write_fills(
        self, order_id: str, step: Callable[[OrderRecord], Progress | None]
    ) -> OrderRecord | None:
        """Move an order KIS has (``accepted``, ``partially_filled``) to what ``step`` makes of it
        as stored now, then write its new shares to the ledger; None when nothing changed.

        ``step`` is evaluated on every read of the compare-and-set, so fills written by another
        writer meanwhile (a notice during an executions read) are compared with, never replaced.
        """
        updated = self.book.update(order_id, _fills_change(AT_BROKER, step))
        current = updated or self.book.get(order_id)
        if current is not None:
            self.apply(current)
        return updated

    def apply(self, record: OrderRecord, *, tell: bool = True) -> FillApplied | None:
        """Write the order's new fills to the ledger (once) and say so (unless not ``tell``)."""
        applied = self.ctx.ledger.apply_fills(record.id)
        if applied is None:
            return None
        self.applied += 1
        order = applied.order
        log.info(
            "%s %s x%d filled at %s (%s)",
            order.intent.side.label,
            order.intent.code,
            order.filled_quantity,
            order.average_fill_price,
            order.id,
        )
        if tell:
            notify(self.ctx.redis, order_filled(order, applied.realized), self.ctx.keys)
        return applied

    # Auctions --------------------------------------------------------------------------------
    def waiting(self, record: OrderRecord, auction: Auction) -> OrderRecord:
        """Mark an order KIS has as waiting for ``auction`` and say so, once; the record.

        Nothing else changes: the order stays at KIS, is neither cancelled nor sent again, and
        its fills arrive as any order's do (docs/ARCHITECTURE.md, 'Auctions and volatility
        interruptions').
        """

        def change(current: OrderRecord) -> Change | None:
            if current.status not in AT_BROKER or current.waiting_for == auction.value:
                return None
            note = waiting_note(auction)
            return current.status, {"waiting_for": auction.value, "error_message": note}

        marked = self.book.update(record.id, change)
        if marked is None:
            return self.book.get(record.id) or record
        log.info("order %s %s", record.id, marked.error_message)
        notify(self.ctx.redis, order_waiting(marked, auction), self.ctx.keys)
        return marked

    # Cancels ---------------------------------------------------------------------------------
    def cancel(
        self,
        record: OrderRecord,
        message: str,
        expected: OrderStatus | Iterable[OrderStatus] = OrderStatus.PENDING,
        *,
        announce: bool = True,
    ) -> OrderRecord | None:
        """``expected`` -> ``cancelled`` with ``message``, and say so; None if it moved first.

        ``announce=False`` leaves the notification to the caller (a money limit says it once
        for every order it stops).
        """
        cancelled = self.book.transition(
            record.id, expected, OrderStatus.CANCELLED, error_message=message
        )
        if cancelled is not None:
            log.warning("order %s cancelled: %s", record.id, message)
            if announce:
                notify(self.ctx.redis, order_cancelled(cancelled, "", message), self.ctx.keys)
        return cancelled

    def cancel_remainder(self, record: OrderRecord, why: str) -> OrderRecord:
        """Cancel what KIS has not filled of a working order, then close its record.

        A remainder already filled (KIS refuses the cancel) is left to the fills; an unknown
        cancel outcome leaves the order working, which a limit order makes harmless: it cannot
        fill above its price. Either way reconciliation reads the fills that follow.
        """
        ack = OrderAck(record.broker_order_no, record.broker_branch_no, "")
        try:
            self.ctx.client.cancel(ack)
        except KisRejected as e:
            log.info("order %s: nothing left to cancel (%s)", record.id, e.msg_cd or e)
            return self.book.get(record.id) or record
        except KisError as e:
            log.warning("order %s: cancelling its remainder failed: %s", record.id, e)
            return self.book.get(record.id) or record
        intent = record.intent
        rows = self.ctx.client.daily_executions(
            intent.session, code=intent.code, side=intent.side, order_no=record.broker_order_no
        )
        row = row_for(record.broker_order_no, rows)
        if row is not None:
            record = self.record_progress(record, row)
        left = record.order_quantity - record.filled_quantity
        message = (
            f"{record.filled_quantity} of {record.order_quantity} bought; the remaining {left} "
            f"cancelled: {why}"
        )
        return self.cancel(record, message, AT_BROKER) or self.book.get(record.id) or record

    # Orders KIS has and we do not -------------------------------------------------------------
    def adopt_orphan(self, row: Execution) -> OrderRecord | None:
        """Record KIS order ``row``, which no record of ours owns, with its fills; None if taken.

        A buy takes the day's entry id of its code when that id is free, so the scheduler never
        buys the pick again; anything else is ``adopted``. KIS is the source of truth: the order
        exists whatever our books said.
        """
        session = row.order_date
        reason = Reason.ADOPTED
        entry = order_id(session, row.code, Side.BUY, Reason.ENTRY)
        if row.side is Side.BUY and self.book.get(entry) is None:
            reason = Reason.ENTRY
        price_seen = row.order_price or int(row.average_fill_price)
        intent = OrderIntent(
            session, row.code, row.name, row.side, reason, row.order_quantity, price_seen
        )
        record = OrderRecord.new(intent, self.ctx.clock.now(), time.time())
        step = progress(record, row)
        assert step is not None  # a pending record always takes the row's state
        record = record.advanced(
            step.status,
            self.ctx.clock.now(),
            time.time(),
            broker_order_no=row.order_no,
            broker_branch_no=row.branch_no,
            broker_accepted_kst=row.placed_kst,
            filled_quantity=step.filled_quantity,
            average_fill_price=step.average_fill_price,
            error_message="found at KIS with no record of ours: adopted",
        )
        try:
            adopted = self.book.adopt(record)
        except BrokerOrderTaken:
            return None  # claimed meanwhile by its own record
        if adopted is None:
            log.error(
                "KIS order %s (%s %s x%d) matches no record and its id %s is taken",
                row.order_no,
                row.side.label,
                row.code,
                row.order_quantity,
                record.id,
            )
            return None
        log.warning("KIS order %s had no record: adopted as %s", row.order_no, adopted.id)
        # Not told again: its acceptance and the fills KIS had were told when they happened
        # (a Redis wiped since took the marks that would drop a second copy, so telling them
        # now would post them twice). Fills from now on are told as usual.
        self.apply(adopted, tell=False)
        return self.book.get(adopted.id) or adopted

    # Orders whose POST answer was lost -------------------------------------------------------
    def settle_one(self, order_id: str) -> OrderRecord | None:
        """Settle one unknown order now: found at KIS, or proven absent and back to ``pending``.

        If KIS does not list it yet, wait out the absence grace and read once more; the caller
        (the order's own job) sends it again only if it comes back ``pending``.
        """
        for read in range(2):
            record = self.book.get(order_id)
            if record is None or record.status not in UNSETTLED:
                return record
            read_at_epoch = time.time()
            rows = self.ctx.client.daily_executions(record.intent.session, code=record.intent.code)
            known = self.book.of_day(record.intent.session)
            outcome = self.settle([record], rows, read_at_epoch, known)
            if outcome[record.id] is not None:
                return outcome[record.id]
            wait = record.touched_epoch + self.ctx.absence_grace_seconds - time.time()
            if read == 0 and wait > 0:
                log.info("order %s not at KIS yet; looking again in %.1fs", order_id, wait)
                time.sleep(wait)
        return self.book.get(order_id)

    def settle_one_or_leave(self, order_id: str) -> OrderRecord | None:
        """:meth:`settle_one`, leaving the order ``unknown`` when KIS cannot be read now."""
        try:
            return self.settle_one(order_id)
        except KisError as e:
            log.error("order %s left unknown, KIS executions unreadable now: %s", order_id, e)
            return None

    def settle(
        self,
        unsettled: Sequence[OrderRecord],
        rows: Sequence[Execution],
        read_at_epoch: float,
        known: Sequence[OrderRecord],
    ) -> dict[str, OrderRecord | None]:
        """Each unsettled record's new state by id, or None when it is still undecided."""
        if not unsettled:
            return {}
        matches = match_unsettled(unsettled, rows, self._owners(unsettled, rows, known))
        outcome: dict[str, OrderRecord | None] = {}
        for record in unsettled:
            row = matches[record.id]
            if row is not None:
                outcome[record.id] = self._adopt(record, row)
            elif absence_proven(record, read_at_epoch, self.ctx.absence_grace_seconds):
                outcome[record.id] = self._absent(record)
            else:
                outcome[record.id] = None
        return outcome

    def _owners(
        self,
        unsettled: Sequence[OrderRecord],
        rows: Sequence[Execution],
        known: Sequence[OrderRecord],
    ) -> dict[str, str]:
        """Who already owns each KIS order number an unsettled record could match."""
        owners = {r.broker_order_no: r.id for r in known if r.broker_order_no}
        session = unsettled[0].intent.session
        for row in rows:
            if any(could_answer(record, row) for record in unsettled):
                owner = self.book.broker_owner(session, row.order_no)
                if owner is not None:
                    owners[row.order_no] = owner
        return owners

    def _adopt(self, record: OrderRecord, row: Execution) -> OrderRecord | None:
        """The order exists at KIS as ``row``: claim its number and take its fills."""
        found = _fills_change(
            UNSETTLED,
            lambda current: progress(current, row),
            broker_order_no=row.order_no,
            broker_branch_no=row.branch_no,
            broker_accepted_kst=row.placed_kst,
            error_code="",
            error_message="",
        )
        try:
            adopted = self.book.update(record.id, found)
        except BrokerOrderTaken:
            log.warning("KIS order %s was claimed by another order meanwhile", row.order_no)
            return None
        if adopted is None:
            return None
        log.info("order %s found at KIS as %s (%s)", record.id, row.order_no, adopted.status)
        notify(self.ctx.redis, order_accepted(adopted, reconciled=True), self.ctx.keys)
        self.apply(adopted)
        return self.book.get(record.id) or adopted

    def _absent(self, record: OrderRecord) -> OrderRecord | None:
        """KIS provably never got the order: ready to send again, or cancelled if too late."""
        if record.intent.session < self.ctx.clock.now().date():
            return self.cancel(record, f"not found at KIS and {SESSION_OVER}", UNSETTLED)
        pending = self.book.transition(
            record.id,
            UNSETTLED,
            OrderStatus.PENDING,
            error_message="not found at KIS: it will be sent again",
        )
        if pending is not None:
            log.warning("order %s never reached KIS; back to pending", record.id)
        return pending


def _fills_change(
    statuses: Collection[OrderStatus],
    step: Callable[[OrderRecord], Progress | None],
    **more: Any,
) -> Callable[[OrderRecord], Change | None]:
    """The compare-and-set change that writes ``step``'s fills (and ``more``) to a record in one
    of ``statuses``, decided from the record as stored each time it is read."""

    def change(current: OrderRecord) -> Change | None:
        if current.status not in statuses:
            return None
        found = step(current)
        if found is None:
            return None
        fields = {
            "filled_quantity": found.filled_quantity,
            "average_fill_price": found.average_fill_price,
            **more,
        }
        if current.waiting_for and found.filled_quantity > current.filled_quantity:
            # The auction it waited for filled it: the note says so instead of the wait.
            fields["error_message"] = filled_note(Auction(current.waiting_for))
            if found.status is OrderStatus.FILLED:
                fields["waiting_for"] = ""
        return found.status, fields

    return change
