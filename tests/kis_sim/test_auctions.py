"""KRX's single-price auctions with SIM_AUCTIONS=on: orders from 08:30 matched at 09:00, orders
from 15:20 matched at 15:30, each at one price (services/kis_sim/README.md, 'Auctions')."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.conftest import begin_clock, wait_for
from tests.kis_sim.conftest import KisClient, KisFactory, rejection

DAY = "2026-03-03"

FAST = "120"
"""Clock seconds a real second: a clock minute in half a real second. The clock is held at the
start while the test places its orders, so they are in before the call or the open however slowly
the test runs, then runs from :func:`begin`."""


def started(kis: KisFactory, start: str, **env: str) -> KisClient:
    """A simulator whose clock is held at ``start`` (KST, HH:MM:SS) until :func:`begin`."""
    return kis(CLOCK_START=f"{DAY}T{start}+09:00", CLOCK_SPEED=FAST, CLOCK_HOLD="true", **env)


def begin(redis_url: str, start: str) -> None:
    begin_clock(redis_url, f"{DAY}T{start}+09:00", float(FAST))


def clock(client: KisClient) -> str:
    now = datetime.fromisoformat(client.sim.admin("GET", "health").json()["now"])
    return now.strftime("%H:%M:%S")


def wait_until(client: KisClient, hhmmss: str) -> None:
    wait_for(lambda: clock(client) >= hhmmss, timeout=60, what=f"the clock at {hhmmss}")


def rows(client: KisClient) -> dict[str, dict[str, Any]]:
    return {r["odno"]: r for r in client.execution_rows()}


def test_without_auctions_orders_before_the_open_are_refused(kis: KisFactory) -> None:
    client = started(kis, "08:40:00")
    assert rejection(client.order("buy", "005930", 1))[1] == "40570000"


def test_the_opening_auction_takes_orders_from_0830_and_matches_them_at_0900(
    kis: KisFactory, redis_url: str
) -> None:
    client = started(kis, "08:58:00", SIM_AUCTIONS="on")
    path = [["00:00", 70_000], ["09:00", 70_500], ["09:00:20", 72_000]]
    client.sim.admin("POST", "prices", json={"005930": path})
    market = client.placed("buy", "005930", 2)
    above = client.placed("buy", "005930", 1, division="00", price=71_000)
    below = client.placed("buy", "005930", 1, division="00", price=70_000)
    assert clock(client) < "09:00:00", "the orders must reach the simulator before the open"
    before = rows(client)
    assert [before[o]["tot_ccld_qty"] for o in (market, above, below)] == ["0", "0", "0"]
    assert [before[o]["rmn_qty"] for o in (market, above, below)] == ["2", "1", "1"]
    begin(redis_url, "08:58:00")
    wait_until(client, "09:01:00")
    after = rows(client)
    # One price, the path's at 09:00, for every order it crosses; not the later 72,000.
    assert (after[market]["tot_ccld_qty"], after[market]["avg_prvs"]) == ("2", "70500")
    assert (after[above]["tot_ccld_qty"], after[above]["avg_prvs"]) == ("1", "70500")
    assert (after[below]["tot_ccld_qty"], after[below]["rmn_qty"]) == ("0", "1")
    # After the match, trading is continuous again: a market buy fills at once.
    now = client.placed("buy", "005930", 1)
    assert (rows(client)[now]["tot_ccld_qty"], rows(client)[now]["avg_prvs"]) == ("1", "72000")


def test_the_closing_auction_shows_orders_unfilled_and_matches_them_at_1530(
    kis: KisFactory, redis_url: str
) -> None:
    client = started(kis, "15:21:00", SIM_AUCTIONS="on")
    path = [["00:00", 70_000], ["15:10", 70_200], ["15:25", 75_000], ["15:30", 71_000]]
    client.sim.admin("POST", "prices", json={"005930": path})
    market = client.placed("buy", "005930", 1)
    above = client.placed("buy", "005930", 1, division="00", price=72_000)
    below = client.placed("buy", "005930", 1, division="00", price=70_500)
    assert clock(client) < "15:30:00", "the orders must reach the simulator before the close"
    before = rows(client)
    assert [before[o]["tot_ccld_qty"] for o in (market, above, below)] == ["0", "0", "0"]
    begin(redis_url, "15:21:00")
    # The price stands still from 15:20 until the match, whatever the path does meanwhile.
    wait_until(client, "15:26:00")
    assert client.quote("005930")["stck_prpr"] == "70200"
    assert rows(client)[market]["tot_ccld_qty"] == "0"
    wait_until(client, "15:30:30")
    after = rows(client)
    assert (after[market]["tot_ccld_qty"], after[market]["avg_prvs"]) == ("1", "71000")
    assert (after[above]["tot_ccld_qty"], after[above]["avg_prvs"]) == ("1", "71000")
    assert (after[below]["tot_ccld_qty"], after[below]["rmn_qty"]) == ("0", "0")  # lapsed
    assert client.quote("005930")["stck_prpr"] == "71000"


def test_a_resting_order_does_not_fill_in_the_closing_call_but_joins_its_match(
    kis: KisFactory, redis_url: str
) -> None:
    client = started(kis, "15:19:00", SIM_AUCTIONS="on")
    # The path crosses the resting sell at 15:22, inside the call, then closes below it.
    path = [["00:00", 70_000], ["15:22", 75_000], ["15:30", 72_000]]
    client.sim.admin("POST", "prices", json={"005930": path})
    client.placed("buy", "005930", 3)
    sell = client.placed("sell", "005930", 3, division="00", price=71_000)
    assert clock(client) < "15:20:00", "the sell must rest before the call"
    begin(redis_url, "15:19:00")
    wait_until(client, "15:25:00")
    assert rows(client)[sell]["tot_ccld_qty"] == "0"
    wait_until(client, "15:30:30")
    assert (rows(client)[sell]["tot_ccld_qty"], rows(client)[sell]["avg_prvs"]) == ("3", "72000")
