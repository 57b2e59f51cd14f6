"""The chaos run's count of notifications, on messages the notifier itself renders.

A message whose answer Discord never gave is not posted again (at most once); the notifier
quotes it in a notice instead (docs/ARCHITECTURE.md, 'Notifications'). The oracle tells that
apart from a message that never reached Discord at all.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from benchmarks.chaos import NoteCount, compare_notifications
from benchmarks.chaos_plan import DAY, Day, Expected, make_day
from services.notifier.format import render
from services.notifier.messages import unconfirmed_notice
from shared.kis.models import Side
from shared.messaging.events import OrderFilled
from shared.trading.orders import OrderStatus, Reason
from tests.notifier.samples import EVENTS, ORDER

PRICE = 10_500


def fill(expected: Expected) -> OrderFilled:
    """The fill event the executor sends for ``expected`` (a sell with its realised profit)."""
    order = ORDER | {
        "order_id": expected.order_id,
        "session": DAY,
        "code": expected.code,
        "name": f"종목{expected.code[-3:]}",
        "side": Side.BUY if expected.side == "buy" else Side.SELL,
        "reason": Reason(expected.reason),
        "quantity": expected.quantity,
        "status": OrderStatus.FILLED,
    }
    sale: dict[str, Any] = {}
    if expected.side == "sell":
        sale = {
            "realized_quantity": expected.quantity,
            "buy_price": Decimal(10_000),
            "sell_price": Decimal(PRICE),
            "realized_profit": 500 * expected.quantity,
            "profit_rate": Decimal("5.00"),
        }
    return OrderFilled(
        **order,
        filled_quantity=expected.quantity,
        fill_price=Decimal(PRICE),
        amount=PRICE * expected.quantity,
        **sale,
    )


def day_messages(day: Day) -> list[dict[str, Any]]:
    """What Discord takes on a good day: the plan, every expected fill, the summary."""
    events = [EVENTS["premarket_plan"], *(fill(e) for e in day.expected), EVENTS["daily_summary"]]
    return [payload for event in events for payload in render(event, "en")]


def test_a_good_day_counts_nothing() -> None:
    day = make_day(1, 600)
    assert len(day.expected) >= 3
    assert compare_notifications(day, day_messages(day)) == NoteCount(0, 0, 0)


def test_a_missing_fill_is_lost_and_a_quoted_one_doubtful() -> None:
    day = make_day(1, 600)
    messages = day_messages(day)
    first_fill, second_fill = messages[1], messages[2]

    without = [m for m in messages if m is not first_fill]
    assert compare_notifications(day, without) == NoteCount(1, 0, 0)

    quoted = [
        unconfirmed_notice(m, "no answer from Discord: ConnectionError", "en")
        if m is first_fill
        else m
        for m in messages
    ]
    assert compare_notifications(day, quoted) == NoteCount(0, 1, 0)

    # A notice quoting another message does not stand for the missing one.
    other = unconfirmed_notice(second_fill, "no answer from Discord: ReadTimeout", "en")
    assert compare_notifications(day, [*without, other]) == NoteCount(1, 0, 0)


def test_the_plan_or_summary_quoted_is_doubtful_and_twice_is_a_duplicate() -> None:
    day = make_day(2, 600)
    messages = day_messages(day)
    plan, summary = messages[0], messages[-1]
    notice = unconfirmed_notice(summary, "no answer from Discord: ConnectionError", "en")
    assert compare_notifications(day, [*messages[:-1], notice]) == NoteCount(0, 1, 0)
    assert compare_notifications(day, messages[1:-1]) == NoteCount(2, 0, 0)
    assert compare_notifications(day, [plan, *messages]) == NoteCount(0, 0, 1)
