"""The scheduler's pure decisions: which picks to buy, which positions the rules may sell."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from services.scheduler.decisions import (
    codes_with_live_sells,
    picks_to_buy,
    positions_in_scope,
    sells_to_place,
    unsettled,
)
from shared.infra.clock import KST
from shared.kis.models import Holding as BalanceRow
from shared.kis.models import Side
from shared.state.positions import Position
from shared.trading.orders import OrderIntent, OrderRecord, OrderStatus, Reason, order_id
from shared.trading.picks import Pick
from shared.trading.rules import (
    DayPlan,
    PricedPosition,
    Thresholds,
    entry_buys,
    exit_sell,
    intraday_sells,
)

DAY = date(2026, 3, 3)
BAND = Thresholds().buy_band_ratio
PICKS = (
    Pick("000010", "at target", 10000),
    Pick("000020", "band top", 10000),
    Pick("000030", "under band top", 10000),
    Pick("000040", "below target", 10000),
    Pick("000050", "no quote", 10000),
)


def row(
    code: str, qty: int, avg: str | int, price: int, *, orderable: int | None = None
) -> BalanceRow:
    """One holding of a balance, the decisions' input (they are pure: values in, values out)."""
    return BalanceRow.from_api(
        {
            "pdno": code,
            "prdt_name": f"name-{code}",
            "hldg_qty": str(qty),
            "ord_psbl_qty": str(qty if orderable is None else orderable),
            "pchs_avg_pric": str(Decimal(avg)),
            "prpr": str(price),
        }
    )


def record(
    code: str, side: Side, reason: Reason, status: OrderStatus, filled: int = 0, applied: int = 0
) -> OrderRecord:
    return OrderRecord(
        intent=OrderIntent(DAY, code, code, side, reason, 10, 10000),
        status=status,
        created_kst=datetime(2026, 3, 3, 9, tzinfo=KST),
        touched_epoch=0.0,
        filled_quantity=filled,
        applied_quantity=applied,
    )


def entry(pick: Pick, price: int, quantity: int) -> OrderIntent:
    """An entry buy, a limit order at the band's last tick (10,490 for a 10,000 target), not
    to be sent once the price is under the target."""
    return OrderIntent(
        DAY, pick.code, pick.name, Side.BUY, Reason.ENTRY, quantity, price, 10_490, pick.target
    )


def test_buy_decisions_at_every_band_boundary() -> None:
    prices = {"000010": 10000, "000020": 10500, "000030": 10499, "000040": 9999}
    decisions = entry_buys(DAY, PICKS, prices, 2_000_000, BAND)
    assert decisions == [
        entry(PICKS[0], 10000, 200),  # exactly at the target: buy
        entry(PICKS[2], 10499, 190),  # one won under target x 1.05: buy 2,000,000 // 10499
    ]  # 10500 (= target x 1.05) and 9999 (under the target) and a code without a price: none


def test_a_pick_too_dear_for_its_share_of_cash_is_not_bought() -> None:
    assert entry_buys(DAY, PICKS[:1], {"000010": 10000}, 9_999, BAND) == []


def test_picks_to_buy_skips_any_pick_with_an_entry_order_whatever_its_status() -> None:
    plan = DayPlan(DAY, 10_000_000, 2_000_000, PICKS, ())
    rejected = record("000010", Side.BUY, Reason.ENTRY, OrderStatus.REJECTED)
    other_sell = record("000020", Side.SELL, Reason.STOP_LOSS, OrderStatus.FILLED)
    remaining = picks_to_buy(plan, {rejected.id, other_sell.id})
    assert [p.code for p in remaining] == ["000020", "000030", "000040", "000050"]
    assert order_id(DAY, "000010", Side.BUY, Reason.ENTRY) == "20260303-000010-buy-entry"


def test_bot_scope_sells_only_the_ledger_positions_at_the_ledger_cost() -> None:
    held = {
        "000010": row("000010", 200, "9000", 10501),  # the balance's cost differs from ours
        "000099": row("000099", 10, "5000", 10000),  # the user's own holding: +100 %
        "000030": row("000030", 300, "10000", 9699, orderable=250),  # some already on sale
    }
    ledger = {
        "000010": Position("000010", "ours", 200, Decimal(10000), date(2026, 3, 2)),
        "000030": Position("000030", "ours too", 300, Decimal(10000), date(2026, 3, 2)),
        "000077": Position("000077", "gone", 5, Decimal(10000), date(2026, 3, 2)),
    }
    holdings = positions_in_scope(held, ledger, "bot")
    assert holdings == [
        PricedPosition("000010", "ours", 200, Decimal(10000), 10501, date(2026, 3, 2)),
        PricedPosition("000030", "ours too", 250, Decimal(10000), 9699, date(2026, 3, 2)),
    ]
    reasons = {d.code: d.reason for d in intraday_sells(DAY, holdings, Thresholds())}
    assert reasons == {"000010": Reason.TAKE_PROFIT, "000030": Reason.STOP_LOSS}


def test_all_scope_is_every_holding_at_the_balance_cost_like_the_seed() -> None:
    held = {
        "000010": row("000010", 200, "9000", 10501),
        "000099": row("000099", 10, "5000", 10000),
    }
    ledger = {"000010": Position("000010", "ours", 200, Decimal(10000), date(2026, 3, 2))}
    holdings = positions_in_scope(held, ledger, "all")
    assert holdings == [
        PricedPosition("000010", "name-000010", 200, Decimal(9000), 10501, date(2026, 3, 2)),
        # Not opened by the system: no buy session, so it never expires.
        PricedPosition("000099", "name-000099", 10, Decimal(5000), 10000, None),
    ]


def test_a_code_with_a_live_sell_of_any_reason_gets_no_second_sell() -> None:
    records = [
        record("000010", Side.SELL, Reason.TAKE_PROFIT, OrderStatus.ACCEPTED),
        record("000020", Side.SELL, Reason.STOP_LOSS, OrderStatus.REJECTED),
        record("000030", Side.SELL, Reason.EXPIRY, OrderStatus.CANCELLED),
        record("000040", Side.SELL, Reason.MANUAL, OrderStatus.FILLED),
        record("000050", Side.BUY, Reason.ENTRY, OrderStatus.PENDING),
    ]
    assert codes_with_live_sells(records) == {"000010", "000040"}
    decisions = [
        exit_sell(DAY, PricedPosition(code, code, 10, Decimal(10000), 9000, None), Reason.STOP_LOSS)
        for code in ("000010", "000020", "000030", "000040", "000050")
    ]
    kept = sells_to_place(decisions, codes_with_live_sells(records))
    assert [d.code for d in kept] == ["000020", "000030", "000050"]


def test_intents_carry_the_deterministic_ids() -> None:
    (buy,) = entry_buys(DAY, PICKS[:1], {"000010": 10000}, 2_000_000, BAND)
    assert (buy.id, buy.quantity, buy.price_seen) == ("20260303-000010-buy-entry", 200, 10000)
    held = PricedPosition("000010", "x", 200, Decimal(10000), 10100, date(2026, 2, 24))
    sell = exit_sell(DAY, held, Reason.EXPIRY)
    assert sell.id == "20260303-000010-sell-expiry"
    assert sell.side is Side.SELL


def test_unsettled_orders_are_open_ones_and_filled_ones_not_in_the_ledger_yet() -> None:
    records = [
        record("000010", Side.BUY, Reason.ENTRY, OrderStatus.PENDING),
        record("000020", Side.BUY, Reason.ENTRY, OrderStatus.FILLED, filled=10, applied=10),
        record("000030", Side.BUY, Reason.ENTRY, OrderStatus.FILLED, filled=10, applied=0),
        record("000040", Side.BUY, Reason.ENTRY, OrderStatus.REJECTED),
        record("000050", Side.BUY, Reason.ENTRY, OrderStatus.UNKNOWN),
    ]
    assert [r.intent.code for r in unsettled(records)] == ["000010", "000030", "000050"]
