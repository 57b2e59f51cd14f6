"""Days without trading: a closed day (the 2026 local election) and a session with zero picks."""

from __future__ import annotations

import time
from datetime import date, datetime
from typing import Any

import pytest

from shared.infra.clock import KST
from tests.e2e.conftest import Market

pytestmark = pytest.mark.slow


def test_a_closed_day_is_one_notice_then_sleep_to_the_next_premarket(open_market: Any) -> None:
    # 22:00 on election day at 3000x: the next pre-market (06-04 08:30) is 12.6 s away.
    market: Market = open_market(datetime(2026, 6, 3, 22, 0, tzinfo=KST), 3000, picks={})
    market.executor()
    scheduler = market.scheduler()
    market.wait(lambda: market.events("closed_day"), timeout=20, what="the closed-day notice")
    time.sleep(5)
    assert scheduler.process.poll() is None, "a closed day must not end the process"
    [beat] = market.schedulers()
    assert (beat["role"], beat["phase"], beat["session"]) == ("leader", "closed", "2026-06-03")
    assert market.events("closed_day") == [
        {"event": "closed_day", "day": "2026-06-03", "next_session": "2026-06-04"}
    ]

    # Asleep, not gone: it wakes for the next session's pre-market and plans that day.
    market.wait(lambda: market.events("no_picks"), timeout=30, what="the next pre-market")
    [notice] = market.events("no_picks")
    assert notice["session"] == "2026-06-04"
    assert market.clock.now() >= datetime(2026, 6, 4, 8, 30, tzinfo=KST)
    assert len(market.events("closed_day")) == 1
    assert market.sim_orders() == []
    assert market.records(date(2026, 6, 3)) == []
    assert scheduler.process.poll() is None


def test_zero_picks_is_one_notice_no_buys_and_no_crash(open_market: Any) -> None:
    market: Market = open_market(
        datetime(2026, 3, 3, 8, 55, tzinfo=KST),
        600,
        picks={},  # the file exists and holds no pick: {} (the seed would divide by zero)
        prices={"005930": [("09:00", 70000)]},
    )
    market.executor()
    scheduler = market.scheduler()
    market.wait(lambda: market.events("no_picks"), timeout=20, what="the no-picks notice")
    market.wait_clock(datetime(2026, 3, 3, 10, 30, tzinfo=KST))
    cycles = market.schedulers()[0]["cycles"]
    time.sleep(1)
    [beat] = market.schedulers()
    assert beat["phase"] == "intraday" and beat["cycles"] > cycles > 10
    # Every cycle still reads the balance (positions may need selling), never a quote.
    assert beat["last_cycle"]["calls"]["price_calls"] == 0
    assert beat["last_cycle"]["calls"]["balance_calls"] == 1
    assert [e["event"] for e in market.events() if e["event"] != "service_start"] == ["no_picks"]
    assert market.events("no_picks")[0]["picks_given"] == 0
    assert market.sim_orders() == []
    assert market.records(date(2026, 3, 3)) == []
    assert scheduler.process.poll() is None
