"""The whole system as local processes: a redis-server, the KIS simulator and the services, each a
``python -m services.<name>`` process, all on one simulated clock (``CLOCK_START``,
``CLOCK_SPEED``, ``CLOCK_EPOCH``).

Used by the chaos run (benchmarks/chaos.py, docs/ARCHITECTURE.md, 'Chaos run') and the backtest's
replay driver (shared/replay/, docs/ARCHITECTURE.md, 'Backtest', 'Replay'). Nothing here knows
trading: it starts, restarts and stops processes and tells them where Redis and the clock are.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import suppress
from datetime import datetime
from pathlib import Path
from typing import IO, Any, TypeVar

import redis
import requests

from shared.infra.clock import anchor_epoch
from shared.infra.redis_keys import Keys

ROOT = Path(__file__).resolve().parents[2]
"""The project's root: the services' working directory and PYTHONPATH."""
RESTART_DELAY_SECONDS = 0.5
"""How long the supervisor waits before restarting a service that exited."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


T = TypeVar("T")

SIM_HOST = "127.0.0.1"
"""Where the tests' and the replay's simulators listen."""
SIM_START_TRIES = 3
"""Starts of a simulator whose ports another process took first (see :func:`sim_listening`)."""


def sim_listening(output: str, port: int, ws_port: int) -> bool | None:
    """From a simulator's log: True once it listens on ``port`` (and on ``ws_port`` unless 0),
    False when it could not take one of them, None while it is starting.

    A free port (:func:`free_port`) is free only when looked at: another process can bind it
    before the simulator does. Until the simulator's own line, an answer on the port may be
    that other process's.
    """
    if any(p and f"cannot listen on {SIM_HOST}:{p}:" in output for p in (port, ws_port)):
        return False
    return True if f"KIS simulator on http://{SIM_HOST}:{port} " in output else None


def await_sim(
    output: Callable[[], str], alive: Callable[[], bool], port: int, ws_port: int, timeout: float
) -> bool:
    """Wait for :func:`sim_listening` to say; False too when the process ended without a word.
    RuntimeError after ``timeout`` real seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        said = sim_listening(output(), port, ws_port)
        if said is not None:
            return said
        if not alive():
            return sim_listening(output(), port, ws_port) or False
        time.sleep(0.05)
    raise RuntimeError(f"kis-sim did not start within {timeout:g}s")


def start_on_free_ports(
    start: Callable[[int, int], T | None], logs: Path, ports: Callable[[], int] = free_port
) -> T:
    """``start(port, ws_port)`` on two fresh ports from ``ports()`` until it returns what it
    started (None: a port was taken, :func:`sim_listening`), at most :data:`SIM_START_TRIES`
    times; RuntimeError naming ``logs`` after that."""
    for _ in range(SIM_START_TRIES):
        started = start(ports(), ports())
        if started is not None:
            return started
    raise RuntimeError(f"kis-sim did not start in {SIM_START_TRIES} tries; its logs: {logs}")


def wait_until(predicate: Callable[[], object], timeout: float, what: str) -> None:
    """Poll ``predicate()`` (exceptions count as false) until true; RuntimeError after
    ``timeout`` real seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with suppress(Exception):
            if predicate():
                return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not come up in {timeout:g}s")


def terminate(process: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM, and SIGKILL what is still there 20 s later."""
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def service_env(redis_url: str, **overrides: str) -> dict[str, str]:
    """A service's whole environment: only what is given here, never a developer's .env."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),  # noqa: S108 - a fallback HOME, nothing written
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        "REDIS_URL": redis_url,
        "KIS_ENV": "sim",
        # A developer's .env must not reach the processes started here.
        "KAT_ENV_FILE": "",
        # Prices are polled unless the caller streams them (it names the simulator's KIS_WS_URL).
        "QUOTE_SOURCE": "polling",
    }
    env.update(overrides)
    return env


class RedisProcess:
    """A redis-server on a free port writing into ``folder`` (AOF on unless ``aof=False``),
    restartable on the same port."""

    def __init__(self, folder: Path, aof: bool = True) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise SystemExit("redis-server not found: install the 'redis-server' package")
        self.binary = binary
        self.folder = folder
        self.aof = aof
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with (self.folder / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(
                [
                    *(self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""),
                    *("--appendonly", "yes" if self.aof else "no", "--dir", str(self.folder)),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_until(lambda: redis.Redis.from_url(self.url).ping(), 20, "redis-server")

    def stop(self) -> None:
        """SIGTERM: Redis writes its AOF and exits, as on ``docker compose restart redis``."""
        terminate(self.process)


class Supervised:
    """A service process logging to ``folder/<name>.log``, restarted by :meth:`check` when it
    exited (counting the exits it did not cause)."""

    def __init__(self, name: str, argv: list[str], env: Mapping[str, str], folder: Path) -> None:
        self.name = name
        self.argv = argv
        self.env = dict(env)
        self.log_path = folder / f"{name}.log"
        self.log: IO[bytes] = self.log_path.open("ab")
        self.process: subprocess.Popen[bytes] | None = None
        self.kills = 0
        self.exits = 0
        """Exits we did not cause (a crash, or giving up on Redis)."""
        self._killed = False

    def start(self) -> None:
        self.log.write(f"--- supervisor: start {time.strftime('%H:%M:%S')}\n".encode())
        self.log.flush()
        self.process = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self._killed = False

    def output(self) -> str:
        """Everything the process wrote, over all its starts."""
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self._killed = True
            self.kills += 1
            self.log.write(b"--- supervisor: SIGKILL\n")
            self.log.flush()
            self.process.send_signal(signal.SIGKILL)

    def check(self) -> None:
        """Restart the process if it has exited (counting an exit we did not cause)."""
        if self.process is None or self.process.poll() is None:
            return
        if not self._killed:
            self.exits += 1
            self.log.write(f"--- supervisor: exited with {self.process.returncode}\n".encode())
        time.sleep(RESTART_DELAY_SECONDS)
        self.start()

    def stop(self) -> None:
        terminate(self.process)
        self.log.close()


class SimulatedSystem:
    """Redis, the KIS simulator and services as processes, on one simulated clock that reads
    ``start`` at the real moment ``epoch`` and runs ``speed`` times faster than real time.

    :meth:`start_sim`, then whatever the caller sets up through :meth:`admin`, then
    :meth:`start_services`; :meth:`supervise` restarts a service that exits, as compose's
    ``restart: unless-stopped`` would; :meth:`stop` stops everything in reverse.

    ``start_sim()`` without a lead holds the clock at ``start`` (``CLOCK_HOLD``, docs/
    ARCHITECTURE.md, 'The clock') until :meth:`begin`, once the services are up: however slowly
    they start, the day loses no moment and waits out no fixed head start.
    """

    def __init__(self, folder: Path, start: datetime, speed: float, aof: bool = True) -> None:
        self.folder = folder
        self.clock_start = start
        self.speed = speed
        self.redis = RedisProcess(folder, aof=aof)
        self.epoch = 0.0
        """The real time at which the clock reads ``start``; 0 while the clock is held."""
        self.sim_url = ""
        self.sim_ws_url = ""
        self.sim: Supervised | None = None
        self.services: dict[str, Supervised] = {}
        self.held: set[str] = set()
        """Services the supervisor leaves alone."""
        self._stopping = threading.Event()
        self._supervisor: threading.Thread | None = None

    # Clock -------------------------------------------------------------------------------------
    def real_time_of(self, moment: datetime) -> float:
        """The real Unix time at which the clock reads ``moment``."""
        return self.epoch + (moment - self.clock_start).total_seconds() / self.speed

    def sleep_until(self, moment: datetime) -> None:
        delay = self.real_time_of(moment) - time.time()
        if delay > 0:
            time.sleep(delay)

    def env(self, **extra: str) -> dict[str, str]:
        """A process's whole environment: this system's Redis, clock and data directory (its
        folder's ``data/``: another run's plan or token of the same date is never read), no .env
        file."""
        clock = {"CLOCK_EPOCH": f"{self.epoch:.6f}"} if self.epoch else {"CLOCK_HOLD": "true"}
        return service_env(
            self.redis.url,
            LOG_LEVEL="INFO",
            CLOCK_START=self.clock_start.isoformat(),
            CLOCK_SPEED=f"{self.speed:g}",
            **clock,
            **{"DATA_DIR": str(self.folder / "data"), **extra},
        )

    def heartbeats(self) -> list[dict[str, Any]]:
        """The live heartbeats in this system's Redis (docs/ARCHITECTURE.md, 'Redis keys')."""
        client = redis.Redis.from_url(self.redis.url, socket_timeout=2)
        try:
            beats = [client.get(key) for key in client.scan_iter(Keys().heartbeats())]
        finally:
            client.close()
        return [json.loads(b) for b in beats if b]

    def beating(self, services: Iterable[str]) -> bool:
        """Whether each of ``services`` (scheduler, executor, notifier) has a live heartbeat."""
        return set(services) <= {str(b.get("service")) for b in self.heartbeats()}

    def begin(self, ready: Callable[[], bool], timeout: float) -> None:
        """Start the held clock once ``ready()`` says the services are up (within ``timeout``
        real seconds); a service restarted later joins the running clock."""
        wait_until(ready, timeout, "the services up before the day")
        client = redis.Redis.from_url(self.redis.url, socket_timeout=5)
        try:
            self.epoch = anchor_epoch(client, Keys(), self.clock_start, self.speed)
        finally:
            client.close()
        for service in self.services.values():
            service.env.pop("CLOCK_HOLD", None)
            service.env["CLOCK_EPOCH"] = f"{self.epoch:.6f}"

    # Start and stop ----------------------------------------------------------------------------
    def start_sim(self, lead_seconds: float | None = None, **sim_env: str) -> None:
        """Start Redis and the simulator; the clock reads ``start`` ``lead_seconds`` from now,
        or, without a lead, from :meth:`begin` on."""
        self.redis.start()
        self.epoch = 0.0 if lead_seconds is None else time.time() + lead_seconds
        self.sim = start_on_free_ports(
            lambda port, ws: self._sim_on(port, ws, sim_env), self.folder
        )
        wait_until(lambda: requests.get(f"{self.sim_url}/sim/health", timeout=1).ok, 30, "kis-sim")

    def _sim_on(self, port: int, ws_port: int, sim_env: Mapping[str, str]) -> Supervised | None:
        """The simulator started on ``port`` and ``ws_port``; None (stopped) if either was taken."""
        env = self.env(SIM_HOST=SIM_HOST, SIM_PORT=str(port), SIM_WS_PORT=str(ws_port), **sim_env)
        sim = Supervised("kis-sim", [sys.executable, "-m", "services.kis_sim"], env, self.folder)
        sim.start()
        if not await_sim(sim.output, sim.alive, port, ws_port, timeout=30):
            sim.stop()
            return None
        self.sim_url = f"http://{SIM_HOST}:{port}"
        self.sim_ws_url = f"ws://{SIM_HOST}:{ws_port}"
        return sim

    def start_services(self, names: Iterable[str], **env: str) -> None:
        """Start ``python -m services.<name>`` for each name, all with the same settings."""
        full = self.env(KIS_SIM_URL=self.sim_url, **env)
        for name in names:
            service = Supervised(
                name, [sys.executable, "-m", f"services.{name}"], full, self.folder
            )
            self.services[name] = service
            service.start()

    def supervise(self) -> None:
        """From now on, restart any service that exits (half a second later)."""
        self._supervisor = threading.Thread(target=self._supervise, daemon=True)
        self._supervisor.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._supervisor is not None:
            self._supervisor.join(5)
        for service in reversed(list(self.services.values())):
            service.stop()
        if self.sim is not None:
            self.sim.stop()
        self.redis.stop()

    def _supervise(self) -> None:
        while not self._stopping.is_set():
            for name, service in list(self.services.items()):
                if name not in self.held and not self._stopping.is_set():
                    service.check()
            self._stopping.wait(0.1)

    def admin(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """The simulator's admin endpoint ``/sim/<path>``; raises on an HTTP error."""
        response = requests.request(method, f"{self.sim_url}/sim/{path}", timeout=30, **kwargs)
        response.raise_for_status()
        return response
