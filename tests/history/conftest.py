"""A simulator process and ``kat history`` processes sharing its clock, Redis and a data
directory in tmp_path: fetching is tested over HTTP, as a user runs it."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from services.cli.main import main
from shared.history.store import BarStore, store_path
from tests.conftest import ROOT, Ran, Sim, run_main, service_env

THURSDAY_10AM = "2026-03-05T10:00:00+09:00"
"""Mid-session on Thursday 2026-03-05 (2026-03-02 was a holiday: 삼일절's substitute)."""


@dataclass
class History:
    """A simulator and the environment of the ``kat`` processes that fetch from it."""

    sim: Sim | None
    env: dict[str, str]
    data_dir: Path

    def kat(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "services.cli", "history", *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def kat_here(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
    ) -> Ran:
        """``kat history`` by its ``main`` in this process (``run_main``), in the environment
        :meth:`kat` gives its process: for input refused before anything is asked."""
        return run_main(main, ["history", *args], self.env, ROOT, monkeypatch, capsys)

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "services.cli", "history", *args],
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def requests(self) -> dict[str, int]:
        """Requests the simulator received so far, by tr_id."""
        return dict(self.stats()["requests_by_tr"])

    def stats(self) -> dict[str, Any]:
        return dict(self.admin("GET", "stats").json())

    def admin(self, method: str, path: str, **kwargs: object) -> requests.Response:
        assert self.sim is not None, "this History has no simulator"
        return self.sim.admin(method, path, **kwargs)

    @contextmanager
    def store(self) -> Iterator[BarStore]:
        with BarStore.open(store_path(self.data_dir), read_only=True) as store:
            yield store


@pytest.fixture
def history(
    start_sim: Callable[..., Sim], redis_url: str, tmp_path: Path
) -> Callable[..., History]:
    """Factory: ``history(rate=5, start=..., speed=1, **sim_env)``: a simulator limited to
    ``rate`` requests a second and a ``kat`` whose shared limiter asks for no more."""

    def make(rate: int = 20, start: str = THURSDAY_10AM, speed: int = 1, **sim_env: str) -> History:
        clock = {
            "CLOCK_START": start,
            "CLOCK_SPEED": str(speed),
            "CLOCK_EPOCH": f"{time.time():.3f}",
        }
        sim = start_sim(
            SIM_RATE_LIMIT=str(rate),
            SIM_TOKEN_THROTTLE_SECONDS="0",
            SIM_STORE="memory",
            SIM_WS_PORT="0",
            **clock,
            **sim_env,
        )
        data_dir = tmp_path / "data"
        env = service_env(
            redis_url,
            KIS_SIM_URL=sim.url,
            KIS_RATE_LIMIT=str(rate),
            KIS_RETRY_BACKOFF_SECONDS="0.05",
            DATA_DIR=str(data_dir),
            **clock,
        )
        return History(sim, env, data_dir)

    return make


@pytest.fixture
def offline(redis_url: str, tmp_path: Path) -> History:
    """``kat history`` without a simulator (import, show), its clock on 2026-03-05."""
    clock = {"CLOCK_START": THURSDAY_10AM, "CLOCK_EPOCH": f"{time.time():.3f}"}
    data_dir = tmp_path / "data"
    return History(None, service_env(redis_url, DATA_DIR=str(data_dir), **clock), data_dir)
