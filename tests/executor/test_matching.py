"""The pure reconciliation rules: which KIS row answers which order, and what it says."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

from services.executor.matching import (
    absence_proven,
    match_unsettled,
    needs_matching,
    progress,
    row_for,
)
from shared.kis.models import Execution, Side
from shared.trading.orders import OrderIntent, OrderRecord, OrderStatus, Reason

DAY = date(2026, 3, 3)


def record(
    reason: Reason = Reason.ENTRY,
    *,
    sent: str = "10:00:00",
    status: OrderStatus = OrderStatus.UNKNOWN,
    quantity: int = 10,
    side: Side = Side.BUY,
    submitted_epoch: float = 100.0,
) -> OrderRecord:
    created = datetime.fromisoformat("2026-03-03T09:59:00+09:00")
    return OrderRecord(
        intent=OrderIntent(DAY, "005930", "삼성전자", side, reason, quantity, 70_000),
        status=status,
        created_kst=created,
        touched_epoch=submitted_epoch,
        submitted_epoch=submitted_epoch,
        history=(
            (OrderStatus.PENDING, created),
            (OrderStatus.SUBMITTING, datetime.fromisoformat(f"2026-03-03T{sent}+09:00")),
        ),
    )


A = record().id
"""The id of the default record."""


def row(
    order_no: str,
    at: str,
    *,
    quantity: int = 10,
    filled: int = 10,
    side: Side = Side.BUY,
    code: str = "005930",
    original: str = "",
    cancelled: bool = False,
) -> Execution:
    return Execution(
        order_date=DAY,
        order_no=order_no,
        original_order_no=original,
        branch_no="06010",
        side=side,
        code=code,
        name="삼성전자",
        order_quantity=quantity,
        order_price=0,
        order_time=at.replace(":", ""),
        filled_quantity=filled,
        average_fill_price=Decimal(70_000) if filled else Decimal(0),
        filled_amount=70_000 * filled,
        remaining_quantity=quantity - filled,
        rejected_quantity=0,
        cancelled=cancelled,
    )


def test_a_row_matches_on_code_side_quantity_and_time() -> None:
    lost = record()
    assert match_unsettled([lost], [row("1", "10:00:01")], {})[A] == row("1", "10:00:01")
    for other in (
        row("2", "10:00:01", quantity=9),
        row("3", "10:00:01", side=Side.SELL),
        row("4", "10:00:01", code="000660"),
        row("5", "09:58:59"),  # more than 60 s before we started sending
        row("6", "10:00:01", original="0000000001"),  # a cancel order
        row("7", "10:00:01", cancelled=True),
        row("8", "xx"),
    ):
        assert match_unsettled([lost], [other], {})[A] is None, other


def test_sixty_seconds_of_clock_skew_are_allowed() -> None:
    assert match_unsettled([record()], [row("1", "09:59:00")], {})[A] is not None


def test_the_earliest_unclaimed_row_wins() -> None:
    rows = [row("3", "10:00:05"), row("2", "10:00:02"), row("1", "10:00:02")]
    assert match_unsettled([record()], rows, {})[A] == rows[2]
    claimed = {"1": "someone-else"}
    assert match_unsettled([record()], rows, claimed)[A] == rows[1]
    # Our own claim is still ours.
    assert match_unsettled([record()], rows, {"1": A})[A] == rows[2]


def test_identical_orders_are_matched_one_to_one_in_sending_order() -> None:
    first = record(Reason.ENTRY, submitted_epoch=100.0)
    second = record(Reason.MANUAL, submitted_epoch=101.0)
    rows = [row("0000000008", "10:00:03"), row("0000000007", "10:00:01")]
    found = match_unsettled([second, first], rows, {})
    assert found == {first.id: rows[1], second.id: rows[0]}
    only_one = match_unsettled([second, first], rows[:1], {})
    assert only_one == {first.id: rows[0], second.id: None}


def test_progress_only_moves_forward() -> None:
    lost = record()
    taken = progress(lost, row("1", "10:00:01", filled=0))
    assert taken is not None and taken.status is OrderStatus.ACCEPTED
    assert taken.average_fill_price == 0
    step = progress(lost, row("1", "10:00:01", filled=4))
    assert step is not None and step.status is OrderStatus.PARTIALLY_FILLED
    assert step.average_fill_price == Decimal(70_000)
    partial = replace(lost, status=OrderStatus.PARTIALLY_FILLED, filled_quantity=4)
    assert progress(partial, row("1", "10:00:01", filled=4)) is None
    assert progress(partial, row("1", "10:00:01", filled=3)) is None
    done = progress(partial, row("1", "10:00:01", filled=10))
    assert done is not None and done.status is OrderStatus.FILLED
    accepted = replace(lost, status=OrderStatus.ACCEPTED)
    assert progress(accepted, row("1", "10:00:01", filled=0)) is None


def test_staleness_and_absence() -> None:
    submitting = record(status=OrderStatus.SUBMITTING, submitted_epoch=100.0)
    assert not needs_matching(submitting, now_epoch=129.0, stale_seconds=30)
    assert needs_matching(submitting, now_epoch=130.0, stale_seconds=30)
    assert needs_matching(record(), now_epoch=100.0, stale_seconds=30)
    assert not needs_matching(replace(submitting, status=OrderStatus.PENDING), 1e9, 30)
    assert not absence_proven(record(), read_at_epoch=104.9, grace_seconds=5)
    assert absence_proven(record(), read_at_epoch=105.0, grace_seconds=5)


def test_helpers() -> None:
    assert record(sent="10:11:12").last_entered(OrderStatus.SUBMITTING) is not None
    pending_only = replace(record(), history=record().history[:1])
    assert pending_only.last_entered(OrderStatus.SUBMITTING) is None
    rows = [row("0000000012", "10:00:00")]
    assert row_for("0000000012", rows) == rows[0]
    assert row_for("0000000013", rows) is None
