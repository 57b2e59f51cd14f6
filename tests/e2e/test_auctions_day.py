"""An afternoon under KRX's timing: a stop-loss that meets a volatility interruption and a
take-profit that reaches KIS in the closing call, each placed once, followed to its auction's
fill and reported as waiting (docs/ARCHITECTURE.md, 'Auctions and volatility interruptions').

The simulator runs with ``SIM_AUCTIONS=on`` and ``SIM_VI=on``; the scheduler and the executor
run as processes at 60x from 14:57. Delays, not the rules, put each sell in its auction: the
simulator holds the stop-loss's POST a real second (its ``slow`` fault), as a loaded KIS would,
so the stop-loss decided at 15:00 on 9,650 reaches KIS during the VI that 9,050 triggers at
15:00:30; and the executor is down from 15:04 to 15:20 (a restart), so the take-profit decided
from 15:12 on 10,550 is sent in the closing call, as a limit at the day's lower limit.

Run on its own (``pytest tests/e2e/test_auctions_day.py -s``) it prints the day's orders.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from shared.infra.clock import KST
from shared.state.positions import Position
from shared.trading.orders import OrderStatus
from tests.e2e.conftest import KEYS, Market

pytestmark = [pytest.mark.slow, pytest.mark.processes]

DAY = date(2026, 3, 3)
STOP = "000200"
TAKE = "000100"
NAMES = {TAKE: "종가익절", STOP: "VI손절"}
BEFORE = date(2026, 2, 27)
PRICES = {
    # -3.5 % at 15:00: a stop-loss; 9,050 at 15:00:30 is -6.2 % on the last trade, a dynamic VI
    # (6 % for a code outside KOSPI 200): 9,650 stands for 2 minutes or more, then one auction.
    STOP: [("09:00", 10000), ("15:00", 9650), ("15:00:30", 9050)],
    # +5.5 % at 15:12: a take-profit; the closing call matches at the path's close, 10,600.
    TAKE: [("09:00", 10000), ("15:12", 10550), ("15:25", 10600)],
}


def held(code: str) -> Position:
    return Position(code, NAMES[code], 100, Decimal(10000), BEFORE, "bot")


def slow_next_order(market: Market, seconds: float) -> None:
    """KIS holds the next order POST ``seconds`` real seconds, then places it."""
    market.sim.admin(
        "POST",
        "faults",
        json={"kind": "slow", "path": "order-cash", "count": 1, "delay_seconds": seconds},
    )


def print_the_days_orders(market: Market) -> None:
    print("\nthe day's orders at KIS (SIM_AUCTIONS=on, SIM_VI=on):")
    for o in market.sim_orders():
        fills = ", ".join(
            f"{f['qty']} at {f['price']:,} {f['filled_kst'][11:19]}" for f in o["fills"]
        )
        kind = f"limit {o['price']:,}" if o["price"] else "market"
        print(f"  {o['odno']} {o['side']} {o['code']} x{o['qty']} {kind}: {fills or 'no fill'}")
    print("our records:")
    for r in market.records(DAY):
        accepted = r.broker_accepted_kst.strftime("%H:%M:%S") if r.broker_accepted_kst else "-"
        print(
            f"  {r.id}: {r.status.value}, {r.filled_quantity} at {r.average_fill_price}, "
            f"accepted {accepted}, sent {r.attempts}x; {r.error_message}"
        )


def test_a_stop_loss_in_a_vi_and_a_take_profit_in_the_closing_auction(open_market: Any) -> None:
    market: Market = open_market(
        datetime(2026, 3, 3, 14, 57, tzinfo=KST),
        60,
        prices=PRICES,
        names=NAMES,
        holdings=[
            {"code": code, "name": name, "qty": 100, "avg_price": 10000}
            for code, name in NAMES.items()
        ],
        sim_env={"SIM_AUCTIONS": "on", "SIM_VI": "on"},
    )
    for code in NAMES:
        market.redis.hset(KEYS.positions(), code, held(code).to_json())
    slow_next_order(market, 1.0)  # the stop-loss: 60 clock seconds late, into the VI
    executor = market.executor()
    market.scheduler()

    stop_id, take_id = f"20260303-{STOP}-sell-stop_loss", f"20260303-{TAKE}-sell-take_profit"

    def status(order_id: str) -> OrderStatus | None:
        record = next((r for r in market.records(DAY) if r.id == order_id), None)
        return None if record is None else record.status

    market.wait(
        lambda: any(e["order_id"] == stop_id for e in market.events("order_waiting")),
        timeout=60,
        what="the stop-loss waiting for the VI's auction",
    )
    # While the VI lasts the stop-loss works at KIS, unfilled, and is not sent again.
    [waiting] = [r for r in market.records(DAY) if r.id == stop_id]
    assert waiting.status is OrderStatus.ACCEPTED
    assert "volatility interruption" in waiting.error_message
    market.wait(lambda: status(stop_id) is OrderStatus.FILLED, timeout=30, what="the VI auction")

    # The executor restarts: down before the take-profit is decided, back in the closing call.
    assert market.clock.now().strftime("%H:%M") < "15:11"
    executor.stop()
    market.wait(lambda: status(take_id) is OrderStatus.PENDING, timeout=30, what="the take-profit")
    market.wait_clock(datetime(2026, 3, 3, 15, 20, 5, tzinfo=KST))
    market.start("services.executor", "executor-again")

    market.wait(
        lambda: any(e["order_id"] == take_id for e in market.events("order_waiting")),
        timeout=60,
        what="the take-profit waiting for the closing auction",
    )
    market.wait(lambda: market.events("daily_summary"), timeout=60, what="the daily summary")
    print_the_days_orders(market)

    # Each sell placed once, each filled in full at its auction's one price.
    at_kis = sorted(
        (o["code"], o["side"], o["qty"], [(f["qty"], f["price"]) for f in o["fills"]])
        for o in market.sim_orders()
    )
    assert at_kis == [
        (TAKE, "sell", 100, [(100, 10600)]),  # the closing auction's price
        (STOP, "sell", 100, [(100, 9050)]),  # the VI auction's price
    ]
    # KIS takes only limit orders in the closing call: the take-profit, a market sell, went as a
    # limit at the day's lower limit (yesterday's close on the path, 10,600, less 30 %), which
    # any closing price crosses. The stop-loss went as decided, a market order.
    prices = {o["code"]: o["price"] for o in market.sim_orders()}
    assert prices[TAKE] == 7420
    fills = {o["code"]: o["fills"][0]["filled_kst"][11:19] for o in market.sim_orders()}
    assert fills[TAKE] == "15:30:00"
    assert "15:02:30" <= fills[STOP] < "15:03:01"  # 2 minutes and 0-30 s after 15:00:30
    records = {r.id: r for r in market.records(DAY)}
    assert {i: (r.status, r.filled_quantity, r.attempts) for i, r in records.items()} == {
        stop_id: (OrderStatus.FILLED, 100, 1),
        take_id: (OrderStatus.FILLED, 100, 1),
    }
    assert (records[take_id].sent_price, records[stop_id].sent_price) == (7420, 0)
    assert records[take_id].intent.limit_price is None  # the decision stays a market sell
    accepted_take = records[take_id].broker_accepted_kst
    assert accepted_take is not None and accepted_take.strftime("%H:%M") >= "15:20"

    # Told: accepted, waiting for the auction, filled; once each.
    for order_id in (stop_id, take_id):
        told = [
            e["event"]
            for e in market.events()
            if e.get("order_id") == order_id and e["event"].startswith("order_")
        ]
        assert told == ["order_accepted", "order_waiting", "order_filled"], (order_id, told)
    auctions = {e["order_id"]: e["auction"] for e in market.events("order_waiting")}
    assert auctions == {stop_id: "volatility_interruption", take_id: "closing"}

    # Counted once: the ledger, the day's trades and the summary after the closing auction.
    assert market.positions() == {}
    [summary] = market.events("daily_summary")
    realized = sorted(
        (t["code"], t["quantity"], t["profit"], t["reason"]) for t in summary["realized"]
    )
    assert realized == [(TAKE, 100, 60_000, "take_profit"), (STOP, 100, -95_000, "stop_loss")]
    assert summary["orders"] == {"filled": 2}
    assert summary["positions"] == []
    assert [(e["code"], e["reason"]) for e in market.events("sell_attempt")] == [
        (STOP, "stop_loss"),
        (TAKE, "take_profit"),
    ]


def test_expiry_sells_reach_kis_before_the_closing_call(open_market: Any) -> None:
    """The five-session rule's sells go in the pre-close window (15:15-15:20), in continuous
    trading: KIS has them before the closing call, they fill at once, and post-market has
    nothing to follow to the close."""
    code = "000700"
    expiring = Position(code, "만기매도", 100, Decimal(10000), date(2026, 2, 23), "bot")
    market: Market = open_market(
        datetime(2026, 3, 3, 15, 13, tzinfo=KST),
        120,
        prices={code: [("09:00", 10000), ("15:25", 10300)]},
        names={code: expiring.name},
        holdings=[{"code": code, "name": expiring.name, "qty": 100, "avg_price": 10000}],
        sim_env={"SIM_AUCTIONS": "on", "SIM_VI": "on"},
    )
    market.redis.hset(KEYS.positions(), code, expiring.to_json())
    market.executor()
    market.scheduler()
    market.wait(lambda: market.events("daily_summary"), timeout=60, what="the daily summary")

    [order] = market.sim_orders()
    [fill] = order["fills"]
    assert (order["code"], order["side"], fill["qty"], fill["price"]) == (code, "sell", 100, 10000)
    assert "15:15:00" <= fill["filled_kst"][11:19] < "15:20:00"
    [record] = market.records(DAY)
    assert (record.id, record.status, record.waiting_for) == (
        f"20260303-{code}-sell-expiry",
        OrderStatus.FILLED,
        "",
    )
    accepted = record.broker_accepted_kst
    assert accepted is not None and accepted.strftime("%H:%M:%S") < "15:20:00"
    assert not market.events("order_waiting")
    [summary] = market.events("daily_summary")
    assert [(t["code"], t["reason"]) for t in summary["realized"]] == [(code, "expiry")]


def test_expiry_sells_in_the_closing_auction_when_set(open_market: Any) -> None:
    """``EXPIRY_SELLS_IN=closing_auction``: nothing is sold in the pre-close window; post-market
    sends the expiry sell into the closing call as a limit order at the day's lower limit
    (KIS takes only limit orders there), and it fills at the closing price, 10,300."""
    code = "000700"
    expiring = Position(code, "만기매도", 100, Decimal(10000), date(2026, 2, 23), "bot")
    market: Market = open_market(
        datetime(2026, 3, 3, 15, 13, tzinfo=KST),
        120,
        prices={code: [("09:00", 10000), ("15:25", 10300)]},
        names={code: expiring.name},
        holdings=[{"code": code, "name": expiring.name, "qty": 100, "avg_price": 10000}],
        sim_env={"SIM_AUCTIONS": "on", "SIM_VI": "on"},
        EXPIRY_SELLS_IN="closing_auction",
    )
    market.redis.hset(KEYS.positions(), code, expiring.to_json())
    market.executor()
    market.scheduler()
    market.wait(lambda: market.events("daily_summary"), timeout=60, what="the daily summary")

    [order] = market.sim_orders()
    [fill] = order["fills"]
    # The lower limit: the previous close (the path's 15:25 point, 10,300, held to yesterday's
    # close as well) less 30 %, to the tick.
    assert (order["code"], order["side"], order["qty"], order["price"]) == (code, "sell", 100, 7210)
    assert (fill["qty"], fill["price"], fill["filled_kst"][11:19]) == (100, 10300, "15:30:00")
    [record] = market.records(DAY)
    assert (record.id, record.status, record.intent.limit_price) == (
        f"20260303-{code}-sell-expiry",
        OrderStatus.FILLED,
        7210,
    )
    accepted = record.broker_accepted_kst
    assert accepted is not None and "15:20:00" <= accepted.strftime("%H:%M:%S") < "15:30:00"
    assert [e["auction"] for e in market.events("order_waiting")] == ["closing"]
    assert market.positions() == {}
    [summary] = market.events("daily_summary")
    assert [(t["code"], t["profit"], t["reason"]) for t in summary["realized"]] == [
        (code, 30_000, "expiry")
    ]
