"""Redis wiped in the middle of a session costs nothing: KIS is the source of truth.

Our state (orders, ledger, plan, queues, the notifier's marks) is wiped while the simulator keeps
its account, as a Redis restarted without persistence (or a FLUSHALL) would do. The day's plan
comes back from the data volume, the executor adopts KIS's orders with their fills, and the day
goes on: the orders KIS receives are those of the same day without the wipe, wherever it falls,
and no notification is queued twice. See docs/ARCHITECTURE.md, 'When our state is lost'.
"""

from __future__ import annotations

import time as time_module
from collections import Counter
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
import redis

from shared.infra.clock import KST
from shared.infra.redis_keys import Keys
from shared.state.journal import Journal
from shared.trading.orders import OrderStatus
from tests.conftest import wait_for
from tests.e2e.conftest import Market, kill

pytestmark = pytest.mark.slow

DAY = date(2026, 3, 3)
START = time(8, 31)
"""A minute into the pre-market phase, when the scheduler plans the day."""
OPEN = time(9, 0)
PICKS = {
    "000910": ("익절예정", 10000),
    "000920": ("손절예정", 10000),
    "000930": ("늦게진입", 10000),
}
PRICES = {
    "000910": [("09:00", 10000), ("11:00", 10501)],  # bought at the open, take profit at 11:00
    "000920": [("09:00", 10000), ("11:00", 9699)],  # bought at the open, stop loss at 11:00
    "000930": [("09:00", 9000), ("10:30", 10000)],  # enters its band at 10:30
}
DAY_WITHOUT_WIPE = Counter(
    {
        # 10,000,000 won split over three picks: 3,333,333 each, 333 shares at 10,000; the late
        # one fewer, capped by the cash left after the first two buys and their fees.
        ("000910", "buy", 333): 1,
        ("000920", "buy", 333): 1,
        ("000930", "buy", 318): 1,
        ("000910", "sell", 333): 1,
        ("000920", "sell", 333): 1,
    }
)
"""The orders KIS receives on this day when nothing is wiped (the ``none`` case proves it)."""

NEW_EACH_TIME = frozenset({"error", "service_start", "service_stop"})


def wipe_our_state(client: redis.Redis) -> int:
    """Delete every key of this system and of RQ, as an empty Redis would have none of them,
    except the test's simulated clock: its anchor (``CLOCK_HOLD``, tests/e2e/conftest.py) stands
    for real time, which no wipe changes, and a process that had not read it yet would stop."""
    anchors = Keys().clock_epoch("", 0).removesuffix(":0").encode()  # kat:clock:epoch:
    doomed = [
        k
        for pattern in ("kat:*", "rq:*")
        for k in client.scan_iter(match=pattern)
        if not k.startswith(anchors)
    ]
    return int(client.delete(*doomed)) if doomed else 0


def told(events: list[dict[str, Any]]) -> Counter[tuple[object, ...]]:
    """What the notifications say, without the fields that differ between two tellings; a
    process starting or stopping (a restarted scheduler) and errors are new facts each time."""
    return Counter(
        (e["event"], e.get("code"), e.get("order_id"), e.get("filled_quantity"), e.get("session"))
        for e in events
        if e["event"] not in NEW_EACH_TIME
    )


@pytest.mark.parametrize(
    ("wiped_at", "restarted"),
    [
        (None, False),
        (time(8, 31), False),  # after the plan, before any buy
        (time(10, 0), False),  # two positions open, the third pick not bought yet
        (time(10, 0), True),  # the same with the scheduler restarted (a reboot)
        (time(10, 45), True),  # three positions open, before the exits
        (time(11, 30), False),  # after the exits
    ],
    ids=["none", "0831-running", "1000-running", "1000-restarted", "1045-restarted", "1130"],
)
def test_a_redis_wiped_mid_session_changes_no_order_of_the_day(
    open_market: Any, wiped_at: time | None, restarted: bool, tmp_path: Path
) -> None:
    """Running: the scheduler sees its sentinel vanish. Restarted with the wipe: the new
    scheduler remembers nothing, reads the plan from its file and finds KIS's orders missing
    from our records. The trade journal on the data volume has each of the day's two sales
    once (docs/ARCHITECTURE.md, 'Track record')."""
    data = tmp_path / "data"
    market: Market = open_market(
        datetime.combine(DAY, START, KST), 600, prices=PRICES, picks=PICKS, DATA_DIR=str(data)
    )
    market.executor()
    scheduler = market.scheduler()
    before: list[dict[str, Any]] = []

    def planned() -> bool:
        return bool(market.redis.exists(Keys().session_alive(DAY)))

    if wiped_at is not None:
        # The plan is made on the scheduler's first step, which reads KIS: on a loaded machine
        # that takes seconds, an hour or more of this clock. A wipe before the open waits for it
        # with the clock still held (tests/e2e/conftest.py), so that it falls between the plan
        # and the first buy however slow the machine; a later wipe waits for it too.
        if wiped_at < OPEN:
            wait_for(planned, timeout=60, what="the plan")
        market.wait_clock(datetime.combine(DAY, wiped_at, KST))
        market.wait(planned, timeout=30, what="the plan")
        if restarted:
            kill(scheduler)
        before = market.events()
        assert wipe_our_state(market.redis) > 0
        assert market.records(DAY) == [] and market.positions() == {}
        if wiped_at < OPEN:
            assert market.clock.now().time() < OPEN, f"the wipe came at {market.clock.now()}"
        if restarted:
            market.scheduler("scheduler-2")

    # The day's decisions are all made by 11:00; the test ends once KIS and our records show
    # them settled (or after the timeout, when the assertions below say what differs) rather
    # than at the close, hours of simulated time later.
    market.begin()
    settled_by = time_module.monotonic() + 150
    while time_module.monotonic() < settled_by and not settled(market, expected_records(wiped_at)):
        time_module.sleep(0.5)
    market.wait_clock(datetime.combine(DAY, time(12, 0), KST))  # an hour for a late duplicate

    at_kis = Counter((o["code"], o["side"], int(o["qty"])) for o in market.sim_orders())
    assert at_kis == DAY_WITHOUT_WIPE, "the orders of the day without the wipe"
    records = {r.id: r.status for r in market.records(DAY)}
    assert records == expected_records(wiped_at)
    assert set(market.positions()) == {"000930"}
    after = market.events()
    twice = told(before) & told(after)
    assert not twice, f"told again after the wipe: {sorted(twice)}"
    assert not market.events("entries_stopped"), "new buys went on"
    journaled = Journal(data, "sim").read()
    assert journaled.corrupt == ()
    assert sorted((e.code, e.quantity, e.reason) for e in journaled.entries) == [
        ("000910", 333, "take_profit"),
        ("000920", 333, "stop_loss"),
    ]
    if wiped_at is not None:
        [lost] = [e for e in after if e["event"] == "error" and "rebuilding" in e["message"]]
        assert "vanished" in lost["message"] or "lack" in lost["message"]


def expected_records(wiped_at: time | None) -> dict[str, OrderStatus]:
    """Our records at the end of the day's trading."""
    return {
        "20260303-000910-buy-entry": OrderStatus.FILLED,
        "20260303-000920-buy-entry": OrderStatus.FILLED,
        "20260303-000930-buy-entry": OrderStatus.FILLED,
        # adopted after a wipe past the exits: the sells' own reasons are ours, not KIS's
        **(
            {
                "20260303-000910-sell-adopted": OrderStatus.FILLED,
                "20260303-000920-sell-adopted": OrderStatus.FILLED,
            }
            if wiped_at is not None and wiped_at >= time(11, 0)
            else {
                "20260303-000910-sell-take_profit": OrderStatus.FILLED,
                "20260303-000920-sell-stop_loss": OrderStatus.FILLED,
            }
        ),
    }


def settled(market: Market, records: dict[str, OrderStatus]) -> bool:
    """KIS has the day's orders and our records are those expected, the position left too."""
    at_kis = Counter((o["code"], o["side"], int(o["qty"])) for o in market.sim_orders())
    return (
        at_kis == DAY_WITHOUT_WIPE
        and {r.id: r.status for r in market.records(DAY)} == records
        and set(market.positions()) == {"000930"}
    )


def test_a_redis_wiped_after_the_close_posts_no_second_summary(open_market: Any) -> None:
    """The day's summary is marked on the data volume as well as in Redis: a scheduler restarted
    after the close on an empty Redis finds the mark there and neither closes the day again nor
    tells it twice (docs/ARCHITECTURE.md, 'Once a session')."""
    market: Market = open_market(
        datetime(2026, 3, 3, 15, 25, tzinfo=KST),
        600,
        prices={"000910": [("09:00", 10000)]},
        holdings=[{"code": "000910", "name": "보유", "qty": 10, "avg_price": 10000}],
    )
    market.executor()
    scheduler = market.scheduler()
    market.wait(lambda: market.events("daily_summary"), timeout=60, what="the daily summary")
    kill(scheduler)
    assert wipe_our_state(market.redis) > 0

    market.scheduler("scheduler-2")
    market.wait(
        lambda: any(h.get("phase") == "postmarket" for h in market.schedulers()),
        timeout=60,
        what="the restarted scheduler in its post-market",
    )
    deadline = time_module.monotonic() + 15
    while time_module.monotonic() < deadline:
        assert not market.events("daily_summary"), "the day's summary was told again"
        time_module.sleep(0.5)
