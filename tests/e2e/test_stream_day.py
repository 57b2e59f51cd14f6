"""The engine's full simulated day again, with prices on the KIS stream: the same orders, and a
socket dropped mid-morning that the day survives.

The same scripted prices as tests/e2e/test_trading_day.py; the simulator's WebSocket is driven by
the same price paths as its REST side. The sells at 11:00 are decided on streamed ticks.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from shared.infra.clock import KST
from tests.conftest import free_port
from tests.e2e.conftest import KEYS, Market
from tests.e2e.test_trading_day import DAY, assert_the_days_orders, open_the_day

pytestmark = pytest.mark.slow


def watchlist(market: Market) -> dict[str, Any]:
    raw = market.redis.get(KEYS.watchlist())
    return json.loads(raw) if raw else {}


def test_the_full_day_on_the_stream_survives_a_dropped_socket(open_market: Any) -> None:
    ws_port = free_port()
    market = open_the_day(
        open_market,
        sim_env={"SIM_WS_PORT": str(ws_port), "SIM_WS_TICK_SECONDS": "0.02"},
        QUOTE_SOURCE="stream",
        KIS_WS_URL=f"ws://127.0.0.1:{ws_port}",
        KIS_HTS_ID="simhts01",
        STREAM_SILENCE_SECONDS="5",
    )
    market.executor()
    scheduler = market.scheduler()

    # The session opens with the market; the picks still to buy ride it.
    market.wait(
        lambda: (
            watchlist(market).get("stream_healthy")
            and any(r["on_stream"] for r in watchlist(market)["rows"])
        ),
        timeout=30,
        what="prices on the stream",
    )
    # Mid-morning, between the 10:00 and 11:00 moves, the simulator cuts the socket.
    market.wait_clock(datetime(2026, 3, 3, 10, 20, tzinfo=KST))
    before = market.sim.admin("GET", "stream").json()
    market.sim.admin("POST", "stream/faults", json={"kind": "drop"})

    market.wait(lambda: market.events("daily_summary"), timeout=90, what="the daily summary")
    assert_the_days_orders(market)
    assert not market.events("error")

    # The socket was cut and a new session opened after it; the 11:00 sells were decided on
    # the new session's ticks.
    opened = market.sim.admin("GET", "stream").json()["counters"]
    assert opened["sockets_dropped"] >= 1
    assert opened["sessions_opened"] > before["counters"]["sessions_opened"]
    assert opened.get("sessions_refused", 0) == 0  # one session per app key, always
    assert opened["fill_notices"] >= 5  # the scheduler's session carried the day's fills
    log = scheduler.output()
    assert "stream session opened" in log
    assert "decided on the stream: 0 buys, 2 sells" in log or (
        "decided on the stream: 0 buys, 1 sells (000100 at 10501)" in log
        and "decided on the stream: 0 buys, 1 sells (000200 at 9699)" in log
    ), market.logs()
    assert scheduler.process.poll() is None, "the scheduler must not exit on its own"


def test_the_stream_opens_before_the_open_and_the_open_is_bought_at_its_price(
    open_market: Any,
) -> None:
    """The leader subscribes the day's picks two minutes before the open, so the open's first
    trade reaches it as a tick: the buy is decided at the open's price, not at whatever a
    polling round after the open finds (docs/ARCHITECTURE.md, 'Realtime prices on the stream')."""
    ws_port = free_port()
    market: Market = open_market(
        datetime(2026, 3, 3, 8, 57, tzinfo=KST),
        60,
        prices={"000100": [("09:00", 10000), ("09:00:30", 10040)]},
        picks={"000100": ("오픈매수", 10000)},
        sim_env={"SIM_WS_PORT": str(ws_port), "SIM_WS_TICK_SECONDS": "0.02"},
        QUOTE_SOURCE="stream",
        KIS_WS_URL=f"ws://127.0.0.1:{ws_port}",
        KIS_HTS_ID="simhts01",
    )
    market.executor()
    market.scheduler()

    market.wait_clock(datetime(2026, 3, 3, 8, 59, 40, tzinfo=KST))
    assert market.sim.admin("GET", "stream").json()["registrations"] >= 1, market.logs()
    market.wait(lambda: market.records(DAY), timeout=30, what="the open's buy")
    [buy] = market.records(DAY)
    assert buy.intent.price_seen == 10000
