"""A simulator, a real Redis and executor processes, and the scheduler's side of the contract."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis

from shared.infra.clock import SimulatedClock
from shared.infra.redis_keys import Keys
from shared.infra.settings import load_settings
from shared.kis import Side
from shared.kis.client import KisClient, build_client
from shared.messaging.queues import enqueue_order, queued_notifications
from shared.state.control import Controls
from shared.state.order_book import OrderBook
from shared.state.positions import PositionLedger
from shared.trading.orders import OrderIntent, OrderRecord, Reason
from tests.conftest import ROOT, TUESDAY_10AM, ServiceProcess, Sim, SimPool, service_env

SESSION = date(2026, 3, 3)
ACCOUNT = "73519246-01"
"""A configured account, so the tests can check its digits never leak."""
APP_KEY = "PSexecutorTestAppKey7788"
APP_SECRET = "executor-test-secret-ZQ93kd"
SECRETS = (ACCOUNT, ACCOUNT.replace("-", ""), ACCOUNT.split("-")[0], APP_KEY, APP_SECRET)
SAMSUNG = "005930"
HYNIX = "000660"
KAKAO = "035720"

StartSim = Callable[..., Sim]


@dataclass
class Harness:
    """One test's world: the simulator, Redis, and helpers that act like the scheduler."""

    sim: Sim
    redis_url: str
    redis: redis.Redis
    clock_env: dict[str, str]
    tmp_path: Path
    keys: Keys = field(default_factory=Keys)
    started: list[ServiceProcess] = field(default_factory=list)

    def __post_init__(self) -> None:
        start = datetime.fromisoformat(self.clock_env["CLOCK_START"])
        speed = float(self.clock_env.get("CLOCK_SPEED", "1"))
        clock = SimulatedClock(start, speed, float(self.clock_env["CLOCK_EPOCH"]))
        self.book = OrderBook(self.redis, self.keys, clock)
        self.ledger = PositionLedger(self.redis, self.keys, clock)
        self.controls = Controls(self.redis, self.keys)
        self.clock = clock

    # Processes -------------------------------------------------------------------------------
    def env(self, **overrides: str) -> dict[str, str]:
        settings = {
            "KIS_SIM_URL": self.sim.url,
            "KIS_RATE_LIMIT": "20",
            "KIS_RETRY_BACKOFF_SECONDS": "0.05",
            "KIS_TOKEN_ISSUE_INTERVAL_SECONDS": "0",
            "KIS_APP_KEY": APP_KEY,
            "KIS_APP_SECRET": APP_SECRET,
            "KIS_ACCOUNT": ACCOUNT,
            "ORDER_ABSENCE_GRACE_SECONDS": "0.5",
            **self.clock_env,
        }
        return service_env(self.redis_url, **{**settings, **overrides})

    def burst(self, **env: str) -> str:
        """Run ``python -m services.executor --burst`` to the end; its log."""
        done = subprocess.run(
            [sys.executable, "-m", "services.executor", "--burst"],
            env=self.env(**env),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        output = done.stdout + done.stderr
        assert done.returncode == 0, output
        self.check_no_secret(output)
        return output

    def start(self, **env: str) -> ServiceProcess:
        """A long-running executor (stopped at teardown)."""
        log = self.tmp_path / f"executor-{len(self.started)}.log"
        service = ServiceProcess([sys.executable, "-m", "services.executor"], self.env(**env), log)
        self.started.append(service)
        return service

    def client(self) -> KisClient:
        """A KIS client with the executor's settings, to play a POST whose executor died."""
        settings = load_settings(self.env())
        return build_client(settings, self.redis, self.clock)

    # The scheduler's side --------------------------------------------------------------------
    def order(
        self,
        code: str,
        side: Side,
        quantity: int,
        reason: Reason = Reason.ENTRY,
        *,
        enqueue: bool = True,
        limit: int | None = None,
        floor: int | None = None,
        decided_ago: timedelta = timedelta(0),
    ) -> OrderRecord:
        """A pending order; ``decided_ago`` dates its decision that much market time back."""
        intent = OrderIntent(
            SESSION, code, f"name-{code}", side, reason, quantity, 70_000, limit, floor
        )
        book = self.book
        if decided_ago:
            start = datetime.fromisoformat(self.clock_env["CLOCK_START"]) - decided_ago
            earlier = SimulatedClock(start, 1.0, float(self.clock_env["CLOCK_EPOCH"]))
            book = OrderBook(self.redis, self.keys, earlier)
        record = book.create(intent)
        assert record is not None
        if enqueue:
            assert enqueue_order(self.redis, record.id, side)
        return record

    def get(self, order_id: str) -> OrderRecord:
        record = self.book.get(order_id)
        assert record is not None
        return record

    # The simulator ---------------------------------------------------------------------------
    def account(self, cash: int = 10_000_000, holdings: list[dict[str, Any]] | None = None) -> None:
        self.sim.admin(
            "POST", "accounts", json={"account": ACCOUNT, "cash": cash, "holdings": holdings or []}
        )

    def price(self, code: str, price: int) -> None:
        self.sim.admin("POST", "prices", json={code: [["09:00", price]]})

    def fault(self, kind: str, **extra: object) -> None:
        self.sim.admin("POST", "faults", json={"kind": kind, "path": "order-cash", **extra})

    def stats(self) -> dict[str, Any]:
        data: dict[str, Any] = self.sim.admin("GET", "stats").json()
        return data

    def sim_orders(self, code: str) -> int:
        """Orders of ``code`` the simulator holds today (read the way KIS would answer)."""
        return len(self.client().daily_executions(SESSION, code=code))

    # Notifications ---------------------------------------------------------------------------
    def notifications(self) -> list[dict[str, Any]]:
        payloads = [dict(event) for event in queued_notifications(self.redis)]
        self.check_no_secret(json.dumps(payloads, ensure_ascii=False))
        return payloads

    def events(self, order_id: str) -> list[str]:
        return [p["event"] for p in self.notifications() if p.get("order_id") == order_id]

    @staticmethod
    def check_no_secret(text: str) -> None:
        for secret in SECRETS:
            assert secret not in text, f"a secret leaked: {secret[:3]}..."


SIM_ENV = {"SIM_RATE_LIMIT": "20", "SIM_TOKEN_THROTTLE_SECONDS": "0"}


@pytest.fixture
def make_harness(
    start_sim: StartSim,
    sim_pool: SimPool,
    redis_url: str,
    redis_client: redis.Redis,
    tmp_path: Path,
) -> Iterator[Callable[..., Harness]]:
    """Factory: ``make_harness(start=..., speed=...)``: a simulator sharing the tests' clock. The
    default (10:00 at real speed, no simulator settings) is the worker's shared simulator
    (``sim_pool``), reset; any other starts one of its own."""
    made: list[Harness] = []

    def make(start: str = TUESDAY_10AM, speed: float = 1.0, **sim_env: str) -> Harness:
        if start == TUESDAY_10AM and speed == 1.0 and not sim_env:
            shared = sim_pool(**SIM_ENV)
            sim, clock_env = shared.sim, shared.clock_env
        else:
            clock_env = {"CLOCK_START": start, "CLOCK_EPOCH": f"{time.time():.3f}"}
            if speed != 1.0:
                clock_env["CLOCK_SPEED"] = f"{speed:g}"
            sim = start_sim(**SIM_ENV, **clock_env, **sim_env)
        harness = Harness(sim, redis_url, redis_client, clock_env, tmp_path)
        harness.account()
        harness.price(SAMSUNG, 70_000)
        made.append(harness)
        return harness

    yield make
    for harness in made:
        for service in harness.started:
            service.stop()


@pytest.fixture
def world(make_harness: Callable[..., Harness]) -> Harness:
    """A harness at 10:00 on a regular session."""
    return make_harness()
