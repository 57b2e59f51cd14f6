"""A realistic trading day written to Redis through the shared modules, for the API to show."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import redis
from rq import Queue, SimpleWorker

from shared.infra.clock import KST, Clock
from shared.infra.redis_keys import Keys, app_key_id
from shared.kis.models import Side
from shared.messaging.queues import NOTIFY_QUEUE, SELL_QUEUE, SERIALIZER
from shared.state.control import PAUSED, Controls, beat
from shared.state.order_book import OrderBook
from shared.state.picks_store import store_picks
from shared.state.positions import PositionLedger
from shared.trading.orders import OrderIntent, OrderStatus, Reason
from shared.trading.picks import Pick

SESSION = date(2026, 3, 3)
"""A Tuesday session (the Monday before is the Independence Day substitute holiday)."""
NOW = datetime(2026, 3, 3, 11, 30, tzinfo=KST)
"""When the tests' clock reads: intraday."""
FAILING_JOB = "tests.api.jobs.reject_order"
"""An RQ job that fails with a broker-like error."""
FAILURE_TEXT = "OrderRejected: 주문가능금액을 초과했습니다 (APBK0952)"
"""The last line of that job's traceback."""
EQUITY_START = 10_000_000
"""The account's value at the open, in won."""


@dataclass(frozen=True)
class Day:
    """What was written, for the tests to compare against."""

    session: date
    equity_points: int
    order_ids: dict[str, str]
    failed_job_id: str


def _fill(book: OrderBook, ledger: PositionLedger, intent: OrderIntent, price: int, no: str) -> str:
    record = book.create(intent)
    assert record is not None
    book.transition(record.id, OrderStatus.PENDING, OrderStatus.SUBMITTING, attempts=1)
    book.transition(
        record.id,
        OrderStatus.SUBMITTING,
        OrderStatus.ACCEPTED,
        broker_order_no=no,
        broker_branch_no="91252",
        broker_accepted_kst=datetime(2026, 3, 3, 9, 5, 12, tzinfo=KST),
    )
    book.transition(
        record.id,
        OrderStatus.ACCEPTED,
        OrderStatus.FILLED,
        filled_quantity=intent.quantity,
        average_fill_price=Decimal(price),
    )
    ledger.apply_fills(record.id)
    return record.id


def write_orders_and_positions(client: redis.Redis, keys: Keys, clock: Clock) -> dict[str, str]:
    book = OrderBook(client, keys, clock)
    ledger = PositionLedger(client, keys, clock)
    ids: dict[str, str] = {}

    # Held from earlier sessions: one still open, one sold today at a profit.
    samsung = OrderIntent(
        date(2026, 2, 27), "005930", "삼성전자", Side.BUY, Reason.ENTRY, 40, 71_000
    )
    _fill(book, ledger, samsung, 71_000, "0000011111")
    naver = OrderIntent(date(2026, 2, 25), "035420", "NAVER", Side.BUY, Reason.ENTRY, 10, 201_000)
    _fill(book, ledger, naver, 201_000, "0000022222")
    sold = OrderIntent(SESSION, "035420", "NAVER", Side.SELL, Reason.TAKE_PROFIT, 10, 212_000)
    ids["sold"] = _fill(book, ledger, sold, 212_000, "0000033333")
    bought = OrderIntent(SESSION, "000660", "SK하이닉스", Side.BUY, Reason.ENTRY, 5, 182_000)
    ids["bought"] = _fill(book, ledger, bought, 182_000, "0000044444")
    rejected = book.create(
        OrderIntent(SESSION, "051910", "LG화학", Side.BUY, Reason.ENTRY, 3, 310_000)
    )
    assert rejected is not None
    book.transition(rejected.id, OrderStatus.PENDING, OrderStatus.SUBMITTING, attempts=1)
    book.transition(
        rejected.id,
        OrderStatus.SUBMITTING,
        OrderStatus.REJECTED,
        error_code="APBK0952",
        error_message="주문가능금액을 초과했습니다",
    )
    ids["rejected"] = rejected.id
    pending = book.create(
        OrderIntent(SESSION, "068270", "셀트리온", Side.BUY, Reason.ENTRY, 6, 180_500)
    )
    assert pending is not None
    ids["pending"] = pending.id
    return ids


def write_account(client: redis.Redis, keys: Keys) -> int:
    """The scheduler's balance snapshot and the equity series from the open to NOW."""
    prices = {
        "000660": ("SK하이닉스", 5, 182_000, 179_500),
        "005930": ("삼성전자", 40, 71_000, 73_200),
    }
    holdings = [
        {
            "code": code,
            "name": name,
            "quantity": qty,
            "average_price": f"{cost}.0000",
            "price": price,
            "profit_rate": f"{(price - cost) / cost * 100:.2f}",
            "profit": (price - cost) * qty,
        }
        for code, (name, qty, cost, price) in prices.items()
    ]
    securities = sum(qty * price for _name, qty, _cost, price in prices.values())
    cash = 6_300_000
    total = cash + securities
    snapshot = {
        "read_kst": NOW.isoformat(),
        "session": SESSION.isoformat(),
        "deposit": 10_000_000,  # settled: unmoved by today's trades
        "cash_d2": cash,
        "total_value": total,
        "securities_value": securities,
        "profit_total": 75_500,
        "holdings": holdings,
    }
    client.set(keys.account_snapshot(), json.dumps(snapshot, ensure_ascii=False))
    opens = datetime(2026, 3, 3, 9, 0, tzinfo=KST)
    count = int((NOW - opens) / timedelta(minutes=5)) + 1
    members = {}
    for i in range(count):
        at = opens + timedelta(minutes=5 * i)
        # From the open's value to the snapshot's, with a dip and a rally on the way.
        trend = EQUITY_START + (total - EQUITY_START) * i / (count - 1)
        value = round(trend - 70_000 * math.sin(2 * math.pi * i / (count - 1)) * (1 - i / count))
        members[json.dumps({"valued_kst": at.isoformat(), "value": value})] = at.timestamp()
    client.zadd(keys.equity(SESSION), members)
    return count


def write_processes(client: redis.Redis, keys: Keys) -> None:
    beat(client, keys, "scheduler", "api-test-host-101-a1b2c3", role="leader")
    beat(client, keys, "executor", "api-test-host-102-d4e5f6")
    beat(client, keys, "notifier", "api-test-host-103-0a0b0c")


def write_queues(client: redis.Redis) -> str:
    """A failed order job (run by an in-process worker), one finished, two waiting."""
    sell = Queue(SELL_QUEUE, connection=client, serializer=SERIALIZER)
    failed = sell.enqueue(FAILING_JOB, "20260303-051910-buy-entry", description="place order X")
    sell.enqueue("tests.api.jobs.succeed", "ok", description="reconcile orders of 2026-03-03")
    SimpleWorker([sell], connection=client, serializer=SERIALIZER).work(burst=True)
    notify = Queue(NOTIFY_QUEUE, connection=client, serializer=SERIALIZER)
    notify.enqueue("tests.api.jobs.succeed", {"event": "filled"}, description="notify filled")
    notify.enqueue("tests.api.jobs.succeed", {"event": "summary"}, description="notify summary")
    return str(failed.id)


def write_kis_counters(client: redis.Redis, keys: Keys, env: str, app_key: str) -> None:
    key_id = app_key_id(app_key)
    client.hset(keys.kis_errors(env), mapping={"EGW00201": 3, "APBK0952": 1})
    client.set(keys.token_issuances(env, key_id), 2)
    client.set(keys.rate_waits(env, key_id), 17)


def write_day(
    client: redis.Redis, keys: Keys, clock: Clock, *, env: str = "sim", app_key: str = ""
) -> Day:
    store_picks(
        client,
        keys,
        SESSION,
        [
            Pick("000660", "SK하이닉스", 180_000),
            Pick("051910", "LG화학", 305_000),
            Pick("068270", "셀트리온", 178_000),
        ],
    )
    ids = write_orders_and_positions(client, keys, clock)
    points = write_account(client, keys)
    write_processes(client, keys)
    Controls(client, keys).set(PAUSED, by="cli", reason="lunch check")
    failed = write_queues(client)
    write_kis_counters(client, keys, env, app_key)
    return Day(SESSION, points, ids, failed)
