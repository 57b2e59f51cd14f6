"""The scheduler on the stream: ticks of streamed codes are decided at once, quiet streamed codes
cost no request, and everything is polled while the stream is down, then streamed again.

A simulator of its own (prices on a session day, its WebSocket on a free port), the real stream
client and the real KIS client; the scheduler is stepped on a manual clock, its tick thread runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import redis

from services.scheduler.streaming import FillNotices, StreamFactory, Tick
from shared.infra.clock import KST
from shared.infra.redis_keys import Keys
from shared.kis.stream import KisStream, StreamTimings
from shared.state.order_book import OrderBook
from shared.state.picks_store import store_picks
from shared.trading.picks import Pick
from tests.conftest import Sim, wait_for
from tests.scheduler.conftest import Kis, connect

KEYS = Keys()
DAY = date(2026, 3, 3)
TEN = datetime(2026, 3, 3, 10, 0, tzinfo=KST)
HTS_ID = "simhts01"
SILENCE_SECONDS = 1.0
"""The stream is unhealthy after this long without a message (the simulator pings faster)."""


def stream_sim(start_sim: Callable[..., Sim]) -> Sim:
    """A simulator at 10:00 of a session day in real time, with quick pings and price looks."""
    return start_sim(
        SIM_RATE_LIMIT="100",
        SIM_TOKEN_THROTTLE_SECONDS="0",
        CLOCK_START=TEN.isoformat(),
        CLOCK_SPEED="1",
        CLOCK_EPOCH=repr(time.time()),
        SIM_WS_PING_SECONDS="0.3",
        SIM_WS_TICK_SECONDS="0.02",
    )


def stream_to(sim: Sim, kis: Kis, client: redis.Redis) -> StreamFactory:
    """How ``__main__`` builds the session, pointed at ``sim`` with quick reconnects."""

    def build(on_tick: Callable[[Tick], None]) -> KisStream:
        return KisStream(
            sim.ws_url,
            kis.client.approval_key,
            hts_id=HTS_ID,
            fill_tr_id="H0STCNI9",
            on_tick=on_tick,
            on_fill=FillNotices(client),
            silence_seconds=SILENCE_SECONDS,
            timings=StreamTimings(backoff_first=0.1, backoff_cap=0.5, send_interval=0.0),
        )

    return build


def test_ticks_decide_at_once_and_polling_covers_a_stream_outage(
    make: Any, start_sim: Callable[..., Sim], redis_url: str, redis_client: redis.Redis
) -> None:
    sim = stream_sim(start_sim)
    kis = connect(sim, redis_url, redis_client)
    store_picks(
        redis_client,
        KEYS,
        DAY,
        (
            Pick("000010", "ticked", 10000),
            Pick("000020", "polled", 10000),
            Pick("000030", "c", 10000),
        ),
    )
    kis.prices({"000010": 9500, "000020": 9500, "000030": 9000})
    kis.account(9_000_000)
    scheduler = make(TEN, stream=stream_to(sim, kis, redis_client), client=kis.client)
    book = OrderBook(redis_client, KEYS, scheduler.clock)

    # The first cycle opens the session and polls (nothing is streamed yet); the codes are then
    # registered, nearest their band first.
    scheduler.step()
    stream = scheduler.realtime.stream
    assert stream is not None
    wait_for(
        lambda: stream.healthy and stream.streamed == {"000010", "000020", "000030"},
        what="the picks on the stream",
    )
    # A streamed code is polled once after joining the stream, then its price is the stream's.
    scheduler.step()
    kis.wire.clear()
    scheduler.step()
    assert kis.wire.codes("price") == []
    assert kis.wire.calls() == {"balance": 1}

    # A tick in the band is decided at once, by the tick thread, without a cycle or a quote.
    kis.prices({"000010": 10000, "000020": 9500, "000030": 9000})
    wait_for(
        lambda: [r.id for r in book.of_day(DAY)] == ["20260303-000010-buy-entry"],
        what="the buy decided on the tick",
    )
    assert kis.wire.codes("price") == []
    [record] = book.of_day(DAY)
    assert (record.intent.quantity, record.intent.price_seen) == (300, 10000)

    # The stream goes silent: unhealthy, every code is polled again and the cycle buys.
    sim.admin("POST", "stream/faults", json={"kind": "silent", "seconds": 30})
    wait_for(lambda: not stream.healthy, what="the stream unhealthy")
    kis.prices({"000010": 10000, "000020": 10000, "000030": 9000})
    kis.wire.clear()
    scheduler.step()
    assert sorted(kis.wire.codes("price")) == ["000020", "000030"]
    assert "20260303-000020-buy-entry" in {r.id for r in book.of_day(DAY)}
    watchlist = scheduler.realtime.quotes.on_stream()
    assert watchlist == frozenset()

    # The silence ends: the session is back, and the quiet code is streamed, not polled.
    sim.admin("DELETE", "stream/faults")
    wait_for(lambda: stream.healthy and "000030" in stream.streamed, what="the stream back")
    scheduler.step()
    kis.wire.clear()
    scheduler.step()
    assert kis.wire.codes("price") == []
    assert len(book.of_day(DAY)) == 2


def test_the_buy_cutoff_ends_the_streaming_wait_and_tick_decisions(
    make: Any, start_sim: Callable[..., Sim], redis_url: str, redis_client: redis.Redis
) -> None:
    """A fast clock (the replay's) crosses the buy cut-off while a streaming cycle waits: the
    wait ends there, and a tick in the band after it buys nothing (the pre-close does not buy)."""
    sim = stream_sim(start_sim)
    kis = connect(sim, redis_url, redis_client)
    store_picks(redis_client, KEYS, DAY, (Pick("000010", "ticked", 10000),))
    kis.prices({"000010": 9500})
    kis.account(9_000_000)
    before_cutoff = datetime(2026, 3, 3, 15, 14, 59, tzinfo=KST)  # the cut-off is at 15:15
    scheduler = make(
        before_cutoff,
        stream=stream_to(sim, kis, redis_client),
        client=kis.client,
        waits=True,
        SCHEDULER_MIN_CYCLE_SECONDS="0.1",
    )
    book = OrderBook(redis_client, KEYS, scheduler.clock)
    scheduler.step()
    stream = scheduler.realtime.stream
    assert stream is not None
    wait_for(lambda: stream.healthy and stream.streamed == {"000010"}, what="the pick streamed")
    scheduler.step()  # polls the newly streamed code once
    kis.wire.clear()

    # A cycle without a quote waits for upkeep (5 real s) while streaming, but not past 15:15.
    started = time.monotonic()
    scheduler.step()
    assert kis.wire.codes("price") == []
    assert time.monotonic() - started < 2.5

    # The clock is past the cut-off before the next cycle: a tick in the band is not decided.
    scheduler.clock.current = datetime(2026, 3, 3, 15, 15, 1, tzinfo=KST)
    kis.prices({"000010": 10000})
    wait_for(
        lambda: (
            (seen := scheduler.realtime.board.get("000010")) is not None and seen.price == 10000
        ),
        what="the tick on the board",
    )
    time.sleep(0.5)  # the tick thread decides within a wake-up (TICK_WAIT_SECONDS)
    assert book.of_day(DAY) == []
