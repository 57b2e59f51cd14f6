"""The scheduler's KIS reads for real: one simulator process for the package and a real client.

The simulator runs on its own clock (real time): quotes and the balance answer at any hour, and
the scheduler only enqueues orders, so the phase of the day is the scheduler's ManualClock's alone.
Each test starts from a reset simulator and a flushed Redis.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import redis
import requests

from services.scheduler.loop import Scheduler
from services.scheduler.streaming import StreamFactory
from shared.infra.clock import SystemClock
from shared.infra.settings import SIM_ACCOUNT, load_settings
from shared.kis.client import (
    BALANCE_PATH,
    BUYABLE_PATH,
    EXECUTIONS_PATH,
    PRICE_PATH,
    KisClient,
    build_client,
)
from shared.trading.market_calendar import KrxCalendar
from tests.conftest import (
    RedisServer,
    Sim,
    launch_sim,
    scratch_data_dir,
)
from tests.scheduler.clock import ManualClock

SIM_REDIS_DB = 2
"""Database named to the simulator; it never writes there (its clock is the system clock)."""
ENDPOINTS = {
    PRICE_PATH: "price",
    BALANCE_PATH: "balance",
    BUYABLE_PATH: "cash",
    EXECUTIONS_PATH: "executions",
}
"""Short names of the KIS reads the scheduler makes."""
CODE_PARAMS = {"price": "FID_INPUT_ISCD", "cash": "PDNO"}
"""The query field that names the stock, by endpoint."""
TOKEN_PATH = "/oauth2/tokenP"


@dataclass
class Wire:
    """Every KIS request a client sent over HTTP, oldest first (token issuance left out).

    Hooked on the client's own HTTP session, so it sees exactly what reached the simulator:
    every retry and every page of a balance is one request.
    """

    sent: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def record(self, response: requests.Response, *_args: object, **_kwargs: object) -> None:
        url = urlsplit(response.request.url or "")
        if url.path != TOKEN_PATH:
            query = dict(parse_qsl(url.query, keep_blank_values=True))
            self.sent.append((ENDPOINTS.get(url.path, url.path), query))

    def calls(self) -> dict[str, int]:
        """Requests by endpoint: ``{"price": 3, "balance": 2, "cash": 1}``."""
        return dict(Counter(name for name, _ in self.sent))

    def codes(self, endpoint: str) -> list[str]:
        """The stock code each request to ``endpoint`` (``price`` or ``cash``) named."""
        return [query[CODE_PARAMS[endpoint]] for name, query in self.sent if name == endpoint]

    def clear(self) -> None:
        self.sent.clear()


@dataclass
class Kis:
    """The simulator, and a real client of it (``build_client``) whose requests ``wire`` logs."""

    sim: Sim
    client: KisClient
    wire: Wire

    def prices(self, prices: Mapping[str, int]) -> None:
        """Constant prices: a single point at 00:00 holds all day, every day, at any hour."""
        self.sim.admin("POST", "prices", json={c: [["00:00", p]] for c, p in prices.items()})

    def account(self, cash: int, holdings: Mapping[str, tuple[int, int]] | None = None) -> None:
        """Replace the account: ``holdings`` is ``{code: (quantity, average price)}``, each
        valued at its code's price."""
        rows = [
            {"code": code, "name": f"name-{code}", "qty": qty, "avg_price": average}
            for code, (qty, average) in (holdings or {}).items()
        ]
        self.sim.admin(
            "POST", "accounts", json={"account": SIM_ACCOUNT, "cash": cash, "holdings": rows}
        )

    def fault(self, kind: str, path: str, count: int) -> None:
        """The next ``count`` requests whose path contains ``path`` fail as ``kind``."""
        self.sim.admin("POST", "faults", json={"kind": kind, "count": count, "path": path})

    def faults_armed(self) -> list[object]:
        armed: list[object] = self.sim.admin("GET", "stats").json()["faults_armed"]
        return armed


def connect(sim: Sim, redis_url: str, connection: redis.Redis) -> Kis:
    """A client as the scheduler's ``__main__`` builds it, pointed at ``sim``."""
    settings = load_settings(
        {
            "KIS_ENV": "sim",
            "KIS_SIM_URL": sim.url,
            "REDIS_URL": redis_url,
            "KIS_RATE_LIMIT": "100",
            "KIS_RETRY_BACKOFF_SECONDS": "0.01",
            "KIS_TOKEN_ISSUE_INTERVAL_SECONDS": "0",
            "DATA_DIR": scratch_data_dir(),
        }
    )
    # The token's expiry is the simulator's, so the client's clock is the simulator's: real time.
    client = build_client(settings, connection, SystemClock())
    wire = Wire()
    client.transport._session.hooks["response"].append(wire.record)
    return Kis(sim, client, wire)


@pytest.fixture(scope="session")
def scheduler_sim(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Sim]:
    """One simulator for the package's tests in the whole session; ``kis`` resets it per test.
    Per session, not per package: docs/ARCHITECTURE.md, 'Tests', shared simulators."""
    sim = launch_sim(
        redis_server.url(SIM_REDIS_DB),
        tmp_path_factory.mktemp("kis-sim"),
        SIM_RATE_LIMIT="100",
        SIM_TOKEN_THROTTLE_SECONDS="0",
    )
    yield sim
    sim.service.stop()


@pytest.fixture
def kis(scheduler_sim: Sim, redis_url: str, redis_client: redis.Redis) -> Kis:
    """A real client of the package's simulator, reset to a blank state."""
    scheduler_sim.admin("POST", "reset")
    return connect(scheduler_sim, redis_url, redis_client)


@pytest.fixture
def make(redis_url: str, redis_client: redis.Redis, kis: Kis) -> Iterator[Any]:
    """Factory: a scheduler at ``at`` on the manual clock, reading KIS through ``kis.client``
    (or ``client``), with prices on ``stream`` when given; its real-time waits are skipped
    unless ``waits``."""
    made: list[Scheduler] = []

    def build(
        at: datetime,
        instance: str = "one",
        stream: StreamFactory | None = None,
        client: KisClient | None = None,
        waits: bool = False,
        **env: str,
    ) -> Scheduler:
        data = {"DATA_DIR": scratch_data_dir()}
        settings = load_settings({"REDIS_URL": redis_url, **data, **env})
        stop = threading.Event()
        if not waits:
            stop.set()
        scheduler = Scheduler(
            settings,
            redis_client,
            client or kis.client,
            ManualClock(at),
            KrxCalendar(),
            stream=stream,
            instance=instance,
            stop=stop,
        )
        made.append(scheduler)
        return scheduler

    yield build
    for scheduler in made:
        scheduler.close()
