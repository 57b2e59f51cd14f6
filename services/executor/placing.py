"""Send one order record to KIS exactly once and follow it to its fills.

See docs/ARCHITECTURE.md, 'Orders' and 'Resending and unknown outcomes'. Read top to bottom:
:meth:`Placer.place` checks the gate and the money limits (docs/ARCHITECTURE.md, 'Money limits'),
takes the record ``pending -> submitting``, sends one POST and
files KIS's answer; fills, cancels and lost answers are written by :mod:`services.executor.fills`.

Every POST is preceded by a successful ``pending -> submitting`` compare-and-set, and a record
gets back to ``pending`` only when KIS provably has nothing (a temporary error raised before the
order reached it, or a reconciliation that did not find it). So however many jobs run for one
order, at most one POST is ever in flight and none is sent while an earlier one may exist.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta

from services.executor.context import Context
from services.executor.fills import HALTED, SESSION_OVER, Fills
from services.executor.matching import NEEDS_OPERATOR, row_for
from shared.infra.backoff import backoff_delay
from shared.kis.errors import (
    KisAuthError,
    KisError,
    KisOutcomeUnknown,
    KisRejected,
    KisTemporaryError,
)
from shared.kis.models import OrderAck, OrderRequest, Side, broker_time_kst
from shared.messaging.events import (
    notify,
    order_accepted,
    order_error,
    order_rejected,
    order_unknown,
)
from shared.state.account_cash import remember_orderable_cash
from shared.state.cash_ahead import valid_ahead
from shared.state.order_book import BrokerOrderTaken
from shared.trading.auctions import Auction, auction_at
from shared.trading.orders import AT_BROKER, OrderRecord, OrderStatus

log = logging.getLogger(__name__)

RESENDS = 3
"""Resends of an order KIS did not take because of a temporary error: on top of the client's own
retries, so few and soon (:func:`resend_delays`)."""
FRESH_DECISION = timedelta(seconds=2)
"""A buy sent within this much market time of its decision goes without reading the price
again; an older one (retried, queued behind an outage) is checked against its floor first."""
FILL_POLLS = 3
"""Executions reads after KIS accepts an order (market orders usually fill at once)."""
FILL_POLL_SECONDS = 0.2
"""Real seconds between two of those reads."""


def resend_delays(first: float) -> tuple[float, ...]:
    """The waits before each of the :data:`RESENDS`, in real seconds: twice
    ``KIS_RETRY_BACKOFF_SECONDS`` (``first``), doubling (0.5, 1 and 2 s by default)."""
    return tuple(backoff_delay(n, 2 * first) for n in range(1, RESENDS + 1))


class Placer:
    """Places order records; one per process is enough (it holds no per-order state)."""

    def __init__(self, ctx: Context, sleep: Callable[[float], None] = time.sleep) -> None:
        self.ctx = ctx
        self.book = ctx.book
        self.fills = Fills(ctx)
        self._sleep = sleep
        self.retry_delays = resend_delays(ctx.settings.kis_retry_backoff_seconds)

    def place(self, order_id: str) -> OrderStatus | None:
        """Send the order if it is ``pending`` and allowed; its status afterwards (None: no record).

        A paused system leaves the order ``pending`` without sending it: after resume, the
        scheduler (or reconciliation, for pending orders older than ORDER_STALE_SECONDS) queues
        it again.
        """
        record = self.book.get(order_id)
        if record is None:
            log.error("no order record %s: nothing to send", order_id)
            return None
        if record.status is not OrderStatus.PENDING:
            log.info("order %s is already %s: not sending it", order_id, record.status.value)
            return record.status
        for attempt in range(len(self.retry_delays) + 1):
            if attempt:
                self._sleep(self.retry_delays[attempt - 1])
            stopped = self._gate(record)
            if stopped is not None:
                return stopped
            record, again = self._send(record)
            if record.status is not OrderStatus.PENDING or not again:
                return record.status
        message = f"KIS did not take the order after {len(self.retry_delays) + 1} tries"
        log.error("order %s left pending: %s (%s)", order_id, message, record.error_message)
        detail = f"{message}: {record.error_message}"
        notify(self.ctx.redis, order_error(record, record.error_code, detail), self.ctx.keys)
        return OrderStatus.PENDING

    # Steps -------------------------------------------------------------------------------------
    def _gate(self, record: OrderRecord) -> OrderStatus | None:
        """Checked right before every POST: None to go ahead, else the status to stop with."""
        if record.intent.session < self.ctx.clock.now().date():
            return self._status_after(record, self.fills.cancel(record, SESSION_OVER))
        if self.ctx.controls.halted:
            return self._status_after(record, self.fills.cancel(record, HALTED))
        if self.ctx.controls.paused:
            log.info("paused: order %s stays pending and is not sent", record.id)
            return OrderStatus.PENDING
        return None

    def _send(self, record: OrderRecord) -> tuple[OrderRecord, bool]:
        """One POST; the record afterwards and whether trying again may help."""
        allowed = self.ctx.limits.shares(record)
        if allowed.refusal:
            return self._refused(record, allowed.refusal), False
        try:
            fallen = self._under_floor(record)
            quantity = self._affordable(record, allowed.quantity)
            price = self._closing_call_limit(record)
        except KisError as e:
            log.warning("order %s not sent, price or buyable quantity unreadable: %s", record.id, e)
            return self.book.get(record.id) or record, True
        if fallen is not None:
            message = (
                f"the price {fallen} fell under the target {record.intent.floor_price} "
                "since the decision: not bought"
            )
            log.warning("order %s cancelled: %s", record.id, message)
            return self.fills.cancel(record, message) or self.book.get(record.id) or record, False
        if quantity <= 0:
            message = f"KIS allows no share at {record.intent.limit_price} won with the cash left"
            return self.fills.cancel(record, message) or self.book.get(record.id) or record, False
        refusal = self.ctx.limits.reserve(record)
        if refusal:
            return self._refused(record, refusal), False
        taken = self.book.transition(
            record.id,
            OrderStatus.PENDING,
            OrderStatus.SUBMITTING,
            submitted_epoch=time.time(),
            attempts=record.attempts + 1,
            sent_quantity=quantity if quantity < record.intent.quantity else 0,
            sent_price=price,
            error_code="",
            error_message="",
        )
        if taken is None:
            current = self.book.get(record.id) or record
            log.info("order %s was taken by another job (%s)", record.id, current.status.value)
            if current.status is OrderStatus.CANCELLED and not current.broker_order_no:
                self.ctx.limits.release(current)  # cancelled before any POST
            return current, False
        request = order_request(taken)
        log.info("sending %s (%s, try %d)", request.describe(), taken.id, taken.attempts)
        try:
            ack = self.ctx.client.place(request)
        except KisRejected as e:
            return self._rejected(taken, e), False
        except KisTemporaryError as e:
            log.warning("order %s not sent, KIS unavailable: %s", taken.id, e)
            self.ctx.limits.release(taken)
            return self._back_to_pending(taken, e), True
        except KisAuthError as e:
            # Refused at KIS's gateway, so nothing was placed; only a person can fix credentials.
            log.error("order %s not sent, KIS refused our credentials: %s", taken.id, e)
            self.ctx.limits.release(taken)
            back = self._back_to_pending(taken, e)
            notify(self.ctx.redis, order_error(back, e.msg_cd, str(e)), self.ctx.keys)
            return back, False
        except KisOutcomeUnknown as e:
            return self._unknown(taken, e), True
        except Exception as e:
            # Anything else happened with the POST possibly sent: only reconciliation may say.
            self._mark_unknown(taken, "", f"unexpected error while sending: {e!r}")
            raise
        return self._accepted(taken, ack), False

    def _refused(self, record: OrderRecord, why: str) -> OrderRecord:
        """A money limit stops the order before any POST: cancelled; a buy's is said once by the
        limit, a second sell of a position with its own cancellation notice."""
        log.warning("order %s not sent: %s", record.id, why)
        announce = record.intent.side is Side.SELL
        cancelled = self.fills.cancel(record, why, announce=announce)
        return cancelled or self.book.get(record.id) or record

    def _under_floor(self, record: OrderRecord) -> int | None:
        """The current price when an entry buy's price is now under its floor (the pick's
        target), else None: a decision delayed past a fall must not buy what the rules would
        not (docs/ARCHITECTURE.md, 'Chaos run')."""
        floor = record.intent.floor_price
        if record.intent.side is not Side.BUY or floor is None:
            return None
        if self.ctx.clock.now() - record.created_kst < FRESH_DECISION:
            return None  # the price that decided it is the current one: no read on the way
        price = self.ctx.client.current_price(record.intent.code).price
        return price if price < floor else None

    def _affordable(self, record: OrderRecord, allowed: int) -> int:
        """Shares to send: at most ``allowed`` (the money limits), and for a limit buy never
        more than KIS's cash allows at its limit.

        KIS checks a buy's cash against its price (a market buy's against the day's upper limit),
        so the quantity comes from ``inquire-psbl-order`` at the limit right before the POST:
        the plan's quantity when the cash is there, as many as it allows when it is not. The
        scheduler's answer read ahead at that limit stands in for the request while it is still
        valid (docs/ARCHITECTURE.md, 'The cash read ahead'): a buy decided on a tick then costs
        one request, its POST.
        """
        intent = record.intent
        if intent.side is not Side.BUY or intent.limit_price is None:
            return allowed
        ahead = valid_ahead(self.ctx.redis, self.ctx.keys, intent.limit_price)
        if ahead is not None:
            buyable = ahead.buyable
            log.info("order %s: buyable cash at %d read ahead", record.id, intent.limit_price)
        else:
            buyable = self.ctx.client.buyable_cash(intent.code, intent.limit_price)
            remember_orderable_cash(
                self.ctx.redis, self.ctx.keys, buyable.orderable_cash, self.ctx.clock.now()
            )
        if buyable.buy_quantity < allowed:
            log.warning(
                "order %s: KIS allows %d of %d shares at %d (orderable cash %d)",
                record.id,
                buyable.buy_quantity,
                allowed,
                intent.limit_price,
                buyable.orderable_cash,
            )
        return min(allowed, buyable.buy_quantity)

    def _closing_call_limit(self, record: OrderRecord) -> int:
        """The limit a market order must carry when it is sent in the closing call, else 0.

        KIS takes only limit orders in the closing call (its ``APBK3013`` text). A sell limited
        at the day's lower limit is crossed by any closing price, so it fills in full at the
        closing auction's one price, as the market sell would have (one price read). A market
        buy is never sent (entry buys are limit orders).
        """
        intent = record.intent
        if intent.limit_price is not None or intent.side is not Side.SELL:
            return 0
        session = self.ctx.calendar.session(intent.session)
        if auction_at(self.ctx.clock.now(), session, vi=False) is not Auction.CLOSING:
            return 0
        lowest = self.ctx.client.current_price(intent.code).lower_limit
        log.info(
            "order %s: in the closing call, sent as a limit at the lower limit %d",
            record.id,
            lowest,
        )
        return lowest

    def _rejected(self, taken: OrderRecord, error: KisRejected) -> OrderRecord:
        message = error.msg1 or str(error)
        rejected = self.book.transition(
            taken.id,
            OrderStatus.SUBMITTING,
            OrderStatus.REJECTED,
            error_code=error.msg_cd,
            error_message=message,
        )
        record = rejected or self.book.get(taken.id) or taken
        log.warning("order %s rejected by KIS: %s %s", taken.id, error.msg_cd, message)
        if rejected is not None:
            notify(self.ctx.redis, order_rejected(rejected, error.msg_cd, message), self.ctx.keys)
        return record

    def _back_to_pending(self, taken: OrderRecord, error: KisError) -> OrderRecord:
        back = self.book.transition(
            taken.id,
            OrderStatus.SUBMITTING,
            OrderStatus.PENDING,
            error_code=error.msg_cd,
            error_message=str(error),
        )
        return back or self.book.get(taken.id) or taken

    def _unknown(self, taken: OrderRecord, error: KisOutcomeUnknown) -> OrderRecord:
        """The answer was lost: reconcile this order before anything else is sent for it."""
        unknown = self._mark_unknown(taken, error.msg_cd, str(error))
        if unknown is None:
            return self.book.get(taken.id) or taken
        settled = self.fills.settle_one_or_leave(taken.id)
        return settled or self.book.get(taken.id) or unknown

    def _mark_unknown(
        self, taken: OrderRecord, code: str, message: str, *, operator: bool = False
    ) -> OrderRecord | None:
        unknown = self.book.transition(
            taken.id,
            OrderStatus.SUBMITTING,
            OrderStatus.UNKNOWN,
            error_code=NEEDS_OPERATOR if operator else code,
            error_message=message,
        )
        if unknown is not None:
            log.warning("order %s outcome unknown: %s", taken.id, message)
            notify(self.ctx.redis, order_unknown(unknown, code, message), self.ctx.keys)
        return unknown

    def _accepted(self, taken: OrderRecord, ack: OrderAck) -> OrderRecord:
        try:
            accepted = self.book.transition(
                taken.id,
                OrderStatus.SUBMITTING,
                OrderStatus.ACCEPTED,
                broker_order_no=ack.order_no,
                broker_branch_no=ack.branch_no,
                broker_accepted_kst=broker_time_kst(taken.intent.session, ack.order_time),
            )
        except BrokerOrderTaken as e:
            # KIS gave us a number another record owns: our books are wrong somewhere. Reconciling
            # could read this as absence and resend, so the order is parked for a person.
            log.error("order %s: KIS order %s %s", taken.id, ack.order_no, e)
            message = f"KIS accepted it as order {ack.order_no}, which another order owns"
            return self._mark_unknown(taken, "", message, operator=True) or taken
        if accepted is None:
            current = self.book.get(taken.id) or taken
            log.warning("order %s moved to %s while sending", taken.id, current.status.value)
            return current
        log.info("order %s accepted by KIS as %s", taken.id, ack.order_no)
        notify(self.ctx.redis, order_accepted(accepted), self.ctx.keys)
        return self._follow(accepted)

    def _follow(self, record: OrderRecord) -> OrderRecord:
        """Read the order's fills a few times; a limit buy's unfilled rest is then cancelled.

        A market order usually fills at once; what it has not shown yet, reconciliation reads.
        A limit buy waits at most BUY_LIMIT_WAIT_SECONDS: past that, the price has left the band
        and the rest is cancelled (docs/ARCHITECTURE.md, 'Market orders and cash'). An order
        still unfilled after the first reads because KIS holds it for an auction (the closing
        call, a volatility interruption) is marked as waiting and left working, a limit buy
        too: its auction may fill it, and reconciliation follows it from there
        (docs/ARCHITECTURE.md, 'Auctions and volatility interruptions').
        """
        limit_buy = record.intent.side is Side.BUY and record.intent.limit_price is not None
        wait = self.ctx.buy_limit_wait_seconds if limit_buy else 0.0
        deadline = time.monotonic() + wait
        poll = 0
        looked_for_auction = False
        while True:
            if poll:
                self._sleep(FILL_POLL_SECONDS)
            poll += 1
            try:
                rows = self.ctx.client.daily_executions(
                    record.intent.session,
                    code=record.intent.code,
                    side=record.intent.side,
                    order_no=record.broker_order_no,
                )
            except KisError as e:
                log.warning("fills of order %s unreadable now: %s", record.id, e)
                return record
            row = row_for(record.broker_order_no, rows)
            if row is not None:
                record = self.fills.record_progress(record, row)
            if record.status not in AT_BROKER:
                return record
            if poll >= FILL_POLLS and not looked_for_auction:
                looked_for_auction = True
                auction = self._auction(record)
                if auction is not None:
                    return self.fills.waiting(record, auction)
            if poll >= FILL_POLLS and time.monotonic() >= deadline:
                break
        if limit_buy:
            why = f"the price stayed above {record.intent.limit_price} won for {wait:g}s"
            record = self.fills.cancel_remainder(record, why)
        return record

    def _auction(self, record: OrderRecord) -> Auction | None:
        """The auction KIS holds ``record`` for now, if any: the clock tells the opening and
        closing calls, the code's quote a volatility interruption (one price read)."""
        session = self.ctx.calendar.session(record.intent.session)
        now = self.ctx.clock.now()
        auction = auction_at(now, session, vi=False)
        if auction is not None:
            return auction
        try:
            quote = self.ctx.client.current_price(record.intent.code)
        except KisError as e:
            log.warning("order %s: its quote is unreadable now: %s", record.id, e)
            return None
        return auction_at(now, session, vi=quote.vi)

    def _status_after(self, record: OrderRecord, changed: OrderRecord | None) -> OrderStatus:
        if changed is not None:
            return changed.status
        current = self.book.get(record.id)
        return current.status if current else record.status


def order_request(record: OrderRecord) -> OrderRequest:
    """The KIS order that carries out ``record``: its quantity, at its limit (None: market),
    or at the limit a market sell in the closing call was given (``sent_price``)."""
    intent = record.intent
    limit = intent.limit_price if intent.limit_price is not None else record.sent_price or None
    return OrderRequest(intent.code, intent.side, record.order_quantity, limit)
