"""Pure parts of the money rules: settlement days, fees and tax, and the account codec."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

from services.kis_sim.codec import dump_account, dump_order, load_account, load_order
from shared.broker.accounts import Account, Holding
from shared.broker.money import Fees
from shared.broker.orders import Fill, Order
from shared.broker.settlement import Pending, settlement_day
from shared.infra.clock import KST
from shared.trading.costs import TradeCosts
from shared.trading.market_calendar import KrxCalendar


def test_settlement_skips_closed_days() -> None:
    calendar = KrxCalendar()
    assert settlement_day(calendar, date(2026, 3, 3), 2) == date(2026, 3, 5)
    # Friday before the 2026 Lunar New Year (16-18 Feb): D+2 is the next Friday.
    assert settlement_day(calendar, date(2026, 2, 13), 2) == date(2026, 2, 20)
    # Across the year-end closing day (31 Dec) and New Year's Day.
    assert settlement_day(calendar, date(2026, 12, 30), 2) == date(2027, 1, 5)
    assert settlement_day(calendar, date(2026, 3, 3), 0) == date(2026, 3, 3)


def test_fees_and_tax_are_cut_below_one_won() -> None:
    fees = Fees(TradeCosts(Decimal("0.0140527"), Decimal("0.20")))
    assert fees.fee("buy", 700_000) == 98  # 98.37
    assert fees.tax("buy", 700_000) == 0
    assert fees.tax("sell", 799_999) == 1_599  # 1,599.998
    assert fees.buy_cost(700_000) == 700_098
    assert fees.affordable_qty(700_097, 70_000) == 9
    assert fees.affordable_qty(700_098, 70_000) == 10
    assert (
        fees.buy_cost(fees.spendable(1_000_000))
        <= 1_000_000
        < fees.buy_cost(fees.spendable(1_000_000) + 1)
    )


def an_order() -> Order:
    at = datetime(2026, 3, 3, 10, 0, tzinfo=KST)
    return Order(
        "0000000007",
        "50000000-01",
        "005930",
        "삼성전자",
        "buy",
        "01",
        11,
        0,
        at,
        at.replace(hour=15, minute=30),
        fills=[Fill(6, 70_000, at, 63, 0, 1.5)],
        checked_until_kst=at,
        reserve_unit=91_000,
        scheduled=[Fill(5, 70_100, at.replace(second=1))],
        lag_seconds=1.5,
    )


def test_codec_round_trips_an_account() -> None:
    order = an_order()
    account = Account(
        "50000000-01",
        10_000_000,
        {"005930": Holding("005930", "삼성전자", 6, 420_000)},
        [order],
        [Pending(date(2026, 3, 5), "005930", "buy", -420_063)],
    )
    stored_orders = [load_order(json.loads(json.dumps(dump_order(o)))) for o in account.orders]
    assert load_account(json.loads(json.dumps(dump_account(account))), stored_orders) == account


def test_an_order_stored_before_its_times_named_their_clock_still_loads() -> None:
    stored = dump_order(an_order())
    before = {
        {"placed_kst": "placed_at", "lapses_kst": "lapses_at"}.get(k, k): v
        for k, v in stored.items()
    }
    before["checked_until"] = before.pop("checked_until_kst")
    before["received_at"] = before.pop("received_epoch")
    assert load_order(json.loads(json.dumps(before))) == load_order(stored)
