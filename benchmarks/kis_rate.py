"""Benchmark: KIS requests per second achieved through the shared limiter, as a fraction of the
configured limit, with one and with three competing processes, and the EGW00201 answers seen.

    python -m benchmarks.kis_rate            # starts its own redis-server and simulator
    python -m benchmarks.kis_rate worker     # one competing process (used by the above and tests)

Target: at least 95 % of the limit with zero EGW00201.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis
import requests

from shared.clock import build_clock
from shared.kis.client import build_client
from shared.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
CODES = ("005930", "000660", "035420", "051910", "005380")
"""Codes the workers quote in turn."""


# The competing process -------------------------------------------------------------------------
def run_worker(seconds: float) -> dict[str, object]:
    """Quote prices through the shared client for ``seconds``; report completion times."""
    settings = load_settings()
    connection = redis.Redis.from_url(settings.redis_url)
    client = build_client(settings, connection, build_clock(settings, connection))
    done: list[float] = []
    deadline = time.time() + seconds
    i = 0
    while time.time() < deadline:
        client.current_price(CODES[i % len(CODES)])
        done.append(time.time())
        i += 1
    return {"pid": os.getpid(), "completed": done}


# The orchestrator ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Scenario:
    """One measured run."""

    rules: str
    limit: float
    processes: int
    seconds: float


@dataclass(frozen=True)
class Result:
    """What one scenario achieved."""

    scenario: Scenario
    requests: int
    achieved: float
    rate_limited: int
    token_issuances: int

    @property
    def fraction(self) -> float:
        return self.achieved / self.scenario.limit


def steady_rate(times: list[float], limit: float) -> float:
    """Sustained requests per second: ``N`` requests over the span of every ``N`` in a row.

    With ``N = floor(limit)``, the span of ``N`` consecutive completions is one window when the
    limiter is saturated, whatever the start burst or where the run was cut; averaging it over
    the run measures what the limiter lets through.
    """
    times = sorted(times)
    n = max(1, int(limit))
    spans = [times[i] - times[i - n] for i in range(n, len(times))]
    if not spans:
        return 0.0
    return n * len(spans) / sum(spans)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def throwaway_redis() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server not found: install the 'redis-server' package")
    port = free_port()
    with tempfile.TemporaryDirectory() as workdir:
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
                workdir,
            ],
            stdout=subprocess.DEVNULL,
        )
        try:
            url = f"redis://127.0.0.1:{port}/0"
            _wait(lambda: redis.Redis.from_url(url).ping())
            yield url
        finally:
            proc.terminate()
            proc.wait(10)


@contextmanager
def simulator(redis_url: str, rules: str, limit: float) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "REDIS_URL": redis_url,
        "KIS_ENV": "sim",
        "SIM_HOST": "127.0.0.1",
        "SIM_PORT": str(port),
        "SIM_RULES": rules,
        "SIM_RATE_LIMIT": f"{limit:g}",
        "LOG_LEVEL": "WARNING",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.kis_sim"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: requests.get(f"{url}/sim/health", timeout=1).ok)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def run_scenario(scenario: Scenario, redis_url: str, sim_url: str) -> Result:
    redis.Redis.from_url(redis_url).flushdb()
    requests.post(f"{sim_url}/sim/reset", timeout=5).raise_for_status()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "KIS_ENV": "sim",
        "KIS_BASE_URL": sim_url,
        "REDIS_URL": redis_url,
        "SIM_RULES": scenario.rules,
        "KIS_RATE_LIMIT": f"{scenario.limit:g}",
        "LOG_LEVEL": "WARNING",
    }
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.kis_rate",
                "worker",
                "--seconds",
                str(scenario.seconds),
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(scenario.processes)
    ]
    times: list[float] = []
    for worker in workers:
        out, _ = worker.communicate(timeout=scenario.seconds + 120)
        if worker.returncode != 0:
            raise SystemExit(f"a worker failed with exit code {worker.returncode}")
        times += json.loads(out)["completed"]
    stats = requests.get(f"{sim_url}/sim/stats", timeout=5).json()
    return Result(
        scenario=scenario,
        requests=len(times),
        achieved=steady_rate(times, scenario.limit),
        rate_limited=int(stats["rate_limited"]),
        token_issuances=int(stats["token_issuances"]["total"]),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command")
    worker = sub.add_parser("worker", help="one competing process (reads settings from env)")
    worker.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument(
        "--seconds",
        type=float,
        default=0.0,
        help="length of each run (default: 20 s paper, 15 s real)",
    )
    args = parser.parse_args(argv)
    if args.command == "worker":
        print(json.dumps(run_worker(args.seconds)))
        return 0

    scenarios = [
        Scenario("paper", 1.0, 1, args.seconds or 20.0),
        Scenario("paper", 1.0, 3, args.seconds or 20.0),
        Scenario("real", 18.0, 1, args.seconds or 15.0),
        Scenario("real", 18.0, 3, args.seconds or 15.0),
    ]
    print(
        f"{'rules':<6} {'limit/s':>7} {'procs':>5} {'requests':>8} {'achieved/s':>10} "
        f"{'of limit':>8} {'EGW00201':>8} {'tokens':>6}"
    )
    worst = 1.0
    rejections = 0
    with throwaway_redis() as redis_url:
        for rules in ("paper", "real"):
            limit = next(s.limit for s in scenarios if s.rules == rules)
            with simulator(redis_url, rules, limit) as sim_url:
                for scenario in (s for s in scenarios if s.rules == rules):
                    r = run_scenario(scenario, redis_url, sim_url)
                    worst = min(worst, r.fraction)
                    rejections += r.rate_limited
                    print(
                        f"{rules:<6} {scenario.limit:>7g} {scenario.processes:>5} "
                        f"{r.requests:>8} {r.achieved:>10.2f} {r.fraction:>8.1%} "
                        f"{r.rate_limited:>8} {r.token_issuances:>6}",
                        flush=True,
                    )
    verdict = "met" if worst >= 0.95 and rejections == 0 else "NOT met"
    print(
        f"target (>= 95% of the limit, zero EGW00201): {verdict} "
        f"(worst {worst:.1%}, {rejections} EGW00201)"
    )
    return 0


def _wait(predicate: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():  # type: ignore[operator]
                return
        except Exception:  # noqa: S110 - not up yet
            pass
        time.sleep(0.05)
    raise SystemExit("a service did not start in time")


if __name__ == "__main__":
    raise SystemExit(main())
