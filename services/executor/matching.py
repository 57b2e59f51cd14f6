"""Pure reconciliation decisions: which KIS execution row answers which order, and what it says.

KIS has no client order id, so an order whose POST answer was lost is recognised only by what it
looked like: same code, side and quantity, placed no earlier than we started sending it. No I/O
here: the reconciler reads Redis and KIS and passes the facts in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from shared.clock import KST
from shared.kis.models import Execution
from shared.orders import AT_BROKER, OrderRecord, OrderStatus

SEND_SLACK = timedelta(seconds=60)
"""A KIS order time may be this much earlier than our ``submitting`` entry (clock skew)."""
UNSETTLED = frozenset({OrderStatus.UNKNOWN, OrderStatus.SUBMITTING})
"""Statuses of an order that may or may not exist at KIS."""


def canonical_order_no(order_no: str) -> str:
    """A KIS order number without its zero padding (``0000117057`` and ``117057`` are one)."""
    return order_no.strip().lstrip("0")


def sent_at(record: OrderRecord) -> datetime | None:
    """Clock time (KST) of the record's latest ``submitting`` entry: when the last POST began."""
    for status, at in reversed(record.history):
        if status == OrderStatus.SUBMITTING.value:
            moment = datetime.fromisoformat(at)
            return moment if moment.tzinfo else moment.replace(tzinfo=KST)
    return None


def placed_at(row: Execution) -> datetime | None:
    """When KIS took the order (``ord_dt`` + ``ord_tmd``, KST); None if unreadable."""
    try:
        moment = datetime.strptime(row.order_time.strip(), "%H%M%S").time()
    except ValueError:
        return None
    return datetime.combine(row.order_date, moment, KST)


def is_new_order(row: Execution) -> bool:
    """True for an original order; false for a cancel or revise order, which KIS lists too."""
    return not row.cancelled and not canonical_order_no(row.original_order_no)


def could_answer(record: OrderRecord, row: Execution) -> bool:
    """Whether ``row`` may be the KIS order created by ``record``'s last POST."""
    if not is_new_order(row):
        return False
    if (row.code, row.side, row.order_quantity) != (record.code, record.side, record.quantity):
        return False
    placed = placed_at(row)
    if placed is None:
        return False
    sent = sent_at(record)
    return sent is None or placed >= sent - SEND_SLACK


def needs_matching(record: OrderRecord, now: float, stale_seconds: float) -> bool:
    """``unknown``, or ``submitting`` untouched for ``stale_seconds`` (its job is gone)."""
    if record.status is OrderStatus.UNKNOWN:
        return True
    return record.status is OrderStatus.SUBMITTING and now - record.touched_at >= stale_seconds


def absence_proven(record: OrderRecord, read_at: float, grace_seconds: float) -> bool:
    """Whether an executions read started at ``read_at`` without the order proves it absent.

    KIS may still be working on a request whose answer was lost; only a read made ``grace``
    seconds after we last heard of the POST (the record's last change) can be trusted to show it.
    """
    return read_at - record.touched_at >= grace_seconds


def match_unsettled(
    records: Iterable[OrderRecord],
    rows: Sequence[Execution],
    owners: Mapping[str, str],
) -> dict[str, Execution | None]:
    """The KIS row answering each unsettled record, or None when KIS has no such order.

    ``owners`` maps canonical order numbers to the record that already claimed them. Records are
    served in the order they were sent, each taking the earliest eligible row nobody else owns,
    so two identical orders sent close together are matched one to one.
    """
    taken = dict(owners)
    candidates = sorted(
        ((placed, row) for row in rows if (placed := placed_at(row)) is not None),
        key=lambda pair: (pair[0], canonical_order_no(pair[1].order_no).zfill(20)),
    )
    found: dict[str, Execution | None] = {}
    for record in sorted(records, key=lambda r: (r.submitted_at, r.id)):
        match = None
        for _, row in candidates:
            owner = taken.get(canonical_order_no(row.order_no))
            if owner is not None and owner != record.id:
                continue
            if could_answer(record, row):
                match = row
                break
        if match is not None:
            taken[canonical_order_no(match.order_no)] = record.id
        found[record.id] = match
    return found


@dataclass(frozen=True)
class Progress:
    """Where KIS's row says an order is: the status and fill fields to write."""

    status: OrderStatus
    filled_quantity: int
    average_fill_price: Decimal


def progress(record: OrderRecord, row: Execution) -> Progress | None:
    """What to write so ``record`` reflects ``row``; None when it already does.

    Fills only grow: a row showing fewer filled shares than the record (a stale replica, a page
    read mid-update) changes nothing rather than taking shares back out of the ledger.
    """
    filled = row.filled_quantity
    if filled >= record.quantity:
        status = OrderStatus.FILLED
    elif filled > 0:
        status = OrderStatus.PARTIALLY_FILLED
    else:
        status = OrderStatus.ACCEPTED
    if record.status in AT_BROKER | {OrderStatus.FILLED}:
        if filled < record.filled_quantity:
            return None
        if filled == record.filled_quantity and status is record.status:
            return None
    price = row.average_fill_price if filled else Decimal(0)
    return Progress(status, filled, price)


def row_for(order_no: str, rows: Iterable[Execution]) -> Execution | None:
    """The row of KIS order ``order_no`` (padding ignored), if listed."""
    wanted = canonical_order_no(order_no)
    return next((r for r in rows if canonical_order_no(r.order_no) == wanted), None)
