"""The scheduler loop driven step by step: fake KIS reads and clock, real Redis.

The stop event is set from the start, so every wait returns at once and ``step()`` does exactly
one iteration's work.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import redis

from services.scheduler.loop import ROLE, Scheduler
from services.scheduler.plan import stored_plan
from shared.clock import KST
from shared.control import HALTED, PAUSED, Controls, LeaderLock
from shared.kis.errors import KisTemporaryError
from shared.kis.models import Balance, Side
from shared.market_calendar import KrxCalendar
from shared.orders import OrderBook, OrderIntent, OrderStatus, Reason
from shared.picks import Pick, store_picks
from shared.positions import Position
from shared.queues import BUY_QUEUE, NOTIFY_QUEUE, RECONCILE_ORDERS, SELL_QUEUE, queue
from shared.redis_keys import Keys
from shared.settings import load_settings
from tests.conftest import wait_for
from tests.scheduler.fakes import FakeBroker, ManualClock, row

KEYS = Keys()
DAY = date(2026, 3, 3)
PICKS = (
    Pick("000010", "at target", 10000),
    Pick("000020", "held already", 10000),
    Pick("000030", "below target", 10000),
)


@pytest.fixture
def make(redis_url: str, redis_client: redis.Redis) -> Iterator[Any]:
    made: list[Scheduler] = []

    def build(at: datetime, broker: FakeBroker, instance: str = "one", **env: str) -> Scheduler:
        settings = load_settings({"REDIS_URL": redis_url, **env})
        stop = threading.Event()
        stop.set()
        scheduler = Scheduler(
            settings,
            redis_client,
            broker,
            ManualClock(at),
            KrxCalendar(),
            instance=instance,
            stop=stop,
        )
        made.append(scheduler)
        return scheduler

    yield build
    for scheduler in made:
        scheduler.close()


def events(client: redis.Redis, name: str | None = None) -> list[dict[str, Any]]:
    found = [job.args[0] for job in queue(client, NOTIFY_QUEUE).jobs]
    return [e for e in found if name is None or e["event"] == name]


def heartbeat(client: redis.Redis, instance: str) -> dict[str, Any]:
    raw = client.get(KEYS.heartbeat(ROLE, instance))
    assert raw is not None
    data: dict[str, Any] = json.loads(raw)
    return data


def test_a_closed_day_is_announced_once(make: Any, redis_client: redis.Redis) -> None:
    election = datetime(2026, 6, 3, 10, 0, tzinfo=KST)
    first = make(election, FakeBroker())
    first.step()
    first.step()
    first.close()
    make(election, FakeBroker(), instance="restarted").step()
    notices = events(redis_client, "closed_day")
    assert notices == [{"event": "closed_day", "day": "2026-06-03", "next_session": "2026-06-04"}]


def test_premarket_plans_once_drops_held_picks_and_splits_the_cash(
    make: Any, redis_client: redis.Redis
) -> None:
    store_picks(redis_client, KEYS, DAY, PICKS)
    broker = FakeBroker(cash=9_000_000)
    broker.rows = [row("000020", 5, 10000, 10000)]
    make(datetime(2026, 3, 3, 8, 40, tzinfo=KST), broker).step()
    plan = stored_plan(redis_client, KEYS, DAY)
    assert plan is not None
    assert (plan.cash, plan.buy_amount, plan.held_picks) == (9_000_000, 4_500_000, ("000020",))
    assert [p.code for p in plan.picks] == ["000010", "000030"]
    assert broker.calls == {"balance": 1, "cash": 1}
    assert broker.cash_codes == ["000010"]
    [notice] = events(redis_client, "premarket_plan")
    assert notice["buy_amount"] == 4_500_000 and notice["held_picks"] == ["000020"]

    # A restart (or a standby taking over) keeps the plan, cash spent or not.
    later = FakeBroker(cash=1)
    make(datetime(2026, 3, 3, 8, 50, tzinfo=KST), later, instance="two").step()
    assert stored_plan(redis_client, KEYS, DAY) == plan
    assert later.calls == {}
    assert len(events(redis_client, "premarket_plan")) == 1


def test_a_late_start_plans_then_buys_each_pick_once(make: Any, redis_client: redis.Redis) -> None:
    store_picks(redis_client, KEYS, DAY, PICKS)
    broker = FakeBroker(cash=10_000_000)
    broker.prices = {"000010": 10000, "000020": 10000, "000030": 9999}
    scheduler = make(datetime(2026, 3, 3, 10, 0, tzinfo=KST), broker)
    scheduler.step()
    book = OrderBook(redis_client, KEYS, scheduler.clock)
    assert [(r.id, r.quantity, r.status) for r in book.of_day(DAY)] == [
        ("20260303-000010-buy-entry", 333, OrderStatus.PENDING),  # 10,000,000 / 3 // 10000
        ("20260303-000020-buy-entry", 333, OrderStatus.PENDING),
    ]
    assert queue(redis_client, BUY_QUEUE).job_ids == [
        "20260303-000010-buy-entry",
        "20260303-000020-buy-entry",
    ]
    attempts = events(redis_client, "buy_attempt")
    assert [(e["code"], e["price"], e["qty"]) for e in attempts] == [
        ("000010", 10000, 333),
        ("000020", 10000, 333),
    ]
    assert broker.calls == {"balance": 2, "cash": 1, "price": 3}

    snapshot = json.loads(redis_client.get(KEYS.account_snapshot()) or "{}")
    assert (snapshot["session"], snapshot["cash"], snapshot["holdings"]) == (
        "2026-03-03",
        10_000_000,
        [],
    )
    assert redis_client.zcard(KEYS.equity(DAY)) == 1

    broker.priced.clear()
    scheduler.step()
    assert broker.priced == ["000030"]  # one quote per pick still to buy, nothing else
    assert broker.calls["balance"] == 3  # one balance per cycle
    assert len(book.of_day(DAY)) == 2
    beat = heartbeat(redis_client, "one")
    assert beat["role"] == "leader" and beat["phase"] == "intraday"
    assert beat["last_cycle"]["calls"] == {
        "requests": 2,
        "price_calls": 1,
        "balance_calls": 1,
        "balance_pages": 1,
        "cash_calls": 0,
    }


def test_zero_picks_is_one_notice_and_no_quotes(make: Any, redis_client: redis.Redis) -> None:
    broker = FakeBroker()
    scheduler = make(datetime(2026, 3, 3, 9, 5, tzinfo=KST), broker)
    for _ in range(3):
        scheduler.step()
    assert [e["event"] for e in events(redis_client)] == ["no_picks"]
    assert broker.calls == {"balance": 4, "cash": 1}
    assert broker.cash_codes == ["005930"]


def test_a_bad_picks_file_is_reported_and_the_day_has_no_picks(
    make: Any, redis_client: redis.Redis, tmp_path: Path
) -> None:
    bad = tmp_path / "picks.json"
    bad.write_text("{not json", encoding="utf-8")
    scheduler = make(datetime(2026, 3, 3, 8, 45, tzinfo=KST), FakeBroker(), PICKS_FILE=str(bad))
    scheduler.step()
    assert [e["event"] for e in events(redis_client)] == ["picks_error", "no_picks"]


@pytest.mark.parametrize("flag", [PAUSED, HALTED])
def test_pause_and_halt_hold_decisions_back_but_the_heartbeat_goes_on(
    make: Any, redis_client: redis.Redis, flag: str
) -> None:
    store_picks(redis_client, KEYS, DAY, PICKS)
    Controls(redis_client, KEYS).set(flag, by="test")
    broker = FakeBroker()
    broker.prices = {"000010": 10000}
    make(datetime(2026, 3, 3, 10, 0, tzinfo=KST), broker).step()
    assert OrderBook(redis_client, KEYS, ManualClock(datetime.now(KST))).of_day(DAY) == []
    assert broker.calls["price"] == 0
    assert heartbeat(redis_client, "one")["held_back"] == flag


def ledger(client: redis.Redis, *positions: Position) -> None:
    for p in positions:
        client.hset(KEYS.positions(), p.code, p.to_json())


@pytest.mark.parametrize(
    ("scope", "sold"),
    [
        ("bot", {"000010": "take_profit"}),
        ("all", {"000010": "take_profit", "000099": "take_profit"}),
    ],
)
def test_sell_scope_decides_whose_positions_are_sold(
    make: Any, redis_client: redis.Redis, scope: str, sold: dict[str, str]
) -> None:
    ledger(redis_client, Position("000010", "ours", 200, Decimal(10000), date(2026, 3, 2)))
    broker = FakeBroker()
    broker.rows = [row("000010", 200, 10000, 10501), row("000099", 10, 5000, 10000)]
    make(datetime(2026, 3, 3, 11, 0, tzinfo=KST), broker, SELL_SCOPE=scope).step()
    book = OrderBook(redis_client, KEYS, ManualClock(datetime.now(KST)))
    assert {r.code: r.reason.value for r in book.of_day(DAY)} == sold
    assert len(queue(redis_client, SELL_QUEUE).job_ids) == len(sold)


@pytest.mark.parametrize(("day", "sold"), [(date(2025, 10, 13), False), (date(2025, 10, 14), True)])
def test_preclose_sells_at_the_fifth_session_across_the_holidays(
    make: Any, redis_client: redis.Redis, day: date, sold: bool
) -> None:
    ledger(redis_client, Position("000010", "old", 100, Decimal(10000), date(2025, 9, 30)))
    broker = FakeBroker()
    broker.rows = [row("000010", 100, 10000, 10000)]
    at = datetime(day.year, day.month, day.day, 15, 16, tzinfo=KST)
    make(at, broker).step()
    records = OrderBook(redis_client, KEYS, ManualClock(at)).of_day(day)
    expected = [f"{day:%Y%m%d}-000010-sell-expiry"] if sold else []
    assert [r.id for r in records] == expected
    assert broker.calls == {"balance": 1}  # pre-close: no plan, no quotes


def test_a_standby_waits_while_the_leader_holds_the_lock(
    make: Any, redis_client: redis.Redis
) -> None:
    store_picks(redis_client, KEYS, DAY, PICKS)
    lock = LeaderLock(redis_client, KEYS.leader(ROLE), "the-leader", 15)
    assert lock.acquire_or_refresh()
    broker = FakeBroker()
    broker.prices = {"000010": 10000}
    make(datetime(2026, 3, 3, 10, 0, tzinfo=KST), broker, instance="standby").step()
    assert broker.calls == {}
    assert heartbeat(redis_client, "standby")["role"] == "standby"
    assert lock.current() == "the-leader"


def test_open_orders_get_a_reconciliation_every_stale_interval(
    make: Any, redis_client: redis.Redis
) -> None:
    scheduler = make(
        datetime(2026, 3, 3, 10, 0, tzinfo=KST), FakeBroker(), ORDER_STALE_SECONDS="0.05"
    )
    scheduler.step()  # a fresh scheduler waits one interval first
    sell_queue = queue(redis_client, SELL_QUEUE)
    assert sell_queue.jobs == []
    time.sleep(0.06)
    scheduler.step()
    assert sell_queue.jobs == []  # nothing open: nothing to reconcile
    scheduler.book.create(OrderIntent(DAY, "000010", "x", Side.BUY, Reason.ENTRY, 1, 10000))
    time.sleep(0.06)
    scheduler.step()
    [job] = sell_queue.jobs
    assert (job.func_name, list(job.args)) == (RECONCILE_ORDERS, ["2026-03-03"])


class FlakyBroker(FakeBroker):
    """Fails the first balances with the given errors."""

    def __init__(self, *errors: Exception) -> None:
        super().__init__()
        self.errors = list(errors)

    def balance(self) -> Balance:
        if self.errors:
            raise self.errors.pop(0)
        return super().balance()


def test_errors_never_end_the_loop(redis_url: str, redis_client: redis.Redis) -> None:
    store_picks(redis_client, KEYS, DAY, PICKS)
    broker = FlakyBroker(KisTemporaryError("KIS unreachable"), RuntimeError("boom"))
    broker.prices = {"000010": 10000}
    settings = load_settings(
        {
            "REDIS_URL": redis_url,
            "SCHEDULER_MIN_CYCLE_SECONDS": "0",
            "SCHEDULER_LOCK_SECONDS": "1.5",
        }
    )
    clock = ManualClock(datetime(2026, 3, 3, 10, 0, tzinfo=KST))
    scheduler = Scheduler(settings, redis_client, broker, clock, KrxCalendar(), instance="flaky")
    stop = threading.Event()
    thread = threading.Thread(target=scheduler.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_for(lambda: scheduler.book.of_day(DAY), timeout=10, what="a buy after two errors")
        assert thread.is_alive()
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()
    [error] = events(redis_client, "error")  # the KIS error is logged only: it is expected
    assert error["message"] == "RuntimeError: boom"
    assert not redis_client.exists(KEYS.leader(ROLE))  # stopping gave the lead up
