"""A buy decided on a stream tick spends one request at paper's one request a second: the cash
read ahead stands in for the buyable-cash check, it is read again after a fill, a stale one is
not used, and the scheduler's reads give way while a streamed code is near its band.

The simulator (paper rules, 1 request/s, its WebSocket), the executor and the scheduler run as
processes on a real-time clock; requests are counted at the simulator (``/sim/stats``, by
tr_id). See docs/ARCHITECTURE.md, 'The cash read ahead'.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from shared.infra.clock import KST
from shared.state.cash_ahead import CashAhead, valid_ahead
from shared.trading.rules import buy_limit_price
from tests.conftest import free_port
from tests.e2e.conftest import KEYS, Market

pytestmark = [pytest.mark.slow, pytest.mark.processes]

START = datetime(2026, 3, 3, 9, 30, tzinfo=KST)
TARGET = 10_000
LIMIT = buy_limit_price(TARGET, Decimal("1.05"))
NEAR, FAR = 9_900, 9_000
"""1 % under the target (within 2 % of the band: near) and 10 % under it (far)."""
BUYABLE, BALANCE, BUY = "VTTC8908R", "VTTC8434R", "VTTC0012U"
"""Paper's tr_ids of inquire-psbl-order, the balance and a cash buy."""


def open_paper_market(open_market: Any, prices: dict[str, int]) -> Market:
    """Picks at ``prices`` (target 10,000 each), paper's rate, prices on the stream."""
    ws_port = free_port()
    market: Market = open_market(
        START,
        1,
        prices={code: [("09:00", price)] for code, price in prices.items()},
        picks={code: (f"P{code}", TARGET) for code in prices},
        cash=30_000_000,
        sim_env={
            "SIM_RULES": "paper",
            "SIM_RATE_LIMIT": "1",
            "SIM_WS_PORT": str(ws_port),
            "SIM_WS_TICK_SECONDS": "0.02",
        },
        SIM_RULES="paper",
        KIS_RATE_LIMIT="1",
        QUOTE_SOURCE="stream",
        KIS_WS_URL=f"ws://127.0.0.1:{ws_port}",
        KIS_HTS_ID="simhts01",
        SCHEDULER_MIN_CYCLE_SECONDS="1",
    )
    market.executor()
    market.scheduler()
    return market


def watched(market: Market) -> dict[str, dict[str, Any]]:
    raw = market.redis.get(KEYS.watchlist())
    return {r["code"]: r for r in json.loads(raw)["rows"]} if raw else {}


def ahead(market: Market) -> CashAhead | None:
    return valid_ahead(market.redis, KEYS, LIMIT)


def stats(market: Market) -> dict[str, Any]:
    answer: dict[str, Any] = market.sim.admin("GET", "stats").json()
    return answer


def count(snapshot: dict[str, Any], tr_id: str) -> int:
    return int(snapshot["requests_by_tr"].get(tr_id, 0))


def ready(market: Market, near: list[str]) -> None:
    """The near picks on the healthy stream with their prices, the cash read ahead at their
    limit."""

    def check() -> bool:
        rows = watched(market)
        return (
            all(c in rows and rows[c]["on_stream"] and rows[c]["price"] for c in near)
            and ahead(market) is not None
        )

    market.wait(check, timeout=90, what="near picks streamed and the cash read ahead")


def enter_band(market: Market, codes: list[str], seconds: float = 2.0) -> None:
    """The codes' prices reach the target ``seconds`` from now (clock time, whole seconds)."""
    moment = (market.clock.now() + timedelta(seconds=seconds)).replace(microsecond=0)
    market.sim.admin(
        "POST",
        "prices",
        json={c: [["09:00", NEAR], [moment.isoformat(), TARGET]] for c in codes},
    )


def stats_when_orders(market: Market, orders: int, timeout: float = 30.0) -> dict[str, Any]:
    """The simulator's counters as soon as it has received ``orders`` orders (polled fast, so
    no read made a second later is counted)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        snapshot = stats(market)
        if snapshot["orders"] >= orders:
            return snapshot
        time.sleep(0.02)
    raise AssertionError(f"the simulator received fewer than {orders} orders\n{market.logs()}")


def test_a_tick_buy_spends_one_request_and_reads_yield_near_the_band(open_market: Any) -> None:
    market = open_paper_market(open_market, {"000010": NEAR, "000020": NEAR, "000030": FAR})
    ready(market, ["000010", "000020"])

    # Near the band, the scheduler's upkeep (a balance every 5 s) waits: no balance read.
    quiet = stats(market)
    time.sleep(8)
    assert count(stats(market), BALANCE) == count(quiet, BALANCE), market.logs()

    # 000010 enters the band: its buy is decided on the tick and costs one request, the POST.
    first = ahead(market)
    assert first is not None
    before = stats(market)
    enter_band(market, ["000010"])
    at_order = stats_when_orders(market, before["orders"] + 1)
    assert at_order["requests"] - before["requests"] == 1, market.logs()
    assert count(at_order, BUY) - count(before, BUY) == 1
    assert count(at_order, BUYABLE) == count(before, BUYABLE)
    [record] = [r for r in market.records(START.date()) if r.intent.code == "000010"]
    assert f"order {record.id}: buyable cash at {LIMIT} read ahead" in market.logs()

    # Its fill changes the cash: the answer is read again, under a later generation, with the
    # cash the buy left (000020 is still near at the same limit).
    market.wait(
        lambda: (a := ahead(market)) is not None and a.generation > first.generation,
        timeout=20,
        what="the cash read again after the fill",
    )
    again = ahead(market)
    assert again is not None
    assert again.buyable.orderable_cash < first.buyable.orderable_cash
    assert count(stats(market), BUYABLE) > count(at_order, BUYABLE)
    bought = market.records(START.date())
    assert any(r.intent.code == "000010" and r.filled_quantity > 0 for r in bought)

    # Once nothing is near any more, upkeep reads the balance again within a few seconds.
    market.sim.admin("POST", "prices", json={"000020": [["09:00", FAR]]})
    far = stats(market)
    market.wait(
        lambda: count(stats(market), BALANCE) > count(far, BALANCE),
        timeout=20,
        what="a balance read once nothing is near",
    )


def test_a_stale_cash_answer_is_not_used(open_market: Any) -> None:
    """Two picks enter the band on the same tick: the first buy uses the answer read ahead and
    moves its record, which makes that answer stale; the second asks KIS again."""
    market = open_paper_market(open_market, {"000010": NEAR, "000020": NEAR})
    ready(market, ["000010", "000020"])
    before = stats(market)
    enter_band(market, ["000010", "000020"])
    both = stats_when_orders(market, before["orders"] + 2, timeout=40)
    assert count(both, BUY) - count(before, BUY) == 2
    assert count(both, BUYABLE) - count(before, BUYABLE) == 1, market.logs()
    records = {r.intent.code: r for r in market.records(START.date())}
    log = market.logs()
    read_ahead = [c for c, r in records.items() if f"order {r.id}: buyable cash" in log]
    assert len(read_ahead) == 1, log
