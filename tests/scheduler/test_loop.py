"""The scheduler loop driven step by step: a manual clock, the real KIS client over HTTP to the
simulator, real Redis.

The stop event is set from the start, so every wait returns at once and ``step()`` does exactly
one iteration's work. ``kis.wire`` logs the KIS requests the steps sent.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import redis

from services.scheduler.loop import ROLE, Scheduler
from services.scheduler.plan import stored_plan
from services.scheduler.plan_file import PlanFiles
from shared.infra.clock import KST
from shared.infra.redis_keys import Keys
from shared.infra.settings import load_settings
from shared.kis.models import Side
from shared.kis.transport import READ_ATTEMPTS
from shared.messaging.queues import BUY_QUEUE, RECONCILE_ORDERS, SELL_QUEUE, queue
from shared.state.control import HALTED, PAUSED, Controls, LeaderLock, entries_stopped
from shared.state.journal import Journal
from shared.state.order_book import OrderBook
from shared.state.picks_store import store_picks
from shared.state.positions import Position
from shared.state.reconciled import mark_reconciled
from shared.trading.costs import TradeCosts
from shared.trading.journal import closed_trade
from shared.trading.market_calendar import KrxCalendar
from shared.trading.orders import OrderIntent, OrderStatus, Reason
from shared.trading.picks import Pick
from tests.conftest import scratch_data_dir, wait_for
from tests.notifier.samples import queued_payloads
from tests.scheduler.clock import ManualClock
from tests.scheduler.conftest import Kis

KEYS = Keys()
DAY = date(2026, 3, 3)
PICKS = (
    Pick("000010", "at target", 10000),
    Pick("000020", "held already", 10000),
    Pick("000030", "below target", 10000),
)


def events(client: redis.Redis, name: str | None = None) -> list[dict[str, Any]]:
    """Queued notifications (of kind ``name``), each checked to be a registered typed event."""
    return queued_payloads(client, name)


def heartbeat(client: redis.Redis, instance: str) -> dict[str, Any]:
    raw = client.get(KEYS.heartbeat(ROLE, instance))
    assert raw is not None
    data: dict[str, Any] = json.loads(raw)
    return data


def test_a_closed_day_is_announced_once(make: Any, redis_client: redis.Redis, kis: Kis) -> None:
    election = datetime(2026, 6, 3, 10, 0, tzinfo=KST)
    first = make(election)
    first.step()
    first.step()
    first.close()
    make(election, instance="restarted").step()
    notices = events(redis_client, "closed_day")
    assert notices == [{"event": "closed_day", "day": "2026-06-03", "next_session": "2026-06-04"}]
    assert kis.wire.sent == []  # a closed day needs no KIS at all


def test_premarket_plans_once_drops_held_picks_and_splits_the_cash(
    make: Any, redis_client: redis.Redis, kis: Kis
) -> None:
    store_picks(redis_client, KEYS, DAY, PICKS)
    kis.prices({"000020": 10000})
    kis.account(9_000_000, {"000020": (5, 10000)})
    first = make(datetime(2026, 3, 3, 8, 40, tzinfo=KST))
    first.step()
    plan = stored_plan(redis_client, KEYS, DAY)
    assert plan is not None
    assert (plan.cash, plan.buy_amount, plan.held_picks) == (9_000_000, 4_500_000, ("000020",))
    assert [p.code for p in plan.picks] == ["000010", "000030"]
    assert kis.wire.calls() == {"balance": 1, "cash": 1}
    assert kis.wire.codes("cash") == ["000010"]
    [notice] = events(redis_client, "premarket_plan")
    assert notice["buy_amount"] == 4_500_000 and notice["held_picks"] == ["000020"]

    # A restart (or a standby taking over) keeps the plan, cash spent or not.
    first.close()
    kis.account(1)
    kis.wire.clear()
    make(datetime(2026, 3, 3, 8, 50, tzinfo=KST), instance="two").step()
    assert heartbeat(redis_client, "two")["role"] == "leader"
    assert stored_plan(redis_client, KEYS, DAY) == plan
    assert kis.wire.sent == []
    assert len(events(redis_client, "premarket_plan")) == 1


def test_a_redis_wiped_after_the_plan_keeps_the_mornings_plan_from_its_file(
    make: Any, redis_client: redis.Redis, kis: Kis, tmp_path: Path
) -> None:
    """docs/ARCHITECTURE.md, 'When our state is lost': the plan is kept on the data volume too,
    so a Redis that comes back empty neither splits what is left of the cash anew nor tells the
    user of a second plan."""
    data = str(tmp_path / "data")
    store_picks(redis_client, KEYS, DAY, PICKS)
    kis.account(9_000_000)
    first = make(datetime(2026, 3, 3, 8, 40, tzinfo=KST), DATA_DIR=data)
    first.step()
    plan = stored_plan(redis_client, KEYS, DAY)
    assert plan is not None and plan.buy_amount == 3_000_000
    kept = tmp_path / "data" / "plans" / "2026-03-03.json"
    assert json.loads(kept.read_text())["buy_amount"] == 3_000_000
    first.close()

    redis_client.flushdb()
    kis.account(1_000_000)  # cash spent on the morning's buys
    kis.wire.clear()
    make(datetime(2026, 3, 3, 10, 30, tzinfo=KST), instance="two", DATA_DIR=data).step()
    assert stored_plan(redis_client, KEYS, DAY) == plan, "the morning's plan, back in Redis"
    assert kis.wire.calls().get("cash", 0) == 0, "no cash read for a new plan"
    assert events(redis_client, "premarket_plan") == [], "no second plan told"
    assert redis_client.exists(KEYS.session_alive(DAY))


def test_plan_files_older_than_the_retention_are_deleted(tmp_path: Path) -> None:
    files = PlanFiles(tmp_path)
    for day in ("2026-02-20", "2026-02-23", "2026-02-24", "2026-03-02"):
        (tmp_path / f"{day}.json").write_text("{}")
    (tmp_path / "notes.json").write_text("{}")
    files.write(DAY, '{"session": "2026-03-03"}')
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "2026-02-23.json",
        "2026-02-24.json",
        "2026-03-02.json",
        "2026-03-03.json",
        "notes.json",
    ]


def test_a_late_start_plans_then_buys_each_pick_once(
    make: Any, redis_client: redis.Redis, kis: Kis
) -> None:
    store_picks(redis_client, KEYS, DAY, PICKS)
    kis.prices({"000010": 10000, "000020": 10000, "000030": 9999})
    kis.account(10_000_000)
    scheduler = make(datetime(2026, 3, 3, 10, 0, tzinfo=KST))
    scheduler.step()
    book = OrderBook(redis_client, KEYS, scheduler.clock)
    assert [(r.id, r.intent.quantity, r.status) for r in book.of_day(DAY)] == [
        ("20260303-000010-buy-entry", 333, OrderStatus.PENDING),  # 10,000,000 / 3 // 10000
        ("20260303-000020-buy-entry", 333, OrderStatus.PENDING),
    ]
    assert queue(redis_client, BUY_QUEUE).job_ids == [
        "20260303-000010-buy-entry",
        "20260303-000020-buy-entry",
    ]
    attempts = events(redis_client, "buy_attempt")
    assert [(e["code"], e["price"], e["quantity"], e["target"]) for e in attempts] == [
        ("000010", 10000, 333, 10000),
        ("000020", 10000, 333, 10000),
    ]
    # A late start compares KIS's orders of the day with our records once, before any buy.
    assert kis.wire.calls() == {"balance": 2, "cash": 1, "price": 3, "executions": 1}

    snapshot = json.loads(redis_client.get(KEYS.account_snapshot()) or "{}")
    assert (snapshot["session"], snapshot["cash_d2"], snapshot["holdings"]) == (
        "2026-03-03",
        10_000_000,
        [],
    )
    assert redis_client.zcard(KEYS.equity(DAY)) == 1

    kis.wire.clear()
    scheduler.step()
    assert kis.wire.codes("price") == ["000030"]  # one quote per pick still to buy, nothing else
    assert kis.wire.calls() == {"price": 1, "balance": 1}  # one balance per cycle
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


def test_zero_picks_is_one_notice_and_no_quotes(
    make: Any, redis_client: redis.Redis, kis: Kis
) -> None:
    scheduler = make(datetime(2026, 3, 3, 9, 5, tzinfo=KST))
    for _ in range(3):
        scheduler.step()
    assert [e["event"] for e in events(redis_client)] == ["no_picks"]
    # Started late: KIS's orders of the day are compared with our records once.
    assert kis.wire.calls() == {"balance": 4, "cash": 1, "executions": 1}
    assert kis.wire.codes("cash") == ["005930"]


def test_a_bad_picks_file_is_reported_and_the_day_has_no_picks(
    make: Any, redis_client: redis.Redis, tmp_path: Path
) -> None:
    bad = tmp_path / "picks.json"
    bad.write_text("{not json", encoding="utf-8")
    scheduler = make(datetime(2026, 3, 3, 8, 45, tzinfo=KST), PICKS_FILE=str(bad))
    scheduler.step()
    assert [e["event"] for e in events(redis_client)] == ["picks_error", "no_picks"]


@pytest.mark.parametrize("flag", [PAUSED, HALTED])
def test_pause_and_halt_hold_decisions_back_but_the_heartbeat_goes_on(
    make: Any, redis_client: redis.Redis, kis: Kis, flag: str
) -> None:
    store_picks(redis_client, KEYS, DAY, PICKS)
    Controls(redis_client, KEYS).set(flag, by="test")
    kis.prices({"000010": 10000})
    make(datetime(2026, 3, 3, 10, 0, tzinfo=KST)).step()
    assert OrderBook(redis_client, KEYS, ManualClock(datetime.now(KST))).of_day(DAY) == []
    assert kis.wire.codes("price") == []
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
    make: Any, redis_client: redis.Redis, kis: Kis, scope: str, sold: dict[str, str]
) -> None:
    ledger(redis_client, Position("000010", "ours", 200, Decimal(10000), date(2026, 3, 2)))
    kis.prices({"000010": 10501, "000099": 10000})
    kis.account(10_000_000, {"000010": (200, 10000), "000099": (10, 5000)})
    make(datetime(2026, 3, 3, 11, 0, tzinfo=KST), SELL_SCOPE=scope).step()
    book = OrderBook(redis_client, KEYS, ManualClock(datetime.now(KST)))
    assert {r.intent.code: r.intent.reason.value for r in book.of_day(DAY)} == sold
    assert len(queue(redis_client, SELL_QUEUE).job_ids) == len(sold)
    assert {e["code"]: e["reason"] for e in events(redis_client, "sell_attempt")} == sold


@pytest.mark.parametrize(("day", "sold"), [(date(2025, 10, 13), False), (date(2025, 10, 14), True)])
def test_preclose_sells_at_the_fifth_session_across_the_holidays(
    make: Any, redis_client: redis.Redis, kis: Kis, day: date, sold: bool
) -> None:
    ledger(redis_client, Position("000010", "old", 100, Decimal(10000), date(2025, 9, 30)))
    kis.prices({"000010": 10000})
    kis.account(10_000_000, {"000010": (100, 10000)})
    at = datetime(day.year, day.month, day.day, 15, 16, tzinfo=KST)
    make(at).step()
    records = OrderBook(redis_client, KEYS, ManualClock(at)).of_day(day)
    expected = [f"{day:%Y%m%d}-000010-sell-expiry"] if sold else []
    assert [r.id for r in records] == expected
    # Pre-close: no plan, no quotes; started late, so KIS's orders are compared with ours once.
    assert kis.wire.calls() == {"balance": 1, "executions": 1}
    attempts = [(e["code"], e["quantity"], e["reason"]) for e in events(redis_client)]
    assert attempts == ([("000010", 100, "expiry")] if sold else [])


def test_post_market_sends_one_daily_summary(
    make: Any,
    redis_client: redis.Redis,
    kis: Kis,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="services.scheduler.loop")
    ledger(redis_client, Position("000010", "kept", 100, Decimal(10000), date(2026, 3, 2)))
    kis.prices({"000010": 10000})
    kis.account(9_000_000, {"000010": (100, 10000)})
    at = datetime(2026, 3, 3, 15, 40, tzinfo=KST)
    first = make(at, EXPORT_DIR=str(tmp_path))
    first.step()
    first.close()
    make(at, instance="restarted", EXPORT_DIR=str(tmp_path)).step()  # the summary went out once
    [summary] = events(redis_client, "daily_summary")
    assert (summary["session"], summary["realized"], summary["cash_d2"]) == (
        "2026-03-03",
        [],
        9_000_000,
    )
    assert summary["orderable_cash"] == 9_000_000
    assert [(p["code"], p["quantity"]) for p in summary["positions"]] == [("000010", 100)]
    # Issue 20: the log line was the summary dataclass's repr.
    [done] = [r.getMessage() for r in caplog.records if "post-market of" in r.getMessage()]
    assert done == (
        "post-market of 2026-03-03 done: 0 sells, realised profit 0 won (0 won net of costs),"
        " 1 position held, orders none, orderable cash 9,000,000 won, cash D+2 9,000,000 won,"
        " total value 10,000,000 won, reconciliation stopped"
    )


def test_the_weeks_and_the_months_last_post_market_sums_them_up_once(
    make: Any, redis_client: redis.Redis, kis: Kis, tmp_path: Path
) -> None:
    # Thursday 30 April 2026: Friday 1 May is Labour Day, so it ends the week and the month.
    data = tmp_path / "data"
    sold = closed_trade(
        sell_ref="0000000001",
        through=10,
        order_id="20260428-000010-sell-take_profit",
        code="000010",
        name="sold",
        quantity=10,
        entry_session=date(2026, 4, 27),
        entry_price=Decimal(10000),
        exit_session=date(2026, 4, 28),
        exit_price=Decimal(10500),
        reason="take_profit",
        sessions_held=1,
        costs=TradeCosts(),
    )
    Journal(data, "sim").append([sold])
    kis.prices({"000010": 10000})
    kis.account(9_000_000, {})
    at = datetime(2026, 4, 30, 15, 40, tzinfo=KST)
    first = make(at, EXPORT_DIR=str(tmp_path), DATA_DIR=str(data))
    first.step()
    first.close()
    make(at, instance="restarted", EXPORT_DIR=str(tmp_path), DATA_DIR=str(data)).step()
    kinds = [e["event"] for e in events(redis_client)]
    assert kinds == ["daily_summary", "weekly_summary", "monthly_summary"]
    [weekly] = events(redis_client, "weekly_summary")
    assert (weekly["period"], weekly["trades"], weekly["realized_profit_net"]) == (
        "2026-W18",
        1,
        sold.net,
    )
    assert (weekly["first_session"], weekly["last_session"]) == ("2026-04-27", "2026-04-30")
    [monthly] = events(redis_client, "monthly_summary")
    assert (monthly["period"], monthly["sessions"]) == ("2026-04", 22)


def test_a_midweek_post_market_sends_no_period_summary(
    make: Any, redis_client: redis.Redis, kis: Kis, tmp_path: Path
) -> None:
    kis.prices({"000010": 10000})
    kis.account(9_000_000, {})
    make(datetime(2026, 4, 29, 15, 40, tzinfo=KST), EXPORT_DIR=str(tmp_path)).step()
    assert [e["event"] for e in events(redis_client)] == ["daily_summary"]


def test_a_standby_waits_while_the_leader_holds_the_lock(
    make: Any, redis_client: redis.Redis, kis: Kis
) -> None:
    store_picks(redis_client, KEYS, DAY, PICKS)
    lock = LeaderLock(redis_client, KEYS.leader(ROLE), "the-leader", 15)
    assert lock.acquire_or_refresh()
    kis.prices({"000010": 10000})
    make(datetime(2026, 3, 3, 10, 0, tzinfo=KST), instance="standby").step()
    assert kis.wire.sent == []
    assert heartbeat(redis_client, "standby")["role"] == "standby"
    assert lock.current() == "the-leader"


def test_open_orders_get_a_reconciliation_every_stale_interval(
    make: Any, redis_client: redis.Redis
) -> None:
    scheduler = make(datetime(2026, 3, 3, 10, 0, tzinfo=KST), ORDER_STALE_SECONDS="0.05")
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


def test_errors_never_end_the_loop(
    redis_url: str, redis_client: redis.Redis, kis: Kis, caplog: pytest.LogCaptureFixture
) -> None:
    store_picks(redis_client, KEYS, DAY, PICKS)
    kis.prices({"000010": 10000, "000020": 20000, "000030": 20000})  # only 000010 in the band
    # An unexpected error: a plan in Redis nobody can read fails every cycle until it is removed.
    redis_client.set(KEYS.plan(DAY), "{not json")
    # A KIS error: the simulator answers HTTP 500 to every try of the next balance read.
    kis.fault("http_500", "inquire-balance", count=READ_ATTEMPTS)
    settings = load_settings(
        {
            "REDIS_URL": redis_url,
            "SCHEDULER_MIN_CYCLE_SECONDS": "0",
            "SCHEDULER_LOCK_SECONDS": "1.5",
            "DATA_DIR": scratch_data_dir(),
        }
    )
    clock = ManualClock(datetime(2026, 3, 3, 10, 0, tzinfo=KST))
    scheduler = Scheduler(
        settings, redis_client, kis.client, clock, KrxCalendar(), instance="flaky"
    )
    stop = threading.Event()
    thread = threading.Thread(target=scheduler.run, args=(stop,), daemon=True)
    caplog.set_level(logging.WARNING, logger="services.scheduler.loop")
    thread.start()
    try:
        wait_for(lambda: events(redis_client, "error"), timeout=10, what="the error's notice")
        assert thread.is_alive()
        redis_client.delete(KEYS.plan(DAY))
        wait_for(lambda: scheduler.book.of_day(DAY), timeout=10, what="a buy after both errors")
        assert thread.is_alive()
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()
    assert kis.faults_armed() == []  # all the tries of one balance read got their HTTP 500
    assert any(r.getMessage().startswith("KIS error in") for r in caplog.records)
    [error] = events(redis_client, "error")  # the KIS error is logged only: it is expected
    assert error["message"].startswith("JSONDecodeError: ")
    assert not redis_client.exists(KEYS.leader(ROLE))  # stopping gave the lead up


@pytest.mark.parametrize(("written_hours_ago", "buys"), [(19, False), (1, True)])
def test_a_picks_file_nobody_replaced_does_not_trade_again_but_sells_go_on(
    make: Any,
    redis_client: redis.Redis,
    kis: Kis,
    tmp_path: Path,
    written_hours_ago: int,
    buys: bool,
) -> None:
    """An undated PICKS_FILE is the next session's only: written before the last close, stale."""
    picks = tmp_path / "picks.json"
    picks.write_text(json.dumps({"000010": ["pick", 10000]}), encoding="utf-8")
    written = time.time() - written_hours_ago * 3600
    os.utime(picks, (written, written))
    ledger(redis_client, Position("000020", "held", 100, Decimal(10000), date(2026, 3, 3)))
    kis.prices({"000010": 10000, "000020": 10600})
    kis.account(10_000_000, {"000020": (100, 10000)})
    # 2026-03-04 10:00: 19 real hours ago reads 2026-03-03 15:00, before that session's close.
    at = datetime(2026, 3, 4, 10, 0, tzinfo=KST)
    make(at, PICKS_FILE=str(picks)).step()

    records = OrderBook(redis_client, KEYS, ManualClock(at)).of_day(date(2026, 3, 4))
    expected = {"20260304-000020-sell-take_profit"}
    if buys:
        expected.add("20260304-000010-buy-entry")
    assert {r.id for r in records} == expected
    stale = events(redis_client, "picks_error")
    if buys:
        assert stale == []
    else:
        [notice] = stale
        assert "before the previous session closed" in notice["message"]
        assert [e["event"] for e in events(redis_client, "no_picks")] == ["no_picks"]


def test_the_days_loss_seen_on_a_balance_stops_entries_before_any_buy_is_decided(
    make: Any, redis_client: redis.Redis, kis: Kis
) -> None:
    """The scheduler weighs the day's loss on every balance it reads (docs/ARCHITECTURE.md,
    'Money limits'): past the limit no entry is decided at all, so no buy is even tried, and
    the trip is said once."""
    store_picks(redis_client, KEYS, DAY, PICKS)
    kis.account(10_000_000, {"000099": (10, 200_000)})
    kis.prices({"000010": 9_000, "000020": 9_000, "000030": 9_000, "000099": 200_000})
    scheduler = make(datetime(2026, 3, 3, 9, 30, tzinfo=KST), DAILY_LOSS_LIMIT_KRW="300000")
    scheduler.step()  # the day's first valuation: 12,000,000 won; every pick under its target
    assert entries_stopped(redis_client, KEYS, DAY) is None

    kis.prices({"000010": 10_000, "000020": 10_000, "000030": 10_000, "000099": 150_000})
    scheduler.clock.sleep(300)
    scheduler.step()  # 500,000 won lost since: entries stop as the balance is read
    scheduler.clock.sleep(300)
    scheduler.step()

    assert "500,000 won" in (entries_stopped(redis_client, KEYS, DAY) or "")
    records = OrderBook(redis_client, KEYS, scheduler.clock).of_day(DAY)
    assert [r.id for r in records if r.intent.side is Side.BUY] == []
    assert events(redis_client, "buy_attempt") == []
    [tripped] = events(redis_client, "limit_tripped")
    assert (tripped["limit"], tripped["value"]) == ("daily_loss_limit_krw", 300_000)


def test_a_lost_ledger_gets_back_only_what_kis_still_holds(
    make: Any, redis_client: redis.Redis, kis: Kis, tmp_path: Path
) -> None:
    """docs/ARCHITECTURE.md, 'When our state is lost': the last export's positions come back
    only for codes KIS's balance holds, and with no more shares than it holds."""
    export = tmp_path / "export"
    export.mkdir()
    earlier = date(2026, 2, 27)
    exported = [
        Position("000040", "kept", 10, Decimal(9000), earlier),
        Position("000050", "sold by hand since", 7, Decimal(8000), earlier),
        Position("000060", "partly sold since", 20, Decimal(7000), earlier),
    ]
    (export / "positions.json").write_text(
        json.dumps(
            {"session": "2026-02-27", "positions": [json.loads(p.to_json()) for p in exported]}
        ),
        encoding="utf-8",
    )
    kis.prices({"000040": 9000, "000060": 7000})
    kis.account(5_000_000, {"000040": (10, 9000), "000060": (5, 7000)})
    scheduler = make(
        datetime(2026, 3, 3, 10, 0, tzinfo=KST),
        EXPORT_DIR=str(export),
        DATA_DIR=str(tmp_path / "data"),
    )
    scheduler.step()  # plans (late start)
    scheduler.step()  # sees the session's sentinel
    assert redis_client.exists(KEYS.session_alive(DAY))
    redis_client.flushdb()
    scheduler.step()

    held = scheduler.ledger.all()
    assert {c: p.quantity for c, p in held.items()} == {"000040": 10, "000060": 5}
    [told] = events(redis_client, "error")
    assert "vanished" in told["message"] and "rebuilding" in told["message"]
    assert events(redis_client, "entries_stopped") == [], "the plan goes on once rebuilt"

    # New buys wait for a whole reconciliation that began after the loss (the executor's).
    assert scheduler.state.rebuilding(DAY)
    assert queue(redis_client, SELL_QUEUE).count >= 1, "a reconciliation asked for"
    mark_reconciled(redis_client, KEYS, DAY, time.time() - 3600)  # one from before the loss
    assert scheduler.state.rebuilding(DAY)
    mark_reconciled(redis_client, KEYS, DAY, time.time())
    assert not scheduler.state.rebuilding(DAY)
    scheduler.step()
    assert redis_client.exists(KEYS.session_alive(DAY)), "the plan read again, trading goes on"
