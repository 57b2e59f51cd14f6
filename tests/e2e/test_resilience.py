"""Crashes and a second copy: a restarted scheduler repeats nothing, a standby never trades
until the leader is gone and then takes over within the lock's lifetime."""

from __future__ import annotations

import time
from collections import Counter
from datetime import date, datetime
from typing import Any

import pytest

from shared.infra.clock import KST
from shared.kis.models import Side
from shared.state.order_book import OrderBook
from shared.trading.orders import OrderIntent, OrderStatus, Reason
from tests.conftest import ServiceProcess
from tests.e2e.conftest import KEYS, Market, kill

pytestmark = pytest.mark.slow

DAY = date(2026, 3, 3)
LOCK_SECONDS = 3
PICKS = {"000810": ("처음부터", 10000), "000820": ("같이산다", 10000), "000830": ("나중에", 10000)}
PRICES = {
    "000810": [("09:00", 10000), ("11:00", 10501)],  # bought at the open, take-profit at 11:00
    "000820": [("09:00", 10000)],  # bought at the open, held
    "000830": [("09:00", 9000), ("10:30", 10000)],  # enters its band at 10:30
    # The orphan's code (see the restart test): cheap, as the plan splits all the cash over
    # the picks and leaves 10,000 won.
    "000840": [("09:00", 1000)],
}
EVERY_ORDER = {
    ("000810", "buy"),
    ("000820", "buy"),
    ("000830", "buy"),
    ("000810", "sell"),
}


def open_day(open_market: Any) -> Market:
    market: Market = open_market(
        datetime(2026, 3, 3, 8, 50, tzinfo=KST),
        600,
        prices=PRICES,
        picks=PICKS,
        SCHEDULER_LOCK_SECONDS=str(LOCK_SECONDS),
    )
    market.executor()
    return market


def all_filled(market: Market, expected: set[tuple[str, str]] = EVERY_ORDER) -> bool:
    records = market.records(DAY)
    return {(r.intent.code, r.intent.side.label) for r in records} == expected and all(
        r.status is OrderStatus.FILLED for r in records
    )


def assert_each_order_once(market: Market, expected: set[tuple[str, str]] = EVERY_ORDER) -> None:
    records = market.records(DAY)
    at_kis = Counter((o["code"], o["side"]) for o in market.sim_orders())
    assert len(market.sim_orders()) == len(records) == len(expected)
    assert set(at_kis) == expected and set(at_kis.values()) == {1}
    assert len({r.id for r in records}) == len(records)
    assert all(r.attempts == 1 for r in records), [(r.id, r.attempts) for r in records]
    assert len(market.events("premarket_plan")) == 1
    buys = Counter(e["code"] for e in market.events("buy_attempt"))
    assert set(buys.values()) <= {1}


def heartbeat_of(market: Market, process: ServiceProcess) -> dict[str, Any] | None:
    for beat in market.schedulers():
        if beat["pid"] == process.process.pid:
            return beat
    return None


def test_a_scheduler_killed_mid_day_is_replaced_without_repeating_an_intent(
    open_market: Any,
) -> None:
    market = open_day(open_market)
    first = market.scheduler("scheduler-1")
    market.wait(lambda: market.records(DAY), timeout=20, what="the first buys")
    kill(first)
    # The worst moment to die: after creating an intent, before queueing its job. The record
    # is pending with no job; the new leader's periodic reconciliation gets it sent, once.
    orphan = OrderIntent(DAY, "000840", "고아주문", Side.BUY, Reason.ENTRY, 1, 1000)
    assert market.records(DAY) and OrderBook(market.redis, KEYS, market.clock).create(orphan)
    expected = {*EVERY_ORDER, ("000840", "buy")}

    second = market.scheduler("scheduler-2")
    market.wait(lambda: all_filled(market, expected), timeout=40, what="every order filled")
    # A few more cycles past the last decision: nothing new may appear.
    market.wait_clock(datetime(2026, 3, 3, 11, 40, tzinfo=KST))
    assert_each_order_once(market, expected)
    # The replacement made the decisions of the rest of the day.
    assert "order 20260303-000830-buy-entry" in second.output()
    assert "order 20260303-000810-sell-take_profit" in second.output()
    beat = heartbeat_of(market, second)
    assert beat is not None and beat["role"] == "leader"
    assert "is now the leader" in second.output()
    assert second.process.poll() is None


def test_two_schedulers_one_trades_and_the_standby_takes_over(open_market: Any) -> None:
    market = open_day(open_market)
    pair = [market.scheduler("scheduler-a"), market.scheduler("scheduler-b")]

    def roles() -> dict[str, ServiceProcess]:
        found = {}
        for process in pair:
            beat = heartbeat_of(market, process)
            if beat is not None:
                found[str(beat["role"])] = process
        return found

    market.wait(lambda: len(roles()) == 2, timeout=20, what="one leader and one standby")
    leader, standby = roles()["leader"], roles()["standby"]
    market.wait(
        lambda: any(r.status is OrderStatus.FILLED for r in market.records(DAY)),
        timeout=20,
        what="the first fill",
    )
    assert "is now the leader" not in standby.output()

    lock_left = market.redis.pttl(KEYS.leader("scheduler")) / 1000
    kill(leader)
    killed_at = time.monotonic()
    market.wait(
        lambda: (heartbeat_of(market, standby) or {}).get("role") == "leader",
        timeout=3 * LOCK_SECONDS,
        what="the standby to take over",
    )
    takeover = time.monotonic() - killed_at
    # The dead leader's lock lapses at most LOCK_SECONDS after its last refresh, and the
    # standby times its next look to that moment: it leads a moment after the lapse (the
    # margin covers this test's own polling).
    assert 0 < lock_left <= LOCK_SECONDS
    assert takeover < LOCK_SECONDS + 0.3, takeover
    assert takeover - lock_left < 0.3, (takeover, lock_left)

    market.wait(lambda: all_filled(market), timeout=40, what="every order filled")
    market.wait_clock(datetime(2026, 3, 3, 11, 40, tzinfo=KST))
    assert_each_order_once(market)
    assert "order 20260303-000830-buy-entry" in standby.output()
    print(
        f"standby led {takeover:.2f}s after the kill, {takeover - lock_left:.2f}s after the lapse"
    )
