"""A simulated market for end-to-end runs: KIS simulator, executor and schedulers as processes.

Every process gets the same ``CLOCK_START``/``CLOCK_SPEED`` with ``CLOCK_HOLD``: the clock reads
``CLOCK_START`` until :meth:`Market.begin` anchors it, once every process the test started is
up (docs/ARCHITECTURE.md, 'The clock'). However slowly a process starts on a loaded machine, it
misses no moment of the day, and no fixed head start is waited out. Processes started after the
beginning (a restarted scheduler) get the anchor as ``CLOCK_EPOCH`` and join the running clock.
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

from shared.infra.clock import HeldClock, anchor_epoch, held_clock
from shared.infra.redis_keys import Keys
from shared.infra.settings import SIM_ACCOUNT
from shared.state.control import heartbeats
from shared.state.order_book import OrderBook
from shared.state.positions import Position, PositionLedger
from shared.trading.orders import OrderRecord
from tests.conftest import ServiceProcess, Sim, service_env, wait_for
from tests.notifier.samples import queued_payloads

KEYS = Keys()


BEGIN_TIMEOUT_SECONDS = 60.0
"""Longest the processes of a market may take to be up (each one's first heartbeat)."""
BEATING_SERVICES = frozenset({"services.scheduler", "services.executor", "services.notifier"})
"""The services whose heartbeat (with their pid) says they are up; the others (the API) are not
waited for."""


@dataclass
class Market:
    """One simulated stretch of trading: the simulator plus the services under test.

    The clock is held at its start until :meth:`begin`, which ``wait`` and ``wait_clock`` call
    themselves: start the day's processes first, then wait for what should happen."""

    sim: Sim
    env: dict[str, str]
    redis: redis.Redis
    clock: HeldClock
    folder: Path
    processes: list[ServiceProcess] = field(default_factory=list)
    modules: dict[int, str] = field(default_factory=dict)
    """The service module of each started process, by pid."""

    def begin(self) -> None:
        """Start the simulated day once every process started so far is up; once per market."""
        if self.clock.running() is not None:
            return
        deadline = time.monotonic() + BEGIN_TIMEOUT_SECONDS
        while not self._all_up():
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"the processes were not up within {BEGIN_TIMEOUT_SECONDS:g}s\n{self.logs()}"
                )
            time.sleep(0.05)
        epoch = anchor_epoch(self.redis, KEYS, self.clock.start, self.clock.speed)
        assert self.clock.running() is not None  # read now: a wipe of Redis may delete the anchor
        # Whoever starts later (a restarted scheduler, even after a wipe of Redis) joins this day.
        self.env.pop("CLOCK_HOLD")
        self.env["CLOCK_EPOCH"] = f"{epoch:.6f}"

    def _all_up(self) -> bool:
        beating = {int(str(h["pid"])) for h in heartbeats(self.redis, KEYS) if "pid" in h}
        for process in self.processes:
            if process.process.poll() is not None:
                raise AssertionError(f"{process.log_path.name} exited early\n{self.logs()}")
        return all(
            pid in beating for pid, module in self.modules.items() if module in BEATING_SERVICES
        )

    # Processes -----------------------------------------------------------------------------
    def start(self, module: str, name: str, **extra: str) -> ServiceProcess:
        log = self.folder / f"{name}.log"
        process = ServiceProcess([sys.executable, "-m", module], {**self.env, **extra}, log)
        self.processes.append(process)
        self.modules[process.process.pid] = module
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
        """``wait_for`` (after :meth:`begin`) that shows the services' logs when it times out."""
        self.begin()
        try:
            wait_for(predicate, timeout=timeout, what=what)
        except AssertionError as e:
            raise AssertionError(
                f"{e} (clock {self.clock.now():%H:%M:%S})\n{self.logs()}"
            ) from None

    def wait_clock(self, moment: datetime) -> None:
        """Sleep (after :meth:`begin`) until the simulated clock reads ``moment``."""
        self.begin()
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
        clock_env = {
            "CLOCK_START": start.isoformat(),
            "CLOCK_SPEED": f"{speed:g}",
            "CLOCK_HOLD": "true",
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
            clock=held_clock(redis_client, KEYS, start, speed),
            folder=folder,
        )
        markets.append(market)
        return market

    yield open_
    for market in markets:
        market.stop()
