"""Volatility interruptions with SIM_VI=on: the price holds, vi_cls_code is Y, orders wait,
and one auction price at the end (services/kis_sim/README.md, 'Volatility interruptions')."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.conftest import wait_for
from tests.kis_sim.conftest import KisClient, KisFactory


def clock(client: KisClient) -> datetime:
    return datetime.fromisoformat(client.sim.admin("GET", "health").json()["now"])


def at(moment: datetime) -> str:
    return moment.replace(tzinfo=None).isoformat(timespec="seconds")


def rows(client: KisClient) -> dict[str, dict[str, Any]]:
    return {r["odno"]: r for r in client.execution_rows()}


def test_a_dynamic_vi_holds_the_price_and_ends_in_one_auction(kis: KisFactory) -> None:
    # 30 clock seconds a real second: the 2-minute VI lasts 4 to 5 real seconds.
    client = kis(SIM_VI="on", CLOCK_SPEED="30")
    now = clock(client)
    trigger = now + timedelta(seconds=60)
    path = [
        ["09:00", 70_000],
        [at(now + timedelta(seconds=30)), 71_000],
        [at(trigger), 74_000],  # +4.2 % on the last trade: a KOSPI 200 member's dynamic VI
        [at(now + timedelta(seconds=90)), 74_500],
    ]
    client.sim.admin("POST", "prices", json={"005930": path})
    client.sim.admin(
        "POST",
        "accounts",
        json={
            "account": "50000000-01",
            "cash": 10_000_000,
            "holdings": [{"code": "005930", "name": "삼성전자", "qty": 5, "avg_price": 70_000}],
        },
    )
    sell = client.placed("sell", "005930", 2, division="00", price=73_500)
    wait_for(lambda: clock(client) >= trigger + timedelta(seconds=40), timeout=30, what="the VI")
    quote = client.quote("005930")
    assert (quote["stck_prpr"], quote["vi_cls_code"]) == ("71000", "Y")
    # The path crossed the resting sell, but nothing trades during the VI.
    assert rows(client)[sell]["tot_ccld_qty"] == "0"
    market = client.placed("buy", "005930", 1)
    assert rows(client)[market]["tot_ccld_qty"] == "0"
    wait_for(lambda: clock(client) >= trigger + timedelta(seconds=155), timeout=30, what="its end")
    after = rows(client)
    # One price for both: the path's at the VI's end, not the sell's own limit.
    assert (after[sell]["tot_ccld_qty"], after[sell]["avg_prvs"]) == ("2", "74500")
    assert (after[market]["tot_ccld_qty"], after[market]["avg_prvs"]) == ("1", "74500")
    quote = client.quote("005930")
    assert (quote["stck_prpr"], quote["vi_cls_code"]) == ("74500", "N")


def test_a_static_vi_comes_at_10_percent_from_the_open_in_small_steps(kis: KisFactory) -> None:
    client = kis(SIM_VI="on")
    now = clock(client)
    steps = [["09:00", 70_000], ["09:10", 72_000], ["09:20", 74_000], ["09:30", 76_000]]
    # Each step is under 3 %, but 77,000 is 10 % above the open.
    path = [*steps, [at(now - timedelta(seconds=10)), 77_000]]
    client.sim.admin("POST", "prices", json={"005930": path})
    quote = client.quote("005930")
    assert (quote["stck_prpr"], quote["vi_cls_code"]) == ("76000", "Y")


def test_without_vi_the_same_jump_trades_at_once(client: KisClient) -> None:
    now = clock(client)
    path = [["09:00", 70_000], [at(now - timedelta(seconds=10)), 77_000]]
    client.sim.admin("POST", "prices", json={"005930": path})
    quote = client.quote("005930")
    assert (quote["stck_prpr"], quote["vi_cls_code"]) == ("77000", "N")
