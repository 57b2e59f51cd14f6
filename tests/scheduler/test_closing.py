"""Post-market: waiting for the reconciliation, cancelling what was never sent, export, summary."""

from __future__ import annotations

import json
import pickle
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import redis
from rq import SimpleWorker

from services.scheduler.closing import (
    SESSION_CLOSED,
    DayCloser,
    cancel_unsent,
    wait_for_job,
)
from shared.infra.clock import KST
from shared.infra.redis_keys import Keys
from shared.kis.models import Side
from shared.messaging.events import from_payload, to_payload
from shared.messaging.queues import SERIALIZER, queue
from shared.state.order_book import OrderBook
from shared.state.positions import Position, PositionLedger
from shared.trading.orders import OrderIntent, OrderStatus, Reason
from tests.scheduler.clock import ManualClock
from tests.scheduler.conftest import Kis

DAY = date(2026, 3, 3)
KEYS = Keys()


def finish() -> str:
    """A job that succeeds (run by the test's own worker)."""
    return "done"


def always(_seconds: float) -> bool:
    return True


def filled(book: OrderBook, ledger: PositionLedger, intent: OrderIntent, price: int) -> None:
    """Take an intent through the executor's path to a filled order applied to the ledger."""
    book.create(intent)
    book.transition(intent.id, OrderStatus.PENDING, OrderStatus.SUBMITTING)
    book.transition(intent.id, OrderStatus.SUBMITTING, OrderStatus.ACCEPTED)
    book.transition(
        intent.id,
        OrderStatus.ACCEPTED,
        OrderStatus.FILLED,
        filled_quantity=intent.quantity,
        average_fill_price=Decimal(price),
    )
    ledger.apply_fills(intent.id)


def test_waiting_for_a_job_that_finishes_and_for_one_nobody_runs(
    redis_client: redis.Redis,
) -> None:
    test_queue = queue(redis_client, "scheduler-test")
    job = test_queue.enqueue(finish, job_id="finishing")
    SimpleWorker([test_queue], connection=redis_client, serializer=SERIALIZER).work(burst=True)
    assert wait_for_job(redis_client, job.id, always) == "finished"
    idle = test_queue.enqueue(finish, job_id="never-run")
    assert wait_for_job(redis_client, idle.id, always, timeout=0.3) == "timeout"
    assert wait_for_job(redis_client, "no-such-job", always) == "gone"
    assert wait_for_job(redis_client, idle.id, lambda _s: False, timeout=5) == "stopped"


def test_only_orders_never_sent_are_cancelled(redis_client: redis.Redis) -> None:
    book = OrderBook(redis_client, KEYS, ManualClock(datetime(2026, 3, 3, 15, 21, tzinfo=KST)))
    never_sent = OrderIntent(DAY, "000010", "a", Side.BUY, Reason.ENTRY, 10, 10000)
    at_kis = OrderIntent(DAY, "000020", "b", Side.BUY, Reason.ENTRY, 10, 10000)
    book.create(never_sent)
    book.create(at_kis)
    book.transition(at_kis.id, OrderStatus.PENDING, OrderStatus.SUBMITTING)
    cancelled = cancel_unsent(book, DAY)
    assert [r.id for r in cancelled] == [never_sent.id]
    record = book.get(never_sent.id)
    assert record is not None
    assert (record.status, record.error_message) == (OrderStatus.CANCELLED, SESSION_CLOSED)
    assert book.get(at_kis.id).status is OrderStatus.SUBMITTING  # type: ignore[union-attr]


def test_the_day_is_closed_exported_and_summarised(
    redis_client: redis.Redis, kis: Kis, tmp_path: Path
) -> None:
    clock = ManualClock(datetime(2026, 3, 3, 15, 21, tzinfo=KST))
    book = OrderBook(redis_client, KEYS, clock)
    ledger = PositionLedger(redis_client, KEYS, clock)
    earlier = Position("000020", "sold today", 200, Decimal(10000), date(2026, 2, 27))
    redis_client.hset(KEYS.positions(), "000020", earlier.to_json())
    filled(
        book, ledger, OrderIntent(DAY, "000010", "kept", Side.BUY, Reason.ENTRY, 190, 10499), 10499
    )
    filled(
        book,
        ledger,
        OrderIntent(DAY, "000020", "sold today", Side.SELL, Reason.TAKE_PROFIT, 200, 10501),
        10501,
    )
    book.create(OrderIntent(DAY, "000030", "never sent", Side.BUY, Reason.ENTRY, 5, 10000))
    kis.prices({"000010": 10499})
    kis.account(8_000_000, {"000010": (190, 10499)})

    closer = DayCloser(
        redis_client, book, ledger, kis.client, tmp_path, always, reconcile_wait_seconds=0.2
    )
    closed = closer.close(DAY)
    assert closed is not None
    summary = to_payload(closed)

    assert summary["session"] == "2026-03-03"
    assert summary["realized"] == [
        {
            "order_id": "20260303-000020-sell-take_profit",
            "code": "000020",
            "name": "sold today",
            "quantity": 200,
            "buy_price": "10000",
            "sell_price": "10501",
            "profit": 100_200,
            "profit_rate": "5.01",
            "reason": "take_profit",
            "buy_session": "2026-02-27",
        }
    ]
    assert summary["realized_profit"] == 100_200
    # Net of KIS's fees (0.0140527 %: 281 on the buy, 295 on the sell) and the sell tax
    # (0.20 %: 4,200), each cut below one won.
    assert summary["realized_profit_net"] == 100_200 - 281 - 295 - 4_200
    assert summary["positions"] == [
        {
            "code": "000010",
            "name": "kept",
            "quantity": 190,
            "average_price": "10499",
            "buy_session": "2026-03-03",
        }
    ]
    assert summary["orders"] == {"cancelled": 1, "filled": 2}
    # The simulator's simple profile settles at once: orderable cash and D+2 cash agree.
    assert (summary["orderable_cash"], summary["cash_d2"]) == (8_000_000, 8_000_000)
    assert summary["reconciliation"] == "timeout"  # no executor here
    assert kis.wire.calls() == {"balance": 1, "cash": 1}
    exported = json.loads((tmp_path / "positions.json").read_text(encoding="utf-8"))
    assert [p["code"] for p in exported["positions"]] == ["000010"]
    with (tmp_path / "bought_dict.pkl").open("rb") as f:
        assert pickle.load(f) == {"000010": ["kept", "20260303"]}  # noqa: S301 - our own file
    json.dumps(summary)  # the notification's fields are JSON-safe
    # ... and exactly the contract's daily_summary (what the loop sends).
    payload = {"event": "daily_summary", **summary}
    assert to_payload(from_payload(payload)) == payload
