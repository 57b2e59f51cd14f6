"""Post-market: settle the day's orders with KIS, bring the ledger up to date, export, summarise."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from pathlib import Path

import redis
from rq.job import JobStatus

from services.scheduler.metering import KisReader
from services.scheduler.plan import CASH_PROBE_CODE
from shared.kis.models import Balance
from shared.messaging.events import DailySummary, HeldPosition
from shared.messaging.queues import enqueue_reconcile, fetch_job
from shared.state.order_book import OrderBook
from shared.state.positions import Position, PositionLedger
from shared.trading.costs import TradeCosts
from shared.trading.orders import AT_BROKER, UNSETTLED, OrderRecord, OrderStatus
from shared.trading.trades import Realized

log = logging.getLogger(__name__)

RECONCILE_WAIT_SECONDS = 60.0
"""Longest the post-market run waits for the executor's reconciliation, in real seconds."""
RECONCILE_POLL_SECONDS = 0.25
"""How often the job's status is read while waiting, in real seconds."""
DONE_STATUSES = frozenset(
    {JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED}
)
"""RQ statuses of a job that will not run any more."""
CLOSING_MATCH_MARGIN = timedelta(seconds=30)
"""How long after the close (clock time) the post-market run reads the closing auction's fills."""
SESSION_CLOSED = "session closed"
"""``error_message`` of an order cancelled because the session ended before it was sent."""

Pause = Callable[[float], bool]
"""Wait some real seconds while keeping the leader lock; False when the process must stop."""
UntilClose = Callable[[], bool]
"""Wait until the session's closing auction is matched (the close and
:data:`CLOSING_MATCH_MARGIN`) while keeping the leader lock; False when the process must stop."""


def wait_for_job(
    client: redis.Redis, job_id: str, pause: Pause, timeout: float = RECONCILE_WAIT_SECONDS
) -> str:
    """The job's final status, ``"timeout"`` after ``timeout`` real seconds, or ``"stopped"``."""
    deadline = time.monotonic() + timeout
    while True:
        job = fetch_job(client, job_id)
        if job is None:
            # Expired or cleaned up: it is not running any more either way.
            return "gone"
        status = job.get_status()
        if status in DONE_STATUSES:
            return str(status.value if isinstance(status, JobStatus) else status)
        if time.monotonic() >= deadline:
            return "timeout"
        if not pause(RECONCILE_POLL_SECONDS):
            return "stopped"


def cancel_unsent(book: OrderBook, session: date) -> list[OrderRecord]:
    """Cancel the session's orders that never left ``pending``: KIS takes no order after the close.

    Compare-and-set: an order the executor moved on meanwhile is left to it.
    """
    cancelled = []
    for record in book.with_status(session, [OrderStatus.PENDING]):
        done = book.transition(
            record.id, OrderStatus.PENDING, OrderStatus.CANCELLED, error_message=SESSION_CLOSED
        )
        if done is not None:
            cancelled.append(done)
    return cancelled


def working_at_kis(orders: Iterable[OrderRecord]) -> list[OrderRecord]:
    """Orders KIS has, or may have, that may still fill: accepted, partly filled, or sent with
    the answer not in yet."""
    return [o for o in orders if o.status in AT_BROKER | UNSETTLED]


def apply_unapplied(book: OrderBook, ledger: PositionLedger, session: date) -> int:
    """Write fills the executor recorded but did not apply yet (idempotent); how many orders."""
    applied = 0
    for record in book.of_day(session):
        if record.unapplied_quantity > 0 and ledger.apply_fills(record.id) is not None:
            applied += 1
    return applied


def daily_summary(
    session: date,
    realized: Iterable[Realized],
    positions: Iterable[Position],
    orders: Iterable[OrderRecord],
    *,
    orderable_cash: int,
    balance: Balance,
    costs: TradeCosts,
    reconciliation: str = "finished",
) -> DailySummary:
    """The ``daily_summary`` event (no account data): trades, P&L gross and net, cash."""
    realized = tuple(realized)
    held = tuple(
        HeldPosition(p.code, p.name, p.quantity, p.average_price, p.buy_session) for p in positions
    )
    return DailySummary(
        session=session,
        realized=realized,
        realized_profit=sum(r.profit for r in realized),
        realized_profit_net=sum(costs.net_profit(r) for r in realized),
        positions=held,
        orders=dict(sorted(Counter(o.status for o in orders).items())),
        orderable_cash=orderable_cash,
        cash_d2=balance.summary.settlement_cash,
        total_value=balance.summary.total_value,
        # Anything but "finished" means KIS may know fills the ledger does not have yet.
        reconciliation=reconciliation,
    )


def summary_line(summary: DailySummary) -> str:
    """The summary in one line for the log: counts and won, no repr of the event."""
    sells = len(summary.realized)
    held = len(summary.positions)
    orders = ", ".join(f"{n} {status.value}" for status, n in summary.orders.items()) or "none"
    return (
        f"{sells} sell{'' if sells == 1 else 's'}, realised profit {summary.realized_profit:,} won"
        f" ({summary.realized_profit_net:,} won net of costs),"
        f" {held} position{'' if held == 1 else 's'} held, orders {orders},"
        f" orderable cash {summary.orderable_cash:,} won, cash D+2 {summary.cash_d2:,} won,"
        f" total value {summary.total_value:,} won, reconciliation {summary.reconciliation}"
    )


class DayCloser:
    """The post-market run of one session; safe to run again after a crash halfway."""

    def __init__(
        self,
        client: redis.Redis,
        book: OrderBook,
        ledger: PositionLedger,
        kis: KisReader,
        export_folder: Path,
        pause: Pause,
        *,
        on_balance: Callable[[date, Balance], None] | None = None,
        on_orderable_cash: Callable[[int], None] | None = None,
        reconcile_wait_seconds: float = RECONCILE_WAIT_SECONDS,
        costs: TradeCosts | None = None,
        until_close: UntilClose | None = None,
        on_settled: Callable[[date], None] | None = None,
    ) -> None:
        self._redis = client
        self._book = book
        self._ledger = ledger
        self._kis = kis
        self._folder = export_folder
        self._pause = pause
        self._wait_seconds = reconcile_wait_seconds
        self._on_balance = on_balance
        self._on_orderable_cash = on_orderable_cash
        self._costs = costs or TradeCosts()
        self._until_close = until_close
        self._on_settled = on_settled

    def close(self, session: date) -> DailySummary | None:
        """Reconcile, cancel what was never sent, follow what still works at KIS to the close,
        apply fills, export; the summary's fields (None: stopped while waiting for the close).

        Post-market starts when the closing call does (docs/ARCHITECTURE.md, 'Phases of the
        day'), but an order KIS still holds then (accepted in the closing call, or in a
        volatility interruption that ran into it) fills only in the closing auction, at the
        close: with ``until_close`` the run waits for that match and reconciles again before it
        summarises ('Auctions and volatility interruptions').
        """
        outcome = self._reconcile(session)
        cancelled = cancel_unsent(self._book, session)
        for record in cancelled:
            log.info("cancelled %s: never sent before the close", record.id)
        working = working_at_kis(self._book.of_day(session))
        if working and self._until_close is not None:
            log.info(
                "%d order(s) of %s still work at KIS (%s): following them to the closing auction",
                len(working),
                session,
                ", ".join(o.id for o in working),
            )
            if not self._until_close():
                return None
            outcome = self._reconcile(session)
        apply_unapplied(self._book, self._ledger, session)
        if self._on_settled is not None:
            # Before the export: what was held before today is still in the last one.
            self._on_settled(session)
        as_json, as_pickle = self._ledger.export(self._folder, session)
        log.info("ledger exported to %s and %s", as_json, as_pickle)
        balance = self._kis.balance()
        orderable = self._kis.buyable_cash(CASH_PROBE_CODE).orderable_cash
        if self._on_orderable_cash is not None:
            self._on_orderable_cash(orderable)
        if self._on_balance is not None:
            self._on_balance(session, balance)
        return daily_summary(
            session,
            self._ledger.realized(session),
            self._ledger.all().values(),
            self._book.of_day(session),
            orderable_cash=orderable,
            balance=balance,
            costs=self._costs,
            reconciliation=outcome,
        )

    def _reconcile(self, session: date) -> str:
        """One reconciliation by the executor, waited for; how it ended."""
        job_id = enqueue_reconcile(self._redis, session.isoformat(), why="post-market")
        outcome = wait_for_job(self._redis, job_id, self._pause, self._wait_seconds)
        if outcome != JobStatus.FINISHED.value:
            log.warning(
                "post-market reconciliation of %s ended %s; the ledger may lag KIS until the "
                "executor catches up",
                session,
                outcome,
            )
        return outcome
