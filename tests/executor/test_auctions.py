"""Orders KIS holds for an auction: a limit buy that meets a volatility interruption waits for
the VI's auction instead of being cancelled after BUY_LIMIT_WAIT_SECONDS, and its rest is
cancelled only once that auction is over (docs/ARCHITECTURE.md, 'Auctions and volatility
interruptions'). The simulator runs with ``SIM_VI=on`` at 10x: a VI lasts 12 to 15 real seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from shared.kis import Side
from shared.messaging.queues import enqueue_reconcile
from shared.trading.orders import OrderStatus
from tests.conftest import wait_for
from tests.executor.conftest import SAMSUNG, SESSION, Harness

pytestmark = pytest.mark.processes

SPEED = 10.0
LIMIT = 73_400
"""The band's last tick for a target of 70,000: the entry buy's limit."""


def at(moment: datetime) -> str:
    return moment.replace(tzinfo=None).isoformat(timespec="seconds")


def vi_world(make_harness: Callable[..., Harness], after_the_vi: int) -> Harness:
    """Samsung (a KOSPI 200 member: a dynamic VI at 3 %) trades at 70,000, then jumps to
    72,500 twenty clock seconds in: the jump does not trade, a VI holds the price for 2 minutes
    or more and ends in an auction at ``after_the_vi``."""
    world = make_harness(speed=SPEED, SIM_VI="on")
    start = world.clock.now()
    path = [
        ["09:00", 70_000],
        [at(start + timedelta(seconds=20)), 72_500],
        [at(start + timedelta(seconds=60)), after_the_vi],
    ]
    world.sim.admin("POST", "prices", json={SAMSUNG: path})
    wait_for(lambda: world.client().current_price(SAMSUNG).vi, timeout=15, what="the VI")
    return world


def vi_over(world: Harness) -> bool:
    return not world.client().current_price(SAMSUNG).vi


def test_a_limit_buy_in_a_vi_waits_for_its_auction_and_fills_there(
    make_harness: Callable[..., Harness],
) -> None:
    world = vi_world(make_harness, after_the_vi=72_500)
    buy = world.order(SAMSUNG, Side.BUY, 10, limit=LIMIT)
    world.burst(BUY_LIMIT_WAIT_SECONDS="0.5")

    # KIS took it; the VI holds it unfilled, and it is neither cancelled nor sent again.
    record = world.get(buy.id)
    assert (record.status, record.waiting_for) == (OrderStatus.ACCEPTED, "volatility_interruption")
    assert record.error_message == "accepted, waiting for the volatility interruption's auction"
    assert world.events(buy.id) == ["order_accepted", "order_waiting"]

    wait_for(lambda: vi_over(world), timeout=30, what="the VI's end")
    enqueue_reconcile(world.redis, SESSION.isoformat())
    world.burst(ORDER_STALE_SECONDS="1")

    record = world.get(buy.id)
    assert (record.status, record.filled_quantity, record.average_fill_price) == (
        OrderStatus.FILLED,
        10,
        72_500,
    )
    assert (record.waiting_for, record.error_message) == (
        "",
        "filled in the volatility interruption's auction",
    )
    assert world.events(buy.id) == ["order_accepted", "order_waiting", "order_filled"]
    position = world.ledger.get(SAMSUNG)
    assert position is not None and position.quantity == 10
    assert world.sim_orders(SAMSUNG) == 1


def test_a_limit_buy_the_vi_auction_does_not_fill_is_cancelled_after_it(
    make_harness: Callable[..., Harness],
) -> None:
    world = vi_world(make_harness, after_the_vi=75_000)
    buy = world.order(SAMSUNG, Side.BUY, 10, limit=LIMIT)
    world.burst(BUY_LIMIT_WAIT_SECONDS="0.5")
    assert world.get(buy.id).waiting_for == "volatility_interruption"

    # While the VI lasts, reconciliation leaves the buy working.
    enqueue_reconcile(world.redis, SESSION.isoformat())
    world.burst(ORDER_STALE_SECONDS="0.1")
    assert not vi_over(world)
    assert world.get(buy.id).status is OrderStatus.ACCEPTED

    wait_for(lambda: vi_over(world), timeout=30, what="the VI's end")
    enqueue_reconcile(world.redis, SESSION.isoformat())
    world.burst(ORDER_STALE_SECONDS="0.1")

    record = world.get(buy.id)
    assert (record.status, record.filled_quantity) == (OrderStatus.CANCELLED, 0)
    assert record.error_message == (
        "0 of 10 bought; the remaining 10 cancelled: the volatility interruption's auction "
        f"did not fill it at {LIMIT} won"
    )
    assert world.events(buy.id) == ["order_accepted", "order_waiting", "order_cancelled"]
    assert world.ledger.get(SAMSUNG) is None
