"""A whole trading day, end to end: every boundary of the rules hit by a scripted price.

Simulator, scheduler and executor run as processes at 1200x; each price level holds for an
hour of simulated time (a dozen scheduler cycles or more), so what is asserted is exact.
"""

from __future__ import annotations

import json
import pickle
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from shared.infra.clock import KST
from shared.state.positions import Position
from shared.trading.orders import OrderStatus
from tests.e2e.conftest import KEYS, Market

pytestmark = pytest.mark.slow

DAY = date(2026, 3, 3)  # a Tuesday session (Monday the 2nd replaces 삼일절)
NAMES = {
    "000100": "익절종목",
    "000200": "손절종목",
    "000300": "밴드상단",
    "000400": "목표미달",
    "000500": "밴드안쪽",
    "000600": "이미보유",
}
PRICES = {
    "000100": [("09:00", 10000), ("10:00", 10500), ("11:00", 10501)],  # buy; +5.00 %; above
    "000200": [("09:00", 10000), ("10:00", 9700), ("11:00", 9699)],  # buy; -3.00 %; below
    "000300": [("09:00", 10500)],  # exactly target x 1.05 all day: never bought
    "000400": [("09:00", 9999)],  # under the target all day: never bought
    # One tick under the band's top (10,500): the highest price KRX quotes in the band (ticks of
    # 10 won here), which is the buy's limit: bought, then held.
    "000500": [("09:00", 10490)],
    "000600": [("09:00", 100000)],  # held before the day at 50,000 (+100 %), not the bot's
}


def assert_the_days_orders(market: Market) -> None:
    """The orders KIS received: three buys, one take-profit and one stop-loss sell, all filled;
    and our records of them."""
    at_kis = sorted((o["code"], o["side"], o["qty"], o["filled"]) for o in market.sim_orders())
    assert at_kis == [
        ("000100", "buy", 200, 200),
        ("000100", "sell", 200, 200),
        ("000200", "buy", 200, 200),
        ("000200", "sell", 200, 200),
        ("000500", "buy", 190, 190),
    ]
    records = {r.id: r for r in market.records(DAY)}
    assert {i: (r.intent.quantity, r.status, r.average_fill_price) for i, r in records.items()} == {
        "20260303-000100-buy-entry": (200, OrderStatus.FILLED, Decimal(10000)),
        "20260303-000200-buy-entry": (200, OrderStatus.FILLED, Decimal(10000)),
        "20260303-000500-buy-entry": (190, OrderStatus.FILLED, Decimal(10490)),
        "20260303-000100-sell-take_profit": (200, OrderStatus.FILLED, Decimal(10501)),
        "20260303-000200-sell-stop_loss": (200, OrderStatus.FILLED, Decimal(9699)),
    }


def open_the_day(open_market: Any, **env: Any) -> Market:
    """The day at 1200x from 08:50: the prices above, every code a pick at 10,000, 10,000,000
    won, 000600 held before the day; ``env`` as for ``open_market``."""
    market: Market = open_market(
        datetime(2026, 3, 3, 8, 50, tzinfo=KST),
        1200,
        prices=PRICES,
        names=NAMES,
        picks={code: (name, 10000) for code, name in NAMES.items()},
        cash=10_000_000,
        holdings=[{"code": "000600", "name": NAMES["000600"], "qty": 10, "avg_price": 50000}],
        **env,
    )
    return market


def test_a_full_day_hits_every_boundary_exactly(open_market: Any) -> None:
    market = open_the_day(open_market)
    market.executor()
    scheduler = market.scheduler()

    # Mid-morning, bought what could be bought: a cycle quotes only the two picks still to
    # buy (000300, 000400) and reads one balance; nothing else.
    market.wait_clock(datetime(2026, 3, 3, 10, 30, tzinfo=KST))
    [beat] = market.schedulers()
    cycle = beat["last_cycle"]
    assert cycle["phase"] == "intraday"
    assert cycle["calls"] == {
        "requests": 3,
        "price_calls": 2,
        "balance_calls": 1,
        "balance_pages": 1,
        "cash_calls": 0,
    }
    print(
        f"intraday cycle: {cycle['seconds'] * 1000:.1f} ms for {cycle['calls']['requests']} calls"
    )

    market.wait(lambda: market.events("daily_summary"), timeout=90, what="the daily summary")

    assert_the_days_orders(market)

    # The ledger after the close: only the position still held, with its buy session.
    assert market.positions() == {
        "000500": Position("000500", NAMES["000500"], 190, Decimal(10490), DAY, "bot")
    }
    export = market.folder / "export"
    exported = json.loads((export / "positions.json").read_text(encoding="utf-8"))
    assert exported["session"] == "2026-03-03"
    assert [
        (p["code"], p["quantity"], Decimal(p["average_price"]), p["buy_session"])
        for p in exported["positions"]
    ] == [("000500", 190, Decimal(10490), "2026-03-03")]
    with (export / "bought_dict.pkl").open("rb") as f:
        assert pickle.load(f) == {"000500": [NAMES["000500"], "20260303"]}  # noqa: S301

    # What the notifier was asked to say.
    [plan] = market.events("premarket_plan")
    assert (plan["cash"], plan["buy_amount"], plan["held_picks"]) == (
        10_000_000,
        2_000_000,
        ["000600"],
    )
    assert [p["code"] for p in plan["picks"]] == ["000100", "000200", "000300", "000400", "000500"]
    buys = sorted(
        (e["code"], e["name"], e["price"], e["quantity"]) for e in market.events("buy_attempt")
    )
    assert buys == [
        ("000100", NAMES["000100"], 10000, 200),
        ("000200", NAMES["000200"], 10000, 200),
        ("000500", NAMES["000500"], 10490, 190),
    ]
    sells = sorted(
        (e["code"], e["price"], e["quantity"], e["reason"]) for e in market.events("sell_attempt")
    )
    assert sells == [("000100", 10501, 200, "take_profit"), ("000200", 9699, 200, "stop_loss")]
    [summary] = market.events("daily_summary")
    realized = sorted(
        (t["code"], t["quantity"], t["profit"], t["reason"]) for t in summary["realized"]
    )
    assert realized == [
        ("000100", 200, 100_200, "take_profit"),
        ("000200", 200, -60_200, "stop_loss"),
    ]
    assert summary["realized_profit"] == 40_000
    assert [p["code"] for p in summary["positions"]] == ["000500"]
    # 10,000,000 - 2 x 2,000,000 - 190 x 10,490 + 200 x 10,501 + 200 x 9,699
    assert (summary["orderable_cash"], summary["cash_d2"]) == (8_046_900, 8_046_900)
    assert summary["orders"] == {"filled": 5}
    assert summary["reconciliation"] == "finished"  # the executor ran post-market's job
    assert not market.events("error")
    # The last balance read, kept for the status API (it costs no extra KIS call).
    snapshot = json.loads(market.redis.get(KEYS.account_snapshot()) or "{}")
    assert snapshot["cash_d2"] == 8_046_900
    assert sorted(h["code"] for h in snapshot["holdings"]) == ["000500", "000600"]

    # The loop kept its budget: one balance per cycle, a quote only for picks still to buy.
    [beat] = market.schedulers()
    assert beat["role"] == "leader"
    assert beat["cycles"] > 60
    assert scheduler.process.poll() is None, "the scheduler must not exit on its own"
