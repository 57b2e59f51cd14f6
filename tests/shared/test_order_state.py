"""Order records, the position ledger and the control primitives against a real Redis."""

from __future__ import annotations

import pickle
import threading
import time
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import redis

from shared.infra.clock import KST, SimulatedClock
from shared.infra.redis_keys import SESSION_RETENTION_SECONDS, Keys
from shared.kis.models import Side
from shared.state.control import Controls, LeaderLock, beat, heartbeats
from shared.state.order_book import BrokerOrderTaken, OrderBook
from shared.state.positions import PositionLedger
from shared.trading.orders import OrderIntent, OrderStatus, Reason

KEYS = Keys("kat:")
SESSION = date(2026, 3, 3)
CLOCK = SimulatedClock(datetime(2026, 3, 3, 10, tzinfo=KST), 1.0, time.time())


def intent(
    code: str = "005930", side: Side = Side.BUY, reason: Reason = Reason.ENTRY, qty: int = 10
) -> OrderIntent:
    return OrderIntent(SESSION, code, "삼성전자", side, reason, qty, 70000)


@pytest.fixture
def book(redis_client: redis.Redis) -> OrderBook:
    return OrderBook(redis_client, KEYS, CLOCK)


@pytest.fixture
def ledger(redis_client: redis.Redis) -> PositionLedger:
    return PositionLedger(redis_client, KEYS, CLOCK)


def test_an_intent_creates_its_record_once(book: OrderBook) -> None:
    first = book.create(intent())
    assert first is not None and first.id == "20260303-005930-buy-entry"
    assert first.status is OrderStatus.PENDING
    assert book.create(intent(qty=99)) is None  # same decision again: nothing new
    assert [r.id for r in book.of_day(SESSION)] == [first.id]
    assert book.get(first.id) == first


def test_concurrent_creators_make_one_record(redis_client: redis.Redis) -> None:
    created: list[object] = []

    def create() -> None:
        created.append(
            OrderBook(
                redis.Redis(connection_pool=redis_client.connection_pool), KEYS, CLOCK
            ).create(intent())
        )

    threads = [threading.Thread(target=create) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r is not None for r in created) == 1


def test_transitions_are_compare_and_set(book: OrderBook) -> None:
    record = book.create(intent())
    assert record is not None
    taken = book.transition(record.id, OrderStatus.PENDING, OrderStatus.SUBMITTING, attempts=1)
    assert taken is not None and taken.version == 2
    # A second worker reading the same pending record loses.
    assert book.transition(record.id, OrderStatus.PENDING, OrderStatus.SUBMITTING) is None
    accepted = book.transition(
        record.id, OrderStatus.SUBMITTING, OrderStatus.ACCEPTED, broker_order_no="0000000007"
    )
    assert accepted is not None
    assert [h[0] for h in accepted.history] == ["pending", "submitting", "accepted"]
    assert book.broker_owner(SESSION, "0000000007") == record.id


def test_racing_transitions_let_exactly_one_win(redis_client: redis.Redis, book: OrderBook) -> None:
    record = book.create(intent())
    assert record is not None
    wins: list[object] = []

    def take() -> None:
        other = OrderBook(redis.Redis(connection_pool=redis_client.connection_pool), KEYS, CLOCK)
        wins.append(other.transition(record.id, OrderStatus.PENDING, OrderStatus.SUBMITTING))

    threads = [threading.Thread(target=take) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(w is not None for w in wins) == 1


def test_a_broker_order_answers_one_record_only(book: OrderBook) -> None:
    a = book.create(intent("005930"))
    b = book.create(intent("000660"))
    assert a and b
    for record in (a, b):
        book.transition(record.id, OrderStatus.PENDING, OrderStatus.SUBMITTING)
    book.transition(
        a.id, OrderStatus.SUBMITTING, OrderStatus.ACCEPTED, broker_order_no="0000000042"
    )
    with pytest.raises(BrokerOrderTaken):
        book.transition(
            b.id, OrderStatus.SUBMITTING, OrderStatus.ACCEPTED, broker_order_no="0000000042"
        )
    assert book.get(b.id).status is OrderStatus.SUBMITTING  # type: ignore[union-attr]


def accept(book: OrderBook, order_id: str) -> None:
    """Take a pending order to ``accepted``, the way placing does."""
    book.transition(order_id, OrderStatus.PENDING, OrderStatus.SUBMITTING)
    book.transition(order_id, OrderStatus.SUBMITTING, OrderStatus.ACCEPTED)


def fill(book: OrderBook, order_id: str, qty: int, price: str) -> None:
    accept(book, order_id)
    book.transition(
        order_id,
        OrderStatus.ACCEPTED,
        OrderStatus.FILLED,
        filled_quantity=qty,
        average_fill_price=Decimal(price),
    )


def test_fills_reach_the_ledger_exactly_once(book: OrderBook, ledger: PositionLedger) -> None:
    buy = book.create(intent(qty=10))
    assert buy
    fill(book, buy.id, 10, "70000")
    applied = ledger.apply_fills(buy.id)
    assert applied is not None and applied.position is not None
    assert ledger.apply_fills(buy.id) is None  # again: nothing
    position = ledger.get("005930")
    assert position is not None
    assert (position.quantity, position.average_price, position.buy_session) == (
        10,
        Decimal(70000),
        SESSION,
    )


def test_partial_fills_apply_their_delta_and_sells_realise_profit(
    book: OrderBook, ledger: PositionLedger
) -> None:
    buy = book.create(intent(qty=10))
    assert buy
    accept(book, buy.id)
    book.transition(
        buy.id,
        OrderStatus.ACCEPTED,
        OrderStatus.PARTIALLY_FILLED,
        filled_quantity=4,
        average_fill_price=Decimal(70000),
    )
    ledger.apply_fills(buy.id)
    book.transition(
        buy.id,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.FILLED,
        filled_quantity=10,
        average_fill_price=Decimal(70000),
    )
    ledger.apply_fills(buy.id)
    assert ledger.get("005930").quantity == 10  # type: ignore[union-attr]

    sell = book.create(intent(side=Side.SELL, reason=Reason.TAKE_PROFIT, qty=10))
    assert sell
    fill(book, sell.id, 10, "73600")
    applied = ledger.apply_fills(sell.id)
    assert applied is not None and applied.position is None and applied.realized is not None
    assert applied.realized.profit == 36_000
    assert applied.realized.profit_rate == Decimal("5.14")
    assert ledger.get("005930") is None
    assert [r.order_id for r in ledger.realized(SESSION)] == [sell.id]


def test_export_writes_json_and_the_seed_pickle_shape(
    book: OrderBook, ledger: PositionLedger, tmp_path: Path
) -> None:
    buy = book.create(intent(qty=3))
    assert buy
    fill(book, buy.id, 3, "70000")
    ledger.apply_fills(buy.id)
    as_json, as_pickle = ledger.export(tmp_path / "out", SESSION)
    assert '"code": "005930"' in as_json.read_text()
    assert pickle.loads(as_pickle.read_bytes()) == {"005930": ["삼성전자", "20260303"]}  # noqa: S301


def test_control_flags(redis_client: redis.Redis) -> None:
    controls = Controls(redis_client, KEYS)
    assert not controls.paused and not controls.halted
    controls.set("paused", by="cli", reason="lunch")
    assert controls.paused and controls.active()["paused"]["reason"] == "lunch"
    controls.clear("paused")
    assert not controls.paused
    with pytest.raises(ValueError, match="unknown flag"):
        controls.set("stopped", by="cli")


def test_leader_lock_has_one_holder_and_lapses(redis_client: redis.Redis) -> None:
    a = LeaderLock(redis_client, KEYS.leader("scheduler"), "a", ttl_seconds=0.3)
    b = LeaderLock(redis_client, KEYS.leader("scheduler"), "b", ttl_seconds=0.3)
    assert a.acquire_or_refresh()
    assert not b.acquire_or_refresh()
    assert a.acquire_or_refresh()  # refresh
    time.sleep(0.4)
    assert b.acquire_or_refresh()  # a stopped refreshing
    a.release()  # not a's any more: must not free b's lock
    assert b.current() == "b"


def test_heartbeats_expire(redis_client: redis.Redis) -> None:
    beat(redis_client, KEYS, "executor", "host-1", role="worker")
    (hb,) = heartbeats(redis_client, KEYS)
    assert hb["service"] == "executor" and hb["role"] == "worker" and hb["age"] < 1
    assert redis_client.ttl(KEYS.heartbeat("executor", "host-1")) > 0


def test_a_sessions_records_keep_their_retention_through_every_change(
    redis_client: redis.Redis, book: OrderBook, ledger: PositionLedger
) -> None:
    """Order records, the day's index, KIS order numbers and realised trades expire after the
    session retention, however often they change (docs/ARCHITECTURE.md, 'Redis keys'): Redis
    does not grow with the calendar; the trade journal on the data volume keeps the history."""
    buy = book.create(intent(qty=10))
    assert buy
    accept(book, buy.id)
    book.transition(
        buy.id,
        OrderStatus.ACCEPTED,
        OrderStatus.FILLED,
        broker_order_no="0000000001",
        filled_quantity=10,
        average_fill_price=Decimal(70000),
    )
    ledger.apply_fills(buy.id)
    sell = book.create(intent(side=Side.SELL, reason=Reason.TAKE_PROFIT, qty=10))
    assert sell
    fill(book, sell.id, 10, "73600")
    ledger.apply_fills(sell.id)
    adopted = book.adopt(
        replace(
            sell,
            intent=intent(side=Side.SELL, reason=Reason.ADOPTED, qty=10),
            status=OrderStatus.FILLED,
            broker_order_no="0000000002",
        )
    )
    assert adopted
    for key in (
        KEYS.order(buy.id),
        KEYS.order(sell.id),
        KEYS.order(adopted.id),
        KEYS.orders_of_day(SESSION),
        KEYS.broker_orders(SESSION),
        KEYS.realized(SESSION),
    ):
        assert 0 < redis_client.ttl(key) <= SESSION_RETENTION_SECONDS, key
