"""Settle orders against KIS's daily executions: lost answers, dead jobs, fills, lost queue jobs.

One executions read per session (all pages) answers every question of a pass. Every change is a
compare-and-set on the order record and fills reach the ledger through ``apply_fills``, so a
second pass over the same facts changes nothing, and two executors reconciling at once agree.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date

from rq.job import Job, JobStatus

from services.executor import events
from services.executor.context import SERVICE, Context
from services.executor.matching import (
    UNSETTLED,
    absence_proven,
    canonical_order_no,
    could_answer,
    match_unsettled,
    needs_matching,
    progress,
    row_for,
)
from shared.kis.models import Execution
from shared.orders import AT_BROKER, BrokerOrderTaken, OrderRecord, OrderStatus
from shared.positions import FillApplied
from shared.queues import enqueue_order, fetch_job

log = logging.getLogger(__name__)

NEEDS_OPERATOR = "NEEDS_OPERATOR"
"""``error_code`` of an order reconciliation must leave alone: a person has to look at it."""
DONE_JOB_STATUSES = frozenset(
    {JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED}
)
"""RQ job statuses after which the job will not run again; any other may still run."""
SESSION_OVER = "its session is over: an order is never sent on a later day"
"""Why a pending order of a past session is cancelled instead of sent."""
HALTED = "halted by operator"
"""Why a pending order is cancelled while the system is halted."""


@dataclass
class Summary:
    """What one reconciliation pass did (counts of orders)."""

    found: int = 0
    absent: int = 0
    waiting: int = 0
    fills: int = 0
    requeued: int = 0
    cancelled: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class Reconciler:
    """Brings order records in line with KIS and the queue."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.book = ctx.book
        self.fills_applied = 0
        """How many times :meth:`apply` wrote fills to the ledger."""

    # Whole sessions ----------------------------------------------------------------------------
    def reconcile_session(self, session: date) -> Summary:
        """Settle unknown and stale orders, record fills, revive lost pending orders."""
        summary = Summary()
        applied_before = self.fills_applied
        records = self.book.of_day(session)
        now = time.time()
        unsettled = [r for r in records if self._needs_matching(r, now)]
        at_broker = [r for r in records if r.status in AT_BROKER and r.broker_order_no]
        if unsettled or at_broker:
            read_at = time.time()
            rows = self.ctx.client.daily_executions(session)
            for outcome in self._settle(unsettled, rows, read_at, records).values():
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
                self.record_progress(record, row)
        for record in records:
            if record.status is OrderStatus.PENDING and now - record.touched_at >= self._stale:
                self._revive(record.id, summary)
        # Last: fills written to a record whose ledger update was cut short (a crash between
        # the two) reach the ledger now; apply_fills does nothing for records already applied.
        for record in self.book.of_day(session):
            if record.unapplied_quantity > 0:
                self.apply(record)
        summary.fills = self.fills_applied - applied_before
        if summary != Summary():
            log.info("reconciled %s: %s", session, summary.as_dict())
        return summary

    def wait_seconds(self, sessions: Iterable[date]) -> float:
        """How long until every unsettled order of ``sessions`` can be decided.

        A ``submitting`` order may belong to a live job until it turns stale, and a lost
        answer's absence is provable only after the grace: a worker starting up waits this long
        so that a killed executor's orders are settled before it takes new jobs.
        """
        now = time.time()
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
                wait = max(wait, record.touched_at + limit - now)
        return min(max(wait, 0.0), max(self._stale, self.ctx.absence_grace_seconds))

    # One order -------------------------------------------------------------------------------
    def settle_one(self, order_id: str) -> OrderRecord | None:
        """Settle one unknown order now: found at KIS, or proven absent and back to ``pending``.

        If KIS does not list it yet, wait out the absence grace and read once more; the caller
        (the order's own job) sends it again only if it comes back ``pending``.
        """
        for read in range(2):
            record = self.book.get(order_id)
            if record is None or record.status not in UNSETTLED:
                return record
            read_at = time.time()
            rows = self.ctx.client.daily_executions(record.session, code=record.code)
            outcome = self._settle([record], rows, read_at, self.book.of_day(record.session))
            if outcome[record.id] is not None:
                return outcome[record.id]
            wait = record.touched_at + self.ctx.absence_grace_seconds - time.time()
            if read == 0 and wait > 0:
                log.info("order %s not at KIS yet; looking again in %.1fs", order_id, wait)
                time.sleep(wait)
        return self.book.get(order_id)

    def record_progress(self, record: OrderRecord, row: Execution) -> OrderRecord:
        """Write ``row``'s fills to an accepted order, then to the ledger."""
        step = progress(record, row)
        if step is not None:
            updated = self.book.transition(
                record.id,
                record.status,
                step.status,
                filled_quantity=step.filled_quantity,
                average_fill_price=step.average_fill_price,
            )
            if updated is None:
                log.info("order %s changed meanwhile; its fills wait for the next pass", record.id)
            else:
                record = updated
        self.apply(record)
        return self.book.get(record.id) or record

    def apply(self, record: OrderRecord) -> FillApplied | None:
        """Write the order's new fills to the ledger (once) and say so."""
        applied = self.ctx.ledger.apply_fills(record.id)
        if applied is None:
            return None
        self.fills_applied += 1
        order = applied.order
        log.info(
            "%s %s x%d filled at %s (%s)",
            order.side.label,
            order.code,
            order.filled_quantity,
            order.average_fill_price,
            order.id,
        )
        fields = events.filled_fields(order, applied.realized)
        events.send(self.ctx.redis, events.ORDER_FILLED, fields)
        return applied

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
        queued = enqueue_order(self.ctx.redis, record.id, record.side)
        if queued:
            log.info("order %s queued again", record.id)
        return queued

    def cancel(self, record: OrderRecord, message: str) -> OrderRecord | None:
        """``pending`` -> ``cancelled`` with ``message``, and say so; None if it moved meanwhile."""
        cancelled = self.book.transition(
            record.id, OrderStatus.PENDING, OrderStatus.CANCELLED, error_message=message
        )
        if cancelled is not None:
            log.info("order %s cancelled: %s", record.id, message)
            events.send(
                self.ctx.redis,
                events.ORDER_CANCELLED,
                events.problem_fields(cancelled, "", message),
            )
        return cancelled

    # Helpers ---------------------------------------------------------------------------------
    @property
    def _stale(self) -> float:
        return self.ctx.stale_seconds

    def _may_still_run(self, job: Job) -> bool:
        status = job.get_status(refresh=False)
        if status in DONE_JOB_STATUSES:
            return False
        if status == JobStatus.STARTED and job.worker_name:
            # Started by an executor that no longer beats: the job died with it. RQ itself
            # notices only when its registry entry expires, minutes later.
            beating = self.ctx.redis.exists(self.ctx.keys.heartbeat(SERVICE, job.worker_name))
            return bool(beating)
        return True

    def _needs_matching(self, record: OrderRecord, now: float) -> bool:
        return record.error_code != NEEDS_OPERATOR and needs_matching(record, now, self._stale)

    def _settle(
        self,
        unsettled: Sequence[OrderRecord],
        rows: Sequence[Execution],
        read_at: float,
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
            elif absence_proven(record, read_at, self.ctx.absence_grace_seconds):
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
        owners = {canonical_order_no(r.broker_order_no): r.id for r in known if r.broker_order_no}
        session = unsettled[0].session
        for row in rows:
            if any(could_answer(record, row) for record in unsettled):
                owner = self.book.broker_owner(session, row.order_no)
                if owner is not None:
                    owners[canonical_order_no(row.order_no)] = owner
        return owners

    def _adopt(self, record: OrderRecord, row: Execution) -> OrderRecord | None:
        """The order exists at KIS as ``row``: claim its number and take its fills."""
        step = progress(record, row)
        assert step is not None  # an unsettled record always takes the row's state
        try:
            adopted = self.book.transition(
                record.id,
                UNSETTLED,
                step.status,
                broker_order_no=row.order_no,
                broker_branch_no=row.branch_no,
                broker_time=row.order_time,
                filled_quantity=step.filled_quantity,
                average_fill_price=step.average_fill_price,
                error_code="",
                error_message="",
            )
        except BrokerOrderTaken:
            log.warning("KIS order %s was claimed by another order meanwhile", row.order_no)
            return None
        if adopted is None:
            return None
        log.info("order %s found at KIS as %s (%s)", record.id, row.order_no, adopted.status)
        fields = events.order_fields(adopted) | {"reconciled": True}
        events.send(self.ctx.redis, events.ORDER_ACCEPTED, fields)
        self.apply(adopted)
        return self.book.get(record.id) or adopted

    def _absent(self, record: OrderRecord) -> OrderRecord | None:
        """KIS provably never got the order: ready to send again, or cancelled if too late."""
        if record.session < self.ctx.clock.now().date():
            message = f"not found at KIS and {SESSION_OVER}"
            cancelled = self.book.transition(
                record.id, UNSETTLED, OrderStatus.CANCELLED, error_message=message
            )
            if cancelled is not None:
                log.warning("order %s cancelled: %s", record.id, message)
                events.send(
                    self.ctx.redis,
                    events.ORDER_CANCELLED,
                    events.problem_fields(cancelled, "", message),
                )
            return cancelled
        pending = self.book.transition(
            record.id,
            UNSETTLED,
            OrderStatus.PENDING,
            error_message="not found at KIS: it will be sent again",
        )
        if pending is not None:
            log.warning("order %s never reached KIS; back to pending", record.id)
        return pending

    def _revive(self, order_id: str, summary: Summary) -> None:
        """A pending order whose job is gone: queue it again, or cancel it if it must not run."""
        record = self.book.get(order_id)
        if record is None or record.status is not OrderStatus.PENDING:
            return
        if record.session < self.ctx.clock.now().date():
            summary.cancelled += self.cancel(record, SESSION_OVER) is not None
        elif self.ctx.controls.halted:
            summary.cancelled += self.cancel(record, HALTED) is not None
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
