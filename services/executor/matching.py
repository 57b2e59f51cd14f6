"""Pure reconciliation decisions: which KIS execution row answers which order, and what it says.

KIS has no client order id, so an order whose POST answer was lost is recognised only by what it
looked like: same code, side and quantity, placed no earlier than we started sending it. No I/O
here: the reconciler reads Redis and KIS and passes the facts in. KIS order numbers arrive in one
spelling (``shared.kis.models.order_number``), so they are compared as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from shared.kis.models import Execution
from shared.trading.orders import AT_BROKER, UNSETTLED, OrderRecord, OrderStatus

SEND_SLACK = timedelta(seconds=60)
"""A KIS order time may be this much earlier than our ``submitting`` entry (clock skew)."""
NEEDS_OPERATOR = "NEEDS_OPERATOR"
"""``error_code`` of an order reconciliation must leave alone: a person has to look at it."""


def is_new_order(row: Execution) -> bool:
    """True for an original order; false for a cancel or revise order, which KIS lists too."""
    return not row.cancelled and not row.original_order_no


def could_answer(record: OrderRecord, row: Execution) -> bool:
    """Whether ``row`` may be the KIS order created by ``record``'s last POST."""
    if not is_new_order(row):
        return False
    intent = record.intent
    asked = (intent.code, intent.side, record.order_quantity)
    if (row.code, row.side, row.order_quantity) != asked:
        return False
    placed = row.placed_kst
    if placed is None:
        return False
    sent = record.last_entered(OrderStatus.SUBMITTING)
    return sent is None or placed >= sent - SEND_SLACK


def needs_matching(record: OrderRecord, now_epoch: float, stale_seconds: float) -> bool:
    """``unknown``, or ``submitting`` untouched for ``stale_seconds`` (its job is gone).

    An order parked for a person (``NEEDS_OPERATOR``) is never matched automatically.
    """
    if record.error_code == NEEDS_OPERATOR:
        return False
    if record.status is OrderStatus.UNKNOWN:
        return True
    stale = now_epoch - record.touched_epoch >= stale_seconds
    return record.status is OrderStatus.SUBMITTING and stale


def absence_proven(record: OrderRecord, read_at_epoch: float, grace_seconds: float) -> bool:
    """Whether an executions read started at ``read_at_epoch`` without the order proves it absent.

    KIS may still be working on a request whose answer was lost; only a read made ``grace``
    seconds after we last heard of the POST (the record's last change) can be trusted to show it.
    """
    return read_at_epoch - record.touched_epoch >= grace_seconds


def match_unsettled(
    records: Iterable[OrderRecord],
    rows: Sequence[Execution],
    owners: Mapping[str, str],
) -> dict[str, Execution | None]:
    """The KIS row answering each unsettled record, or None when KIS has no such order.

    ``owners`` maps KIS order numbers to the record that already claimed them. Records are
    served in the order they were sent, each taking the earliest eligible row nobody else owns,
    so two identical orders sent close together are matched one to one.
    """
    taken = dict(owners)
    candidates = sorted(
        ((placed, row) for row in rows if (placed := row.placed_kst) is not None),
        key=lambda pair: (pair[0], pair[1].order_no),
    )
    found: dict[str, Execution | None] = {}
    for record in sorted(records, key=lambda r: (r.submitted_epoch, r.id)):
        match = None
        for _, row in candidates:
            owner = taken.get(row.order_no)
            if owner is not None and owner != record.id:
                continue
            if could_answer(record, row):
                match = row
                break
        if match is not None:
            taken[match.order_no] = record.id
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
    if filled >= record.order_quantity:
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


def notice_progress(record: OrderRecord, filled: int, amount: int) -> Progress | None:
    """What realtime fill notices totalling ``filled`` shares for ``amount`` won make of an order
    KIS has; None when the record already counts as many (or more: the executions got there
    first, or a notice was lost) or KIS does not have the order working.

    Notices only ever add shares the record has not counted yet, so a notice seen twice, or a
    fill the executions reported first, is counted once.
    """
    if record.status not in AT_BROKER or filled <= record.filled_quantity:
        return None
    filled = min(filled, record.order_quantity)
    status = OrderStatus.FILLED if filled >= record.order_quantity else OrderStatus.PARTIALLY_FILLED
    return Progress(status, filled, Decimal(amount) / Decimal(filled))


def orphans(rows: Iterable[Execution], records: Sequence[OrderRecord]) -> list[Execution]:
    """New orders at KIS that no record of ours owns or may yet claim: our state was lost.

    A row an unsettled record (``submitting``, ``unknown``) could answer is not an orphan: that
    record's own job or reconciliation will claim it.
    """
    owned = {r.broker_order_no for r in records if r.broker_order_no}
    unsettled = [r for r in records if r.status in UNSETTLED]
    return [
        row
        for row in rows
        if is_new_order(row)
        and row.order_no not in owned
        and not any(could_answer(record, row) for record in unsettled)
    ]


def row_for(order_no: str, rows: Iterable[Execution]) -> Execution | None:
    """The row of KIS order ``order_no``, if listed."""
    return next((r for r in rows if r.order_no == order_no), None)
