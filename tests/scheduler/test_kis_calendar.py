"""Real mode: KIS's own calendar (chk-holiday) is asked once a day and wins when it says closed."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

import pytest
import redis

from services.scheduler.loop import Scheduler
from services.scheduler.plan import stored_plan
from shared.infra.clock import KST, SystemClock
from shared.infra.redis_keys import Keys
from shared.infra.settings import load_settings
from shared.kis.client import build_client
from shared.state.picks_store import store_picks
from shared.trading.market_calendar import KrxCalendar
from shared.trading.picks import Pick
from tests.conftest import Sim, scratch_data_dir
from tests.notifier.samples import queued_payloads
from tests.scheduler.clock import ManualClock

KEYS = Keys()
DAY = date(2026, 3, 3)
PREMARKET = datetime(2026, 3, 3, 8, 40, tzinfo=KST)
REAL = {
    "KIS_ENV": "real",
    "KIS_APP_KEY": "PS" + "k" * 34,
    "KIS_APP_SECRET": "s" * 64,
    "KIS_ACCOUNT": "73001234-01",
    "REAL_TRADING_CONFIRM": "yes",
    "KIS_RATE_LIMIT": "50",
    "KIS_TOKEN_ISSUE_INTERVAL_SECONDS": "0",
}


@pytest.fixture
def real_scheduler(redis_url: str, redis_client: redis.Redis) -> Iterator[Callable[..., Scheduler]]:
    made: list[Scheduler] = []

    def build(sim: Sim) -> Scheduler:
        data = scratch_data_dir()
        settings = load_settings(
            {**REAL, "KIS_BASE_URL": sim.url, "REDIS_URL": redis_url, "DATA_DIR": data}
        )
        client = build_client(settings, redis_client, SystemClock())
        stop = threading.Event()
        stop.set()
        scheduler = Scheduler(
            settings, redis_client, client, ManualClock(PREMARKET), KrxCalendar(), stop=stop
        )
        made.append(scheduler)
        return scheduler

    yield build
    for scheduler in made:
        scheduler.close()


def real_sim(start_sim: Callable[..., Sim], **env: str) -> Sim:
    return start_sim(SIM_RULES="real", SIM_RATE_LIMIT="50", SIM_TOKEN_THROTTLE_SECONDS="0", **env)


def errors(client: redis.Redis) -> list[dict[str, Any]]:
    return queued_payloads(client, "error")


def test_a_day_kis_calls_closed_is_not_traded(
    start_sim: Callable[..., Sim],
    real_scheduler: Callable[..., Scheduler],
    redis_client: redis.Redis,
) -> None:
    # Our calendar says 2026-03-03 is a session; KIS (the simulator with one more closure) not.
    sim = real_sim(start_sim, KRX_EXTRA_CLOSED="2026-03-03")
    store_picks(redis_client, KEYS, DAY, [Pick("005930", "삼성전자", 70000)])
    scheduler = real_scheduler(sim)
    scheduler.step()
    asked = sim.admin("GET", "stats").json()["requests"]
    scheduler.step()
    assert sim.admin("GET", "stats").json()["requests"] == asked  # once a day, then remembered
    assert stored_plan(redis_client, KEYS, DAY) is None  # no plan, so no buying
    assert redis_client.get(KEYS.once("kis-calendar", DAY)) == b"closed"
    (notice,) = errors(redis_client)
    assert "does not open on 2026-03-03" in notice["message"]


def test_a_day_kis_agrees_on_is_traded(
    start_sim: Callable[..., Sim],
    real_scheduler: Callable[..., Scheduler],
    redis_client: redis.Redis,
) -> None:
    sim = real_sim(start_sim)
    store_picks(redis_client, KEYS, DAY, [Pick("005930", "삼성전자", 70000)])
    real_scheduler(sim).step()
    assert redis_client.get(KEYS.once("kis-calendar", DAY)) == b"open"
    plan = stored_plan(redis_client, KEYS, DAY)
    assert plan is not None and [p.code for p in plan.picks] == ["005930"]
    assert errors(redis_client) == []
