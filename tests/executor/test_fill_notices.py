"""Realtime fill notices through the executor: the simulator fills a resting order, its WebSocket
sends the encrypted notice, our stream queues it, the executor job marks the record and the
ledger at once, and neither a second notice nor the daily executions count the shares again."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest

from services.executor.context import build_context, install
from services.executor.jobs import apply_fill_notice
from services.executor.notices import FillNotices
from shared.infra.settings import load_settings
from shared.kis import Side
from shared.kis.models import OrderRequest
from shared.kis.stream import FillNotice, KisStream
from shared.kis.stream_frames import fill_notice_payload
from shared.messaging.queues import SELL_QUEUE, enqueue_fill_notice, enqueue_reconcile, queue
from shared.trading.orders import OrderStatus
from tests.conftest import wait_for
from tests.executor.conftest import SAMSUNG, SESSION, Harness

LIMIT = 69_000
HTS_ID = "exechts1"


def held(world: Harness) -> int:
    """Shares of SAMSUNG in the position ledger."""
    position = world.ledger.get(SAMSUNG)
    return position.quantity if position is not None else 0


@pytest.fixture
def world(make_harness: Callable[..., Harness]) -> Harness:
    """A harness whose simulator streams quickly."""
    return make_harness(SIM_WS_PING_SECONDS="0.5", SIM_WS_TICK_SECONDS="0.02")


@pytest.fixture
def notices(world: Harness) -> Iterator[list[FillNotice]]:
    """A stream on the simulator that queues every fill notice, as the scheduler's does."""
    seen: list[FillNotice] = []

    def on_fill(notice: FillNotice) -> None:
        # Queued before it is listed: a test that sees the notice finds its job queued too.
        enqueue_fill_notice(world.redis, notice)
        seen.append(notice)

    stream = KisStream(
        world.sim.ws_url,
        world.client().approval_key,
        hts_id=HTS_ID,
        fill_tr_id="H0STCNI9",
        on_tick=lambda _tick: None,
        on_fill=on_fill,
    )
    stream.start()
    wait_for(lambda: stream.healthy, what="the fill notice registered")
    yield seen
    stream.stop()


def test_a_fill_notice_marks_the_order_at_once_and_is_counted_once(
    world: Harness, notices: list[FillNotice]
) -> None:
    # A limit buy resting at KIS, recorded as the placing job records it.
    record = world.order(SAMSUNG, Side.BUY, 10, enqueue=False, limit=LIMIT)
    ack = world.client().place(OrderRequest(SAMSUNG, Side.BUY, 10, LIMIT))
    assert world.book.transition(record.id, OrderStatus.PENDING, OrderStatus.SUBMITTING)
    accepted = world.book.transition(
        record.id,
        OrderStatus.SUBMITTING,
        OrderStatus.ACCEPTED,
        broker_order_no=ack.order_no,
        broker_branch_no=ack.branch_no,
    )
    assert accepted is not None

    world.price(SAMSUNG, 68_900)  # the price comes down to the limit: the sim fills it
    wait_for(lambda: any(n.filled for n in notices), what="the fill notice")
    [fill] = [n for n in notices if n.filled]
    assert (fill.order_no, fill.quantity, fill.price) == (ack.order_no, 10, LIMIT)
    assert len(queue(world.redis, SELL_QUEUE).get_jobs()) == 1  # the acknowledgement is not queued

    world.burst()
    filled = world.get(record.id)
    assert filled.status is OrderStatus.FILLED
    assert (filled.filled_quantity, filled.average_fill_price) == (10, Decimal(LIMIT))
    assert held(world) == 10
    assert world.events(record.id) == ["order_filled"]

    # Seen twice: the queue refuses the same notice, and the job itself counts it once.
    assert not enqueue_fill_notice(world.redis, fill)
    install(build_context(load_settings(world.env())))
    assert apply_fill_notice(fill_notice_payload(fill)) == "counted"

    # The daily executions, the reconciliation of record, find the same 10 shares.
    enqueue_reconcile(world.redis, SESSION.isoformat(), "test")
    world.burst()
    assert world.get(record.id).filled_quantity == 10
    assert held(world) == 10
    assert world.events(record.id) == ["order_filled"]


def test_fills_the_executions_reported_first_are_not_counted_again(
    world: Harness, notices: list[FillNotice]
) -> None:
    record = world.order(SAMSUNG, Side.BUY, 5)  # a market buy: filled at once
    world.burst()
    assert world.get(record.id).status is OrderStatus.FILLED
    wait_for(lambda: any(n.filled for n in notices), what="the fill notice")
    world.burst()  # the notice's job, after the placing job read the executions
    assert world.get(record.id).filled_quantity == 5
    assert held(world) == 5
    assert world.events(record.id).count("order_filled") == 1


def test_a_notice_that_outruns_the_placing_job_waits_for_the_order_number(
    world: Harness,
) -> None:
    # KIS has the order; our record is still 'submitting' when the notice's job runs.
    record = world.order(SAMSUNG, Side.BUY, 4, enqueue=False, limit=LIMIT)
    ack = world.client().place(OrderRequest(SAMSUNG, Side.BUY, 4, LIMIT))
    assert world.book.transition(record.id, OrderStatus.PENDING, OrderStatus.SUBMITTING)
    notice = FillNotice(ack.order_no, SAMSUNG, "buy", 4, LIMIT, True, "100001", order_quantity=4)

    def placing_job_answers() -> None:
        time.sleep(1.0)
        world.book.transition(
            record.id,
            OrderStatus.SUBMITTING,
            OrderStatus.ACCEPTED,
            broker_order_no=ack.order_no,
            broker_branch_no=ack.branch_no,
        )

    answer = threading.Thread(target=placing_job_answers)
    answer.start()
    install(build_context(load_settings(world.env())))
    assert apply_fill_notice(fill_notice_payload(notice)) == "applied"
    answer.join()
    assert world.get(record.id).status is OrderStatus.FILLED
    assert held(world) == 4


def test_a_notice_no_record_owns_is_left_to_the_executions(world: Harness) -> None:
    notice = FillNotice("0000999999", SAMSUNG, "buy", 1, LIMIT, True, "100002")
    ctx = install(build_context(load_settings(world.env())))
    assert FillNotices(ctx, owner_wait_seconds=0.2).apply(notice) == "unmatched"
    ack = FillNotice("0000999999", SAMSUNG, "buy", 1, LIMIT, False, "100002")
    assert FillNotices(ctx).apply(ack) == "ignored"
    assert held(world) == 0
