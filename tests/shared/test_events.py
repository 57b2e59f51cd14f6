"""The event contract: every kind round-trips, bad payloads are refused clearly, notify is safe."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
import redis

from shared.infra.clock import KST
from shared.kis.models import Side
from shared.messaging.events import (
    EVENT_TYPES,
    BuyAttempt,
    DailySummary,
    EventError,
    EventKind,
    OrderAccepted,
    OrderFilled,
    from_payload,
    notify,
    order_accepted,
    order_cancelled,
    order_error,
    order_filled,
    order_rejected,
    order_unknown,
    to_payload,
)
from shared.messaging.queues import queued_notifications
from shared.trading.orders import OrderIntent, OrderRecord, OrderStatus, Reason
from shared.trading.trades import Realized
from tests.conftest import free_port
from tests.notifier.samples import EVENTS, EXECUTOR_PAYLOADS, payload, trade


def test_every_kind_has_one_class_and_a_sample() -> None:
    assert set(EVENT_TYPES) == set(EventKind)
    assert all(cls.kind is kind for kind, cls in EVENT_TYPES.items())
    assert {kind.value for kind in EventKind} == set(EVENTS)


@pytest.mark.parametrize("kind", sorted(EVENTS))
def test_every_kind_round_trips_through_json(kind: str) -> None:
    event = EVENTS[kind]
    sent = to_payload(event)
    assert sent["event"] == kind
    wire = json.loads(json.dumps(sent, ensure_ascii=False))  # what RQ's JSON serializer keeps
    assert wire == sent
    assert from_payload(wire) == event
    assert type(from_payload(wire)) is type(event)


def test_a_buy_attempt_queued_before_its_target_was_sent_still_reads() -> None:
    old = {k: v for k, v in payload("buy_attempt").items() if k != "target"}
    read = from_payload(old)
    assert isinstance(read, BuyAttempt) and read.target is None


def test_payload_field_names_and_shapes() -> None:
    assert payload("buy_attempt") == {
        "event": "buy_attempt",
        "session": "2026-03-02",
        "code": "005930",
        "name": "삼성전자",
        "price": 70_500,
        "quantity": 14,
        "target": 70_000,
    }
    filled = payload("order_filled")
    assert (filled["side"], filled["reason"], filled["status"]) == ("sell", "take_profit", "filled")
    assert (filled["fill_price"], filled["profit_rate"]) == ("73500", "5.00")
    summary = payload("daily_summary")
    assert summary["orders"] == {"filled": 4, "rejected": 1}
    assert summary["positions"][0]["buy_session"] == "2026-03-05"
    assert all("qty" not in p for p in map(payload, EVENTS))


@pytest.mark.parametrize("name", sorted(EXECUTOR_PAYLOADS))
def test_the_executors_payloads_of_today_parse_exactly(name: str) -> None:
    sent = EXECUTOR_PAYLOADS[name]
    assert to_payload(from_payload(sent)) == sent


def record(
    side: Side = Side.SELL, reason: Reason = Reason.TAKE_PROFIT, **changes: Any
) -> OrderRecord:
    intent = OrderIntent(date(2026, 3, 9), "005930", "삼성전자", side, reason, 14, 73_000)
    base = OrderRecord(
        intent=intent,
        status=OrderStatus.FILLED,
        created_kst=datetime(2026, 3, 9, 10, tzinfo=KST),
        touched_epoch=0.0,
        broker_order_no="0000117057",
        filled_quantity=14,
        average_fill_price=Decimal("73500.5"),
        attempts=2,
        error_code="APBK0952",
        error_message="not shown by any event",
    )
    return replace(base, **changes)


REALIZED = Realized(
    order_id="20260309-005930-sell-take_profit",
    code="005930",
    name="삼성전자",
    quantity=14,
    buy_price=Decimal(70000),
    sell_price=Decimal("73500.5"),
    profit=49_007,
    reason=Reason.TAKE_PROFIT,
)


def test_the_order_constructors_speak_the_executors_payload_shape() -> None:
    """The executor's events, built from records, are the payloads the notifier has read."""
    buy = record(side=Side.BUY, reason=Reason.ENTRY, status=OrderStatus.ACCEPTED)
    as_sent = record(average_fill_price=Decimal(73500), attempts=1)
    sale = replace(REALIZED, sell_price=Decimal(73500), profit=49_000)
    assert to_payload(order_filled(as_sent, sale)) == EXECUTOR_PAYLOADS["order_filled_sell"]
    assert from_payload(to_payload(order_accepted(buy, reconciled=True))) == order_accepted(
        buy, reconciled=True
    )
    for build in (order_rejected, order_unknown, order_cancelled, order_error):
        event = build(buy, "EGW00201", "too fast")
        assert from_payload(to_payload(event)) == event


def test_a_sell_fill_carries_its_sale() -> None:
    event = order_filled(record(), REALIZED)
    assert event.sale == REALIZED
    assert (event.sale.profit, event.sale.profit_rate) == (49_007, Decimal("5.00"))
    assert (event.fill_price, event.amount) == (Decimal("73500.5"), 1_029_007)
    assert order_filled(record()).sale is None


def test_the_daily_summary_lists_the_ledgers_trades_with_their_rate() -> None:
    sent = payload("daily_summary")
    assert sent["realized"][1] == {
        "order_id": "20260309-000660-sell-stop_loss",
        "code": "000660",
        "name": "종목0660",
        "quantity": 10,
        "buy_price": "70000",
        "sell_price": "73500",
        "profit": -21_000,
        "reason": "stop_loss",
        "profit_rate": "5.00",
    }
    summary = from_payload(sent)
    assert isinstance(summary, DailySummary)
    assert summary.realized[1] == trade(660, "stop_loss", -21_000)
    with pytest.raises(EventError, match=r"daily_summary\.realized\[0\]\.profit_rate: .* not a"):
        from_payload(sent | {"realized": [sent["realized"][0] | {"profit_rate": "many"}]})


def test_a_daily_summary_queued_before_the_trades_had_one_shape_still_reads() -> None:
    # What the release before queued: each trade without the ledger's order id.
    before = payload("daily_summary")
    before["realized"] = [without(t, "order_id") for t in before["realized"]]
    summary = from_payload(before)
    assert isinstance(summary, DailySummary)
    assert [t.order_id for t in summary.realized] == ["", "", ""]
    assert [(t.code, t.profit, t.profit_rate) for t in summary.realized] == [
        ("005930", 35_000, Decimal("5.00")),
        ("000660", -21_000, Decimal("5.00")),
        ("035720", 1_200, Decimal("5.00")),
    ]


@pytest.mark.parametrize(
    ("payload_", "error"),
    [
        ({"event": "buy_attempts"}, "unknown event kind 'buy_attempts'"),
        ({"code": "005930"}, "unknown event kind None"),
        ({"event": 7}, "unknown event kind 7"),
    ],
)
def test_an_unknown_kind_is_refused(payload_: dict[str, Any], error: str) -> None:
    with pytest.raises(EventError, match=error):
        from_payload(payload_)


def test_a_payload_must_be_an_object() -> None:
    with pytest.raises(EventError, match="must be an object"):
        from_payload(["buy_attempt"])  # type: ignore[arg-type]


def without(sent: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in sent.items() if k != name}


@pytest.mark.parametrize(
    ("kind", "field"),
    [
        ("buy_attempt", "quantity"),
        ("premarket_plan", "picks"),
        ("order_filled", "fill_price"),
        ("order_rejected", "message"),
        ("daily_summary", "reconciliation"),
        ("closed_day", "next_session"),
    ],
)
def test_a_missing_field_is_named(kind: str, field: str) -> None:
    with pytest.raises(EventError, match=f"^{kind}: missing field {field}$"):
        from_payload(without(payload(kind), field))


def test_optional_fields_may_be_absent() -> None:
    error = from_payload({"event": "error", "message": "KIS says closed"})
    assert error == replace(EVENTS["error"], service="", phase="", message="KIS says closed")
    accepted = from_payload(without(payload("order_accepted"), "reconciled"))
    assert isinstance(accepted, OrderAccepted) and not accepted.reconciled


@pytest.mark.parametrize(
    ("kind", "changes", "error"),
    [
        ("buy_attempt", {"price": "70500"}, r"buy_attempt\.price: expected a whole number"),
        ("buy_attempt", {"quantity": True}, r"buy_attempt\.quantity: expected a whole number"),
        ("buy_attempt", {"quantity": 14.0}, r"buy_attempt\.quantity: expected a whole number"),
        ("buy_attempt", {"session": "03/02/2026"}, r"buy_attempt\.session: .* not an ISO date"),
        ("buy_attempt", {"session": 20260302}, r"buy_attempt\.session: expected a string"),
        ("buy_attempt", {"code": 5930}, r"buy_attempt\.code: expected a string"),
        ("sell_attempt", {"reason": "greed"}, r"sell_attempt\.reason: 'greed' is not one of"),
        ("order_accepted", {"side": "01"}, r"order_accepted\.side: expected buy or sell"),
        ("order_accepted", {"status": "done"}, r"order_accepted\.status: 'done' is not one of"),
        ("order_accepted", {"reconciled": "yes"}, r"order_accepted\.reconciled: expected true"),
        ("order_filled", {"fill_price": 73500.5}, r"order_filled\.fill_price: expected a decimal"),
        ("order_filled", {"fill_price": "a lot"}, r"order_filled\.fill_price: .* not a number"),
        ("order_filled", {"profit_rate": "NaN"}, r"order_filled\.profit_rate: .* not a finite"),
        ("premarket_plan", {"picks": "005930"}, r"premarket_plan\.picks: expected a list"),
        ("premarket_plan", {"held_picks": [5930]}, r"premarket_plan\.held_picks\[0\]: expected"),
        ("daily_summary", {"orders": {"done": 1}}, r"daily_summary\.orders key: 'done' is not"),
        ("daily_summary", {"orders": {"filled": "4"}}, r"daily_summary\.orders\.filled: expected"),
        ("daily_summary", {"positions": [{}]}, r"daily_summary\.positions\[0\]: missing field"),
        ("buy_attempt", {"qty": 14}, r"buy_attempt: unexpected field qty"),
    ],
)
def test_an_ill_typed_field_is_named(kind: str, changes: dict[str, Any], error: str) -> None:
    with pytest.raises(EventError, match=error):
        from_payload(payload(kind) | changes)


def test_the_realised_fields_come_together() -> None:
    partial = without(payload("order_filled"), "profit_rate")
    with pytest.raises(EventError, match=r"order_filled: .*all together or not at all"):
        from_payload(partial)
    with pytest.raises(EventError, match="all together"):
        replace(EVENTS["order_filled"], buy_price=None)


def test_only_registered_well_typed_events_have_a_payload() -> None:
    with pytest.raises(EventError, match=r"buy_attempt\.price: expected a whole number"):
        to_payload(BuyAttempt(date(2026, 3, 2), "005930", "삼성전자", "70500", 14))  # type: ignore[arg-type]
    with pytest.raises(EventError, match="not a registered event"):
        to_payload(Realized("x", "005930", "n", 1, Decimal(1), Decimal(1), 0, Reason.EXPIRY))  # type: ignore[arg-type]
    assert isinstance(EVENTS["order_filled"], OrderFilled)
    assert issubclass(EventError, ValueError)


def test_notify_queues_the_payload(redis_client: redis.Redis) -> None:
    assert notify(redis_client, EVENTS["closed_day"])
    assert queued_notifications(redis_client) == [payload("closed_day")]


def test_notify_never_raises_when_redis_is_down(caplog: pytest.LogCaptureFixture) -> None:
    down = redis.Redis(port=free_port(), socket_connect_timeout=1, socket_timeout=1)
    with caplog.at_level(logging.ERROR, logger="shared.messaging.events"):
        assert notify(down, EVENTS["buy_attempt"]) is False
    [record] = caplog.records
    assert "could not queue the buy_attempt notification" in record.getMessage()
    assert record.exc_info is not None and isinstance(record.exc_info[1], redis.ConnectionError)


def test_notify_never_raises_on_an_ill_typed_event(redis_client: redis.Redis) -> None:
    bad = BuyAttempt(date(2026, 3, 2), "005930", "삼성전자", 70_500, "14")  # type: ignore[arg-type]
    assert notify(redis_client, bad) is False
    assert queued_notifications(redis_client) == []
