"""A simulated market for end-to-end runs: KIS simulator, executor and schedulers as processes.

Every process gets the same ``CLOCK_START``/``CLOCK_SPEED``/``CLOCK_EPOCH``. The epoch lies ten
real seconds ahead (a process takes seconds to start on a loaded machine, and the tests run
beside other workers' tests), so the processes are up before the simulated day reaches its
interesting moments however slowly they start (before the epoch the clock reads earlier).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import redis

from shared.infra.clock import SimulatedClock
from shared.infra.redis_keys import Keys
from shared.infra.settings import SIM_ACCOUNT
from shared.state.control import heartbeats
from shared.state.order_book import OrderBook
from shared.state.positions import Position, PositionLedger
from shared.trading.orders import OrderRecord
from tests.conftest import ServiceProcess, Sim, service_env, wait_for
from tests.notifier.samples import queued_payloads

KEYS = Keys()


@dataclass
class Market:
    """One simulated stretch of trading: the simulator plus the services under test."""

    sim: Sim
    env: dict[str, str]
    redis: redis.Redis
    clock: SimulatedClock
    folder: Path
    processes: list[ServiceProcess] = field(default_factory=list)

    # Processes -----------------------------------------------------------------------------
    def start(self, module: str, name: str, **extra: str) -> ServiceProcess:
        log = self.folder / f"{name}.log"
        process = ServiceProcess([sys.executable, "-m", module], {**self.env, **extra}, log)
        self.processes.append(process)
        return process

    def scheduler(self, name: str = "scheduler", **extra: str) -> ServiceProcess:
        return self.start("services.scheduler", name, **extra)

    def executor(self) -> ServiceProcess:
        return self.start("services.executor", "executor")

    def stop(self) -> None:
        for process in self.processes:
            process.stop()

    def logs(self) -> str:
        return "\n".join(f"--- {p.log_path.name}\n{p.output()[-6000:]}" for p in self.processes)

    def wait(self, predicate: Callable[[], object], timeout: float, what: str) -> None:
        """``wait_for`` that shows the services' logs when it times out."""
        try:
            wait_for(predicate, timeout=timeout, what=what)
        except AssertionError as e:
            raise AssertionError(
                f"{e} (clock {self.clock.now():%H:%M:%S})\n{self.logs()}"
            ) from None

    def wait_clock(self, moment: datetime) -> None:
        """Sleep until the simulated clock reads ``moment``."""
        self.clock.sleep_until(moment)

    # What happened ---------------------------------------------------------------------------
    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        """Notifications queued so far (no notifier runs in these tests), oldest first; each
        one checked to be a registered event of the contract (the executor's too)."""
        return queued_payloads(self.redis, name)

    def sim_orders(self) -> list[dict[str, Any]]:
        """Every order the simulator received."""
        rows: list[dict[str, Any]] = self.sim.admin("GET", "orders").json()["orders"]
        return rows

    def records(self, session: date) -> list[OrderRecord]:
        return OrderBook(self.redis, KEYS, self.clock).of_day(session)

    def positions(self) -> dict[str, Position]:
        return PositionLedger(self.redis, KEYS, self.clock).all()

    def schedulers(self) -> list[dict[str, Any]]:
        """Live scheduler heartbeats."""
        return [h for h in heartbeats(self.redis, KEYS) if h["service"] == "scheduler"]


def kill(process: ServiceProcess) -> None:
    """SIGKILL: no cleanup at all, the lock and the heartbeat stay behind."""
    os.kill(process.process.pid, signal.SIGKILL)
    process.process.wait(10)


def write_picks(folder: Path, picks: Mapping[str, tuple[str, int]]) -> Path:
    """A picks file in the seed's shape ``{code: [name, target]}``."""
    path = folder / "picks.json"
    path.write_text(
        json.dumps({code: [name, target] for code, (name, target) in picks.items()}),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def open_market(
    start_sim: Callable[..., Sim], redis_url: str, redis_client: redis.Redis, tmp_path: Path
) -> Iterator[Callable[..., Market]]:
    """Factory: ``open_market(start, speed, prices=..., picks=..., cash=..., holdings=...)``.

    ``sim_env`` adds to (or replaces) the simulator's variables; other keywords do the same for
    the services' environment.
    """
    markets: list[Market] = []

    def open_(
        start: datetime,
        speed: float,
        *,
        lead_seconds: float = 10.0,
        prices: Mapping[str, Sequence[tuple[str, int]]] | None = None,
        names: Mapping[str, str] | None = None,
        picks: Mapping[str, tuple[str, int]] | None = None,
        cash: int = 10_000_000,
        holdings: Sequence[Mapping[str, object]] = (),
        sim_env: Mapping[str, str] | None = None,
        **env: str,
    ) -> Market:
        folder = tmp_path / f"market-{len(markets)}"
        folder.mkdir()
        epoch = time.time() + lead_seconds
        clock_env = {
            "CLOCK_START": start.isoformat(),
            "CLOCK_SPEED": f"{speed:g}",
            "CLOCK_EPOCH": f"{epoch:.6f}",
        }
        sim = start_sim(
            **{
                "SIM_RATE_LIMIT": "20",
                "SIM_TOKEN_THROTTLE_SECONDS": "0",
                **clock_env,
                **(sim_env or {}),
            }
        )
        sim.admin(
            "POST",
            "accounts",
            json={"account": SIM_ACCOUNT, "cash": cash, "holdings": list(holdings)},
        )
        if prices:
            paths: dict[str, object] = {c: [list(p) for p in path] for c, path in prices.items()}
            sim.admin("POST", "prices", json={**paths, "names": dict(names or {})})
        service = service_env(
            redis_url,
            KIS_SIM_URL=sim.url,
            KIS_RATE_LIMIT="20",
            KIS_RETRY_BACKOFF_SECONDS="0.05",
            # Each market has its own simulator, which does not know another one's tokens.
            KIS_TOKEN_ISSUE_INTERVAL_SECONDS="0",
            ORDER_STALE_SECONDS="2",
            SCHEDULER_MIN_CYCLE_SECONDS="0.2",
            EXPORT_DIR=str(folder / "export"),
            **clock_env,
        )
        if picks is not None:
            service["PICKS_FILE"] = str(write_picks(folder, picks))
        service.update(env)
        market = Market(
            sim=sim,
            env=service,
            redis=redis_client,
            clock=SimulatedClock(start, speed, epoch),
            folder=folder,
        )
        markets.append(market)
        return market

    yield open_
    for market in markets:
        market.stop()
