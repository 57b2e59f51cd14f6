"""Fixtures shared by every test: a throwaway redis-server and real service processes.

Tests never touch a Redis they did not start: the session starts its own ``redis-server`` on a
free port with persistence off, and each test gets a database it flushes before and after.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
import redis
import requests

from shared.infra.clock import anchor_epoch
from shared.infra.processes import SIM_HOST, await_sim, free_port, start_on_free_ports
from shared.infra.processes import service_env as processes_service_env
from shared.infra.redis_keys import Keys
from tests.fast_mode import (  # noqa: F401 - pytest hooks, found here by name
    pytest_addoption,
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_itemcollected,
    pytest_runtest_call,
    pytest_runtest_setup,
    pytest_runtest_teardown,
    pytest_sessionstart,
    pytest_xdist_make_scheduler,
)

__all__ = ["free_port", "service_env"]
"""Re-exported: the tests import them from here (their home is shared/infra/processes.py)."""

ROOT = Path(__file__).resolve().parent.parent


def wait_for(predicate: object, timeout: float = 15.0, what: str = "condition") -> None:
    """Poll ``predicate()`` until it is true or fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():  # type: ignore[operator]
                return
        except Exception:  # noqa: S110 - not up yet
            pass
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@dataclass
class RedisServer:
    """A redis-server this test session started."""

    port: int
    process: subprocess.Popen[bytes]

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    binary = os.environ.get("REDIS_SERVER_BIN") or shutil.which("redis-server")
    if not binary:
        pytest.exit("redis-server not found: install the 'redis-server' package", returncode=3)
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
            "--databases",
            "16",
        ],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    wait_for(client.ping, what="redis-server")
    yield RedisServer(port, proc)
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def redis_url(redis_server: RedisServer) -> Iterator[str]:
    """A clean database on the session's own redis-server, flushed before and after the test."""
    url = redis_server.url(1)
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


class ServiceProcess:
    """A service started as a plain process (``python -m ...``), stopped at teardown."""

    def __init__(self, args: list[str], env: Mapping[str, str], log_path: Path) -> None:
        self.args = args
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            args, env=dict(env), cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT
        )

    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()


def begin_clock(redis_url: str, start: str, speed: float) -> None:
    """Start a clock held at ``start`` (``CLOCK_HOLD``, docs/ARCHITECTURE.md, 'The clock') for
    every process on this Redis: the test has set up what must happen before the clock runs."""
    client = redis.Redis.from_url(redis_url)
    try:
        anchor_epoch(client, Keys(), datetime.fromisoformat(start), speed)
    finally:
        client.close()


def scratch_data_dir() -> str:
    """A data directory of its own (DATA_DIR: the sealed token, the day's plan) for a test's
    process or client: never the checkout's data/, where another test's token or plan of the
    same date would be read back."""
    return tempfile.mkdtemp(prefix="kat-test-data-")


@dataclass(frozen=True)
class Ran:
    """What a command did, as ``subprocess.CompletedProcess`` says it."""

    returncode: int
    stdout: str
    stderr: str


def run_main(
    main: Callable[[list[str]], int],
    args: Sequence[str],
    env: Mapping[str, str],
    cwd: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Ran:
    """A command by its ``main`` in this process, with ``env`` as its whole environment and
    ``cwd`` as its folder: what a process of it says and returns, without its half second of
    imports (docs/ARCHITECTURE.md, 'Tests', commands by their ``main``)."""
    capsys.readouterr()
    with monkeypatch.context() as patch:
        for name in list(os.environ):
            patch.delenv(name)
        for name, value in env.items():
            patch.setenv(name, value)
        patch.chdir(cwd)
        try:
            code = main(list(args))
        except SystemExit as e:  # argparse's own refusals
            code = e.code if isinstance(e.code, int) else int(e.code is not None)
    said = capsys.readouterr()
    return Ran(code, said.out, said.err)


def service_env(redis_url: str, **overrides: str) -> dict[str, str]:
    """A test's service environment (``shared.infra.processes.service_env``) with a data
    directory of its own unless the test names one."""
    return processes_service_env(redis_url, **{"DATA_DIR": scratch_data_dir(), **overrides})


@dataclass
class Sim:
    """A running KIS simulator."""

    url: str
    service: ServiceProcess
    ws_url: str = ""
    """The simulator's WebSocket (``SIM_WS_PORT``, a free port of its own)."""

    def admin(self, method: str, path: str, **kwargs: object) -> requests.Response:
        response = requests.request(method, f"{self.url}/sim/{path}", timeout=10, **kwargs)  # type: ignore[arg-type]
        response.raise_for_status()
        return response


def launch_sim(redis_url: str, log_dir: Path, **env: str) -> Sim:
    """Start ``python -m services.kis_sim`` on free ports and wait until it answers on them."""
    return launch_sim_on(redis_url, log_dir, free_port, env)


def launch_sim_on(
    redis_url: str, log_dir: Path, ports: Callable[[], int], env: Mapping[str, str]
) -> Sim:
    """:func:`launch_sim` on ports from ``ports()``, started again on the next ones when it
    could not take them (:func:`shared.infra.processes.start_on_free_ports`); a WebSocket port
    the caller chose (``SIM_WS_PORT``) is kept."""
    return start_on_free_ports(
        lambda port, ws: start_sim_on(redis_url, log_dir, port, {"SIM_WS_PORT": str(ws), **env}),
        log_dir,
        ports,
    )


def start_sim_on(redis_url: str, log_dir: Path, port: int, env: Mapping[str, str]) -> Sim | None:
    """A simulator listening on ``port`` and its ``SIM_WS_PORT``; None (stopped, its log kept)
    if it could not take them or did not answer."""
    full_env = service_env(redis_url, SIM_HOST=SIM_HOST, SIM_PORT=str(port), **env)
    service = ServiceProcess(
        [sys.executable, "-m", "services.kis_sim"], full_env, log_dir / f"kis-sim-{port}.log"
    )
    url = f"http://{SIM_HOST}:{port}"
    ws_port = int(env["SIM_WS_PORT"])

    def alive() -> bool:
        return service.process.poll() is None

    try:
        if await_sim(service.output, alive, port, ws_port, timeout=15):
            wait_for(lambda: requests.get(f"{url}/sim/health", timeout=1).ok, what="kis-sim")
            return Sim(url, service, f"ws://{SIM_HOST}:{ws_port}" if ws_port else "")
    except (AssertionError, RuntimeError):
        pass
    service.stop()
    return None


TUESDAY_10AM = "2026-03-03T10:00:00+09:00"
"""A regular session's 10:00: where a shared simulator's clock starts unless a test names one."""
SIM_POOL_REDIS_DB = 4
"""Database of the pool's simulators: each keeps its accounts there under a prefix of its own."""


@dataclass(frozen=True)
class SharedSim:
    """A simulator that a worker's tests share, and its clock: the same clock settings give a
    test's own clients and processes its time."""

    sim: Sim
    clock_env: dict[str, str]


SimPool = Callable[..., SharedSim]


@pytest.fixture(scope="session")
def sim_pool(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SimPool]:
    """Factory: ``sim_pool(SIM_RULES="real", start=...)`` is this worker's simulator with exactly
    these settings, started on its first use on a clock that runs in real time from ``start``
    (10:00 on a regular session unless given), and reset (``POST /sim/reset``: accounts,
    orders, tokens, counters, faults) at every call: a second call with the same settings in
    one test resets the simulator the first gave. For tests that need a simulator's settings
    but not a fresh process (docs/ARCHITECTURE.md, 'Tests', shared simulators)."""
    started: dict[tuple[str, frozenset[tuple[str, str]]], SharedSim] = {}

    def shared(start: str = TUESDAY_10AM, **env: str) -> SharedSim:
        key = (start, frozenset(env.items()))
        if key not in started:
            clock_env = {"CLOCK_START": start, "CLOCK_EPOCH": f"{time.time():.3f}"}
            sim = launch_sim(
                redis_server.url(SIM_POOL_REDIS_DB),
                tmp_path_factory.mktemp("kis-sim"),
                **{"SIM_REDIS_PREFIX": f"kis_sim:pool-{len(started)}:", **env},
                **clock_env,
            )
            started[key] = SharedSim(sim, clock_env)
        started[key].sim.admin("POST", "reset")
        return started[key]

    yield shared
    for each in started.values():
        each.sim.service.stop()


@pytest.fixture
def start_sim(redis_url: str, tmp_path: Path) -> Iterator[object]:
    """Factory: ``start_sim(SIM_RULES="real", ...)`` starts ``python -m services.kis_sim``."""
    started: list[Sim] = []

    def start(**env: str) -> Sim:
        sim = launch_sim(redis_url, tmp_path, **env)
        started.append(sim)
        return sim

    yield start
    for sim in started:
        sim.service.stop()
