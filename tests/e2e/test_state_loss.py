"""Redis restarted empty in the middle of a session: KIS is the source of truth.

Our state (orders, ledger, plan, queues) is wiped while the simulator keeps its account, as a
Redis restart without persistence would do. The scheduler notices its plan is gone, stops new
entries and says so once; the executor adopts KIS's orders with their fills, so every position
still exits by its rules and nothing is placed twice.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from typing import Any

import pytest
import redis

from shared.infra.clock import KST
from shared.trading.orders import OrderStatus
from tests.e2e.conftest import Market, kill

pytestmark = pytest.mark.slow

DAY = date(2026, 3, 3)
PICKS = {
    "000910": ("익절예정", 10000),
    "000920": ("손절예정", 10000),
    "000930": ("늦게진입", 10000),
}
PRICES = {
    "000910": [("09:00", 10000), ("11:00", 10501)],  # bought at the open, take profit at 11:00
    "000920": [("09:00", 10000), ("11:00", 9699)],  # bought at the open, stop loss at 11:00
    "000930": [("09:00", 9000), ("10:30", 10000)],  # enters its band after the loss
}


def wipe_our_state(client: redis.Redis) -> int:
    """Delete every key of this system and of RQ, as an empty Redis would have none of them."""
    doomed = [k for pattern in ("kat:*", "rq:*") for k in client.scan_iter(match=pattern)]
    return int(client.delete(*doomed)) if doomed else 0


@pytest.mark.parametrize("restarted", [False, True], ids=["running", "restarted"])
def test_a_redis_wiped_mid_session_places_nothing_twice_and_every_position_exits(
    open_market: Any, restarted: bool
) -> None:
    """Running: the scheduler sees its sentinel vanish. Restarted with the wipe (a reboot): the
    new scheduler remembers nothing and finds KIS's orders of the day missing from our records."""
    market: Market = open_market(
        datetime(2026, 3, 3, 8, 50, tzinfo=KST), 600, prices=PRICES, picks=PICKS
    )
    market.executor()
    scheduler = market.scheduler()
    market.wait(
        lambda: len([r for r in market.records(DAY) if r.status is OrderStatus.FILLED]) == 2,
        timeout=60,
        what="the two buys at the open filled",
    )
    market.wait_clock(datetime(2026, 3, 3, 10, 0, tzinfo=KST))
    if restarted:
        kill(scheduler)
    assert wipe_our_state(market.redis) > 0
    assert market.records(DAY) == [] and market.positions() == {}
    if restarted:
        market.scheduler("scheduler-2")

    market.wait(lambda: market.events("daily_summary"), timeout=120, what="the daily summary")

    at_kis = Counter((o["code"], o["side"]) for o in market.sim_orders())
    assert at_kis == {
        ("000910", "buy"): 1,
        ("000920", "buy"): 1,
        ("000910", "sell"): 1,
        ("000920", "sell"): 1,
    }, "no order twice, no new entry after the loss, both positions exited"
    records = {r.id: r for r in market.records(DAY)}
    assert {i: r.status for i, r in records.items()} == {
        "20260303-000910-buy-entry": OrderStatus.FILLED,  # adopted from KIS
        "20260303-000920-buy-entry": OrderStatus.FILLED,  # adopted from KIS
        "20260303-000910-sell-take_profit": OrderStatus.FILLED,
        "20260303-000920-sell-stop_loss": OrderStatus.FILLED,
    }
    assert market.positions() == {}
    [stopped] = market.events("entries_stopped")
    assert "vanished" in stopped["message"] or "lack" in stopped["message"]
    assert not market.events("buy_attempt"), "no buy after the loss"
