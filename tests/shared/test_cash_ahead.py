"""The cash read ahead against a real Redis: when an answer stands in for asking KIS again, and
that every change of an order record makes the answers kept so far stale."""

from __future__ import annotations

import time
from datetime import date, datetime

import redis

from shared.infra.clock import KST, SimulatedClock
from shared.infra.redis_keys import Keys
from shared.kis.models import BuyableCash, Side
from shared.state.cash_ahead import (
    CashAhead,
    cash_generation,
    keep,
    redis_epoch,
    still_valid,
    valid_ahead,
)
from shared.state.order_book import OrderBook
from shared.trading.orders import OrderIntent, OrderStatus, Reason

KEYS = Keys("kat:")
SESSION = date(2026, 3, 3)
CLOCK = SimulatedClock(datetime(2026, 3, 3, 10, tzinfo=KST), 1.0, time.time())
ANSWER = BuyableCash(5_000_000, 4_990_000, 475, 4_990_000, 475)


def answer_at(limit: int, generation: int, read_epoch: float) -> CashAhead:
    return CashAhead(limit, "005930", generation, read_epoch, ANSWER)


def test_an_answer_is_valid_at_its_limit_under_its_generation_and_while_young() -> None:
    kept = answer_at(10_490, 7, 1_000.0)
    assert still_valid(kept, 10_490, 7, 1_000.0, 120)
    assert still_valid(kept, 10_490, 7, 1_120.0, 120)
    assert not still_valid(kept, 10_480, 7, 1_000.0, 120)  # another limit price
    assert not still_valid(kept, 10_490, 8, 1_000.0, 120)  # an order record changed since
    assert not still_valid(kept, 10_490, 7, 1_120.5, 120)  # too old
    assert not still_valid(kept, 10_490, 7, 999.0, 120)  # from the future: not trusted


def test_every_change_of_an_order_record_makes_the_answers_stale(
    redis_client: redis.Redis,
) -> None:
    book = OrderBook(redis_client, KEYS, CLOCK)
    record = book.create(OrderIntent(SESSION, "005930", "삼성전자", Side.BUY, Reason.ENTRY, 10, 1))
    assert record is not None
    generation = cash_generation(redis_client, KEYS)
    keep(redis_client, KEYS, answer_at(10_490, generation, redis_epoch(redis_client)))
    found = valid_ahead(redis_client, KEYS, 10_490)
    assert found is not None and found.buyable == ANSWER  # a new pending record moves no cash
    assert valid_ahead(redis_client, KEYS, 10_480) is None

    book.transition(record.id, OrderStatus.PENDING, OrderStatus.SUBMITTING)
    assert cash_generation(redis_client, KEYS) == generation + 1
    assert valid_ahead(redis_client, KEYS, 10_490) is None

    # A change lost to another writer bumps nothing; the answer read after the change is valid.
    assert book.transition(record.id, OrderStatus.PENDING, OrderStatus.SUBMITTING) is None
    assert cash_generation(redis_client, KEYS) == generation + 1
    keep(redis_client, KEYS, answer_at(10_490, generation + 1, redis_epoch(redis_client)))
    assert valid_ahead(redis_client, KEYS, 10_490) is not None
    assert valid_ahead(redis_client, KEYS, 10_490, max_age=0.0) is None  # older than no age
