"""The documented demo script works against the simulator, inside and outside market hours."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable

from tests.conftest import ROOT, Sim, service_env


def run_demo(sim: Sim, redis_url: str, clock: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = service_env(redis_url, KIS_SIM_URL=sim.url, KIS_RATE_LIMIT="20", **clock)
    return subprocess.run(
        [sys.executable, "scripts/demo_client.py"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_demo_buys_and_reads_the_execution_back(
    start_sim: Callable[..., Sim], redis_url: str
) -> None:
    clock = {"CLOCK_START": "2026-03-03T10:00:00+09:00", "CLOCK_EPOCH": f"{time.time():.3f}"}
    sim = start_sim(SIM_RATE_LIMIT="20", **clock)
    result = run_demo(sim, redis_url, clock)
    assert result.returncode == 0, result.stderr
    assert "sim mode" in result.stdout
    assert "bought 1 x 005930: order" in result.stdout
    assert "execution" in result.stdout and "buy 1/1" in result.stdout
    assert "tokens issued so far: 1" in result.stdout
    assert "SIMULATOR-APP" not in result.stdout + result.stderr


def test_demo_shows_the_market_closed_rejection_after_hours(
    start_sim: Callable[..., Sim], redis_url: str
) -> None:
    clock = {"CLOCK_START": "2026-03-03T18:00:00+09:00", "CLOCK_EPOCH": f"{time.time():.3f}"}
    sim = start_sim(SIM_RATE_LIMIT="20", **clock)
    result = run_demo(sim, redis_url, clock)
    assert result.returncode == 0, result.stderr
    assert "buy refused, the market is closed" in result.stdout
