"""Reconcile whole sessions against KIS's daily executions and the order queues.

See docs/ARCHITECTURE.md, 'Reconciliation'. One executions read per session (all pages) answers
every question of a pass: lost answers and dead jobs are settled, fills of accepted orders recorded,
fills a crash left unapplied reach the ledger, and pending orders whose job was lost are queued
again (or cancelled when they must not run). The writes themselves are
:mod:`services.executor.fills`'s, shared with placing.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date

from rq.job import Job, JobStatus

from services.executor.context import SERVICE, Context
from services.executor.fills import HALTED, SESSION_OVER, Fills
from services.executor.matching import NEEDS_OPERATOR, needs_matching, orphans, row_for
from shared.kis.errors import KisError
from shared.kis.models import Execution, Side
from shared.messaging.queues import enqueue_order, fetch_job
from shared.state.control import died_here
from shared.state.reconciled import mark_reconciled
from shared.trading.auctions import Auction, auction_at
from shared.trading.orders import AT_BROKER, UNSETTLED, OrderRecord, OrderStatus

log = logging.getLogger(__name__)

DONE_JOB_STATUSES = frozenset(
    {JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED}
)
"""RQ job statuses after which the job will not run again; any other may still run."""


@dataclass
class Summary:
    """What one reconciliation pass did (counts of orders)."""

    found: int = 0
    absent: int = 0
    waiting: int = 0
    fills: int = 0
    requeued: int = 0
    cancelled: int = 0
    adopted: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class Reconciler:
    """Brings order records in line with KIS and the queue."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.book = ctx.book
        self.fills = Fills(ctx)

    # Whole sessions ----------------------------------------------------------------------------
    def reconcile_session(self, session: date) -> Summary:
        """Settle unknown and stale orders, record fills, revive lost pending orders."""
        summary = Summary()
        applied_before = self.fills.applied
        records = self.book.of_day(session)
        now_epoch = time.time()
        unsettled = [r for r in records if needs_matching(r, now_epoch, self._stale)]
        at_broker = [r for r in records if r.status in AT_BROKER and r.broker_order_no]
        read_at_epoch = time.time()
        rows = self.ctx.client.daily_executions(session)
        for outcome in self.fills.settle(unsettled, rows, read_at_epoch, records).values():
            self._count(summary, outcome)
            if outcome is not None and outcome.status is OrderStatus.PENDING:
                summary.requeued += self.requeue(outcome)
        for record in at_broker:
            row = row_for(record.broker_order_no, rows)
            if row is None:
                log.warning(
                    "order %s (KIS %s) is not in KIS's executions of %s",
                    record.id,
                    record.broker_order_no,
                    session,
                )
                continue
            record = self.fills.record_progress(record, row)
            if self._limit_buy_left_working(record, now_epoch):
                if record.waiting_for:
                    self._after_its_auction(record)
                else:
                    # Its job died before cancelling the rest (placing does it after a short
                    # wait).
                    self.fills.cancel_remainder(record, "its job ended before the rest filled")
        self._adopt_orphans(session, rows, summary)
        for record in records:
            quiet = now_epoch - record.touched_epoch
            if record.status is OrderStatus.PENDING and quiet >= self._stale:
                self._revive(record.id, summary)
        # Last: fills written to a record whose ledger update was cut short (a crash between
        # the two) reach the ledger now; apply_fills does nothing for records already applied.
        for record in self.book.of_day(session):
            if record.unapplied_quantity > 0:
                self.fills.apply(record)
        summary.fills = self.fills.applied - applied_before
        mark_reconciled(self.ctx.redis, self.ctx.keys, session, read_at_epoch)
        if summary != Summary():
            log.info("reconciled %s: %s", session, summary.as_dict())
        return summary

    def wait_seconds(self, sessions: Iterable[date]) -> float:
        """How long until every unsettled order of ``sessions`` can be decided.

        A ``submitting`` order may belong to a live job until it turns stale, and a lost
        answer's absence is provable only after the grace: a worker starting up waits this long
        so that a killed executor's orders are settled before it takes new jobs.
        """
        now_epoch = time.time()
        wait = 0.0
        for session in sessions:
            for record in self.book.with_status(session, UNSETTLED):
                if record.error_code == NEEDS_OPERATOR:
                    continue
                limit = (
                    self._stale
                    if record.status is OrderStatus.SUBMITTING
                    else self.ctx.absence_grace_seconds
                )
                wait = max(wait, record.touched_epoch + limit - now_epoch)
        return min(max(wait, 0.0), max(self._stale, self.ctx.absence_grace_seconds))

    def _limit_buy_left_working(self, record: OrderRecord, now_epoch: float) -> bool:
        intent = record.intent
        return (
            record.status in AT_BROKER
            and intent.side is Side.BUY
            and intent.limit_price is not None
            and now_epoch - record.touched_epoch >= self._stale
        )

    def _after_its_auction(self, record: OrderRecord) -> None:
        """A limit buy left working for an auction: its rest is cancelled once the auction is
        over (it did not fill it at its limit), as placing cancels a rest the price left; left
        alone while the auction lasts (docs/ARCHITECTURE.md, 'Auctions and volatility
        interruptions'). The closing auction's rest lapses with the session."""
        session = self.ctx.calendar.session(record.intent.session)
        now = self.ctx.clock.now()
        if session is not None and now >= session.closes:
            return
        vi = False
        if record.waiting_for == Auction.VI.value:
            try:
                vi = self.ctx.client.current_price(record.intent.code).vi
            except KisError as e:
                log.warning("order %s: its quote is unreadable now: %s", record.id, e)
                return
        if auction_at(now, session, vi=vi) is not None:
            return
        auction = Auction(record.waiting_for)
        why = f"{auction.label} did not fill it at {record.intent.limit_price} won"
        self.fills.cancel_remainder(record, why)

    # Orders only KIS knows --------------------------------------------------------------------
    def _adopt_orphans(self, session: date, rows: Sequence[Execution], summary: Summary) -> None:
        """Record KIS's orders that match no record of ours, with their fills.

        KIS is the source of truth (docs/ARCHITECTURE.md, 'When our state is lost'): an order
        at KIS with no record means our state was lost (or someone ordered outside this system).
        Adopted, its decision is never placed again (a buy takes the day's entry id of its
        code) and its position exits by the rules; the day's plan goes on for the rest.
        """
        found = orphans(rows, self.book.of_day(session))
        if not found:
            return
        adopted = [r for row in found if (r := self.fills.adopt_orphan(row)) is not None]
        summary.adopted += len(adopted)
        if adopted:
            log.warning(
                "KIS has %d order(s) of %s that our records lacked: adopted (%s)",
                len(adopted),
                session,
                ", ".join(r.id for r in adopted),
            )

    # The queue -------------------------------------------------------------------------------
    def requeue(self, record: OrderRecord) -> bool:
        """Queue the order's job again unless a job for it may still run.

        The job id is the order id, so a finished, failed or abandoned job (started by an
        executor whose heartbeat is gone) is deleted first, or ``enqueue_order`` refuses the id.
        """
        job = fetch_job(self.ctx.redis, record.id)
        if job is not None:
            if self._may_still_run(job):
                return False
            job.delete()
        queued = enqueue_order(self.ctx.redis, record.id, record.intent.side)
        if queued:
            log.info("order %s queued again", record.id)
        return queued

    # Helpers ---------------------------------------------------------------------------------
    @property
    def _stale(self) -> float:
        return self.ctx.stale_seconds

    def _may_still_run(self, job: Job) -> bool:
        status = job.get_status(refresh=False)
        if status in DONE_JOB_STATUSES:
            return False
        if status == JobStatus.STARTED and job.worker_name:
            # Started by an executor that no longer beats, or whose process on this host is
            # gone (a SIGKILL leaves the heartbeat for its TTL): the job died with it. RQ itself
            # notices only when its registry entry expires, minutes later.
            raw = self.ctx.redis.get(self.ctx.keys.heartbeat(SERVICE, job.worker_name))
            if raw is None:
                return False
            try:
                payload = json.loads(raw)
            except ValueError:
                return True
            return not (isinstance(payload, dict) and died_here(job.worker_name, payload))
        return True

    def _revive(self, order_id: str, summary: Summary) -> None:
        """A pending order whose job is gone: queue it again, or cancel it if it must not run."""
        record = self.book.get(order_id)
        if record is None or record.status is not OrderStatus.PENDING:
            return
        if record.intent.session < self.ctx.clock.now().date():
            summary.cancelled += self.fills.cancel(record, SESSION_OVER) is not None
        elif self.ctx.controls.halted:
            summary.cancelled += self.fills.cancel(record, HALTED) is not None
        elif self.ctx.controls.paused:
            log.info("paused: pending order %s is queued again after resume", record.id)
        else:
            summary.requeued += self.requeue(record)

    @staticmethod
    def _count(summary: Summary, outcome: OrderRecord | None) -> None:
        if outcome is None:
            summary.waiting += 1
        elif outcome.status in (OrderStatus.PENDING, OrderStatus.CANCELLED):
            summary.absent += 1
        else:
            summary.found += 1
