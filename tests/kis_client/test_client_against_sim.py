"""The KIS client against the real simulator process, over HTTP, with a real Redis."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import redis
from requests.adapters import HTTPAdapter

from shared.infra.clock import build_clock
from shared.infra.redis_keys import Keys, app_key_id
from shared.infra.settings import SIM_APP_KEY, load_settings
from shared.kis import (
    KisInsufficientFunds,
    KisMarketClosed,
    KisOutcomeUnknown,
    KisRejected,
    Side,
)
from shared.kis.client import KisClient, build_client
from tests.conftest import (
    ROOT,
    TUESDAY_10AM,
    SharedSim,
    Sim,
    SimPool,
    scratch_data_dir,
    service_env,
)

ACCOUNT = "50000000-01"

StartSim = Callable[..., Sim]


def clock_env(start: str = TUESDAY_10AM) -> dict[str, str]:
    """A clock that starts now at ``start`` and runs in real time."""
    return {"CLOCK_START": start, "CLOCK_EPOCH": f"{time.time():.3f}"}


def client_for(sim: Sim, redis_url: str, **env: str) -> KisClient:
    settings = load_settings(
        {
            "KIS_ENV": "sim",
            "KIS_BASE_URL": sim.url,
            "REDIS_URL": redis_url,
            "KIS_RATE_LIMIT": "50",
            "KIS_RETRY_BACKOFF_SECONDS": "0.05",
            "DATA_DIR": scratch_data_dir(),
            **env,
        }
    )
    connection = redis.Redis.from_url(redis_url)
    return build_client(settings, connection, build_clock(settings, connection))


@pytest.fixture
def sim_clock() -> dict[str, str]:
    """The clock settings the simulator and the client of one test share."""
    return clock_env()


FastSim = Callable[..., SharedSim]


@pytest.fixture
def fast_sim(sim_pool: SimPool) -> FastSim:
    """Factory: the worker's simulator with generous limits (and ``env``), reset, for tests that
    are not about limits; its ``clock_env`` is the clock for the test's clients."""

    def shared(**env: str) -> SharedSim:
        return sim_pool(**{"SIM_RATE_LIMIT": "50", "SIM_TOKEN_THROTTLE_SECONDS": "0", **env})

    return shared


@pytest.mark.parametrize("order_ids", ["current", "legacy"])
@pytest.mark.parametrize("rules", ["paper", "real"])
def test_every_method_round_trips(
    fast_sim: FastSim, redis_url: str, order_ids: str, rules: str
) -> None:
    shared = fast_sim(SIM_RULES=rules)
    sim = shared.sim
    sim.admin("POST", "prices", json={"005930": [["09:00", 70000]], "000660": [["09:00", 150000]]})
    client = client_for(
        sim, redis_url, SIM_RULES=rules, KIS_ORDER_TR_IDS=order_ids, **shared.clock_env
    )
    assert client.ids.buy.startswith("T" if rules == "real" else "V")

    quote = client.current_price("005930")
    assert quote.price == 70000
    assert quote.tick == 100

    before = client.balance()
    cash = before.summary.deposit
    assert before.held() == {}

    buyable = client.buyable_cash("005930")
    assert buyable.buy_quantity == cash // 91_000  # valued at the upper limit (70,000 + 30 %)

    ack = client.buy("005930", 10)
    assert ack.order_no and ack.branch_no and len(ack.order_time) == 6

    after = client.balance()
    held = after.held()["005930"]
    assert held.quantity == 10
    assert held.average_price == Decimal(70000)
    assert after.summary.deposit == cash - 700_000

    client.sell("005930", 4)
    assert client.balance().held()["005930"].quantity == 6

    # A limit buy far below the market rests, and can be cancelled.
    resting = client.buy("000660", 2, price=110_000)
    cancel = client.cancel(resting)
    assert cancel.order_no and cancel.order_no != resting.order_no

    today = date(2026, 3, 3)
    executions = client.daily_executions(today)
    mine = {e.order_no: e for e in executions}
    assert mine[ack.order_no].filled_quantity == 10
    assert mine[ack.order_no].side is Side.BUY
    assert mine[ack.order_no].average_fill_price == Decimal(70000)
    assert mine[resting.order_no].filled_quantity == 0
    buys = client.daily_executions(today, side=Side.BUY, filled_only=True)
    assert [e.order_no for e in buys] == [ack.order_no]

    days = client.market_days(date(2026, 6, 1))
    by_day = {d.day: d for d in days}
    assert by_day[date(2026, 6, 3)].market_open is False  # local election
    assert by_day[date(2026, 6, 2)].market_open is True

    assert client.approval_key()


def test_hashkey_is_sent_when_enabled(fast_sim: FastSim, redis_url: str) -> None:
    shared = fast_sim()
    sim = shared.sim
    client = client_for(sim, redis_url, KIS_USE_HASHKEY="true", **shared.clock_env)
    assert len(client.hashkey({"PDNO": "005930"})) >= 32
    client.buy("005930", 1)
    assert client.balance().held()["005930"].quantity == 1


def test_balance_follows_every_page(fast_sim: FastSim, redis_url: str) -> None:
    shared = fast_sim()
    sim = shared.sim
    holdings = [
        {"code": f"{100000 + i:06d}", "name": f"종목{i}", "qty": i + 1, "avg_price": 10000}
        for i in range(47)
    ]
    sim.admin(
        "POST", "accounts", json={"account": ACCOUNT, "cash": 1_000_000, "holdings": holdings}
    )
    balance = client_for(sim, redis_url, **shared.clock_env).balance()
    assert balance.pages == 3  # 20 + 20 + 7 rows per paper page
    assert {h.code: h.quantity for h in balance.holdings} == {h["code"]: h["qty"] for h in holdings}


def test_executions_follow_every_page(fast_sim: FastSim, redis_url: str) -> None:
    shared = fast_sim()
    sim = shared.sim
    client = client_for(sim, redis_url, **shared.clock_env)
    placed = [client.buy("005930", 1).order_no for _ in range(32)]
    executions = client.daily_executions(date(2026, 3, 3))
    assert [e.order_no for e in executions] == placed  # oldest first, 15 + 15 + 2 rows


def test_paper_refuses_the_holiday_check_without_asking(redis_url: str) -> None:
    settings = load_settings(
        {
            "KIS_ENV": "paper",
            "KIS_APP_KEY": "k" * 36,
            "KIS_APP_SECRET": "s" * 180,
            "KIS_ACCOUNT": "73000001-01",
            "KIS_BASE_URL": "http://127.0.0.1:9",
            "REDIS_URL": redis_url,
            "DATA_DIR": scratch_data_dir(),
        }
    )
    connection = redis.Redis.from_url(redis_url)
    client = build_client(settings, connection, build_clock(settings, connection))
    with pytest.raises(KisRejected, match="paper"):
        client.market_days(date(2026, 3, 3))


def test_orders_outside_hours_are_market_closed(start_sim: StartSim, redis_url: str) -> None:
    clock = clock_env("2026-03-03T08:00:00+09:00")
    sim = start_sim(SIM_RATE_LIMIT="50", SIM_TOKEN_THROTTLE_SECONDS="0", **clock)
    client = client_for(sim, redis_url, **clock)
    with pytest.raises(KisMarketClosed):
        client.buy("005930", 1)
    assert client.current_price("005930").price > 0  # quotes work any time


def test_insufficient_cash_is_final(fast_sim: FastSim, redis_url: str) -> None:
    shared = fast_sim()
    sim = shared.sim
    sim.admin("POST", "accounts", json={"account": ACCOUNT, "cash": 100_000, "holdings": []})
    sim.admin("POST", "prices", json={"005930": [["09:00", 70000]]})
    client = client_for(sim, redis_url, **shared.clock_env)
    with pytest.raises(KisInsufficientFunds):
        client.buy("005930", 2)


def test_dropped_order_answer_is_unknown_and_the_order_exists_once(
    fast_sim: FastSim, redis_url: str
) -> None:
    shared = fast_sim()
    sim = shared.sim
    client = client_for(sim, redis_url, **shared.clock_env)
    sim.admin("POST", "faults", json={"kind": "drop_response", "count": 1, "path": "order-cash"})
    with pytest.raises(KisOutcomeUnknown):
        client.buy("005930", 3)
    executions = client.daily_executions(date(2026, 3, 3), code="005930")
    assert [(e.side, e.order_quantity, e.filled_quantity) for e in executions] == [(Side.BUY, 3, 3)]


def test_gateway_500_on_a_read_is_retried(fast_sim: FastSim, redis_url: str) -> None:
    shared = fast_sim()
    sim = shared.sim
    client = client_for(sim, redis_url, **shared.clock_env)
    sim.admin("POST", "faults", json={"kind": "http_500", "count": 2, "path": "inquire-price"})
    assert client.current_price("005930").price > 0


def test_expired_token_is_reissued_once(fast_sim: FastSim, redis_url: str) -> None:
    shared = fast_sim()
    sim = shared.sim
    client = client_for(sim, redis_url, KIS_TOKEN_ISSUE_INTERVAL_SECONDS="0", **shared.clock_env)
    client.current_price("005930")
    sim.admin("POST", "tokens/expire")
    client.current_price("005930")
    assert sim.admin("GET", "stats").json()["token_issuances"]["total"] == 2


def test_a_redis_wiped_costs_no_token_issuance(
    start_sim: StartSim, redis_url: str, sim_clock: dict[str, str], tmp_path: Path
) -> None:
    """The sealed token is kept on the data volume too (docs/ARCHITECTURE.md, 'When our state
    is lost'): after a FLUSHALL the next client reads it back instead of asking KIS, which
    would refuse a second issuance within the minute (EGW00133, the simulator's real rule)."""
    sim = start_sim(SIM_RATE_LIMIT="50", **sim_clock)
    data = {"DATA_DIR": str(tmp_path / "data"), **sim_clock}
    client_for(sim, redis_url, **data).current_price("005930")
    connection = redis.Redis.from_url(redis_url)
    connection.flushall()

    after = client_for(sim, redis_url, **data)
    after.current_price("005930")
    assert sim.admin("GET", "stats").json()["token_issuances"]["total"] == 1
    [kept] = (tmp_path / "data" / "kis").iterdir()
    assert kept.stat().st_mode & 0o777 == 0o600
    token = after.transport.tokens.get() if after.transport.tokens else ""
    assert token and token not in kept.read_text(), "sealed on disk, never in the clear"
    assert connection.exists(Keys().token("sim", app_key_id(SIM_APP_KEY))), "back in Redis"


def run_workers(sim: Sim, redis_url: str, count: int, seconds: float, **env: str) -> list[dict]:
    """``count`` benchmark worker processes started together against ``sim``."""
    worker_env = service_env(redis_url, KIS_BASE_URL=sim.url, LOG_LEVEL="WARNING", **env)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "benchmarks.kis_rate", "worker", "--seconds", str(seconds)],
            env=worker_env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=seconds + 60)
        assert proc.returncode == 0, err
        results.append(json.loads(out))
    return results


def test_three_processes_starting_together_share_one_token(
    start_sim: StartSim, redis_url: str
) -> None:
    # KIS's real throttle: a second issuance within 60 s is refused with EGW00133.
    sim = start_sim(SIM_RATE_LIMIT="50")
    results = run_workers(sim, redis_url, 3, 1.0, KIS_RATE_LIMIT="50")
    assert all(r["completed"] for r in results)
    stats = sim.admin("GET", "stats").json()
    assert stats["token_issuances"]["total"] == 1
    issued = redis.Redis.from_url(redis_url).get(
        Keys().token_issuances("sim", app_key_id(SIM_APP_KEY))
    )
    assert issued == b"1"


@pytest.mark.slow
def test_three_processes_hammering_the_limiter_get_no_rate_limit_answers(
    start_sim: StartSim, redis_url: str
) -> None:
    sim = start_sim(SIM_RATE_LIMIT="10")
    results = run_workers(sim, redis_url, 3, 4.0, KIS_RATE_LIMIT="10")
    total = sum(len(r["completed"]) for r in results)
    stats = sim.admin("GET", "stats").json()
    assert stats["rate_limited"] == 0
    # Each process got a share, and together they used the limit, not a fraction of it.
    assert all(len(r["completed"]) >= 5 for r in results)
    assert total >= 30


class LateDeparture(HTTPAdapter):
    """requests' own adapter, holding each request back before it leaves: what a process that
    lost its core right after taking a rate-limit slot does on a busy machine."""

    def __init__(self, delay: float) -> None:
        super().__init__(max_retries=0)
        self.delay = delay

    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        time.sleep(self.delay)
        return super().send(request, *args, **kwargs)


def test_a_request_that_leaves_late_does_not_let_the_next_one_in_early(
    start_sim: StartSim, redis_url: str, sim_clock: dict[str, str]
) -> None:
    # Paper rules: one request a second. One client takes its slot and leaves 0.4 s later; the
    # other must not reach KIS within the second after that late request did.
    sim = start_sim(SIM_RATE_LIMIT="1", SIM_TOKEN_THROTTLE_SECONDS="0", **sim_clock)
    settings = {
        "KIS_RATE_LIMIT": "1",
        "KIS_RATE_MARGIN_SECONDS": "0",
        "KIS_TOKEN_ISSUE_INTERVAL_SECONDS": "0",
    }
    late, prompt = (client_for(sim, redis_url, **settings) for _ in range(2))
    for client in (late, prompt):
        client.current_price("005930")  # the token, issued before the race
    time.sleep(1.1)
    late.transport._session.mount(f"{sim.url}/uapi/", LateDeparture(0.4))  # not the token's
    quotes: list[str] = []

    def quote(client: KisClient) -> None:
        quotes.append(client.current_price("005930").code)

    first = threading.Thread(target=quote, args=(late,))
    first.start()
    time.sleep(0.1)  # the late client holds the slot
    quote(prompt)
    first.join(10)

    assert quotes == ["005930", "005930"]
    assert sim.admin("GET", "stats").json()["rate_limited"] == 0
