"""Benchmark: wall time of the whole demo day, and the fastest clock that still trades it exactly.

    python -m benchmarks.demo_day [--speeds 600,1200,1800,2400] [--cycle-seconds 1]

Each run is ``make demo-day`` (scripts/demo-day.sh) on a throwaway redis-server: the simulator,
executor, notifier and scheduler as processes, the example picks and scripted prices of
examples/, a clock starting 2026-03-03 08:50 KST at the given speed. Measured: real seconds from
08:50 on the simulated clock to the post-market export of the ledger, and whether the day's
orders are exactly those examples/README.md lists. Speeds run in the order given and stop at the
first that misses. Target: the whole day in under 20 s with exactly the expected orders.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import redis
import requests

from benchmarks.kis_rate import ROOT, _wait, free_port, throwaway_redis
from shared.infra.clock import KST, SimulatedClock
from shared.infra.redis_keys import Keys
from shared.state.order_book import OrderBook

DAY = date(2026, 3, 3)
START = datetime(2026, 3, 3, 8, 50, tzinfo=KST)
"""Where the demo day's clock starts (scripts/demo-day.sh)."""
CLOSE_DONE = datetime(2026, 3, 3, 15, 20, tzinfo=KST)
"""The post-market phase begins here; the export follows within moments."""
EXPECTED_ORDERS = sorted(
    [
        ("buy", "005930", 28, "entry"),
        ("buy", "000660", 13, "entry"),
        ("sell", "000660", 13, "stop_loss"),
        ("sell", "005930", 28, "take_profit"),
        ("buy", "005380", 9, "entry"),
    ]
)
"""examples/README.md: the day's orders (side, code, quantity, reason), exactly."""
DEMO_ENV = {
    "KAT_ENV_FILE": "",
    "KIS_ENV": "sim",
    "PICKS_FILE": str(ROOT / "examples" / "picks-2026-03-03.json"),
    "SIM_PRICE_PATHS": str(ROOT / "examples" / "demo-prices.json"),
    "SIM_RATE_LIMIT": "5",
    "KIS_RATE_LIMIT": "5",
    "LOG_LEVEL": "WARNING",
}
"""scripts/demo-day.sh's settings."""
LEAD_SECONDS = 4.0
"""Real seconds between starting the processes and 08:50 on their clock."""
SERVICES = ("services.kis_sim", "services.executor", "services.notifier", "services.scheduler")


@dataclass(frozen=True)
class DayRun:
    """One demo day at one speed."""

    speed: float
    seconds: float | None
    """Real seconds from 08:50 to the export; None when the day did not finish in time."""
    orders: list[tuple[str, str, int, str]]

    @property
    def exact(self) -> bool:
        return self.seconds is not None and self.orders == EXPECTED_ORDERS


def run_day(speed: float, extra_env: Mapping[str, str] | None = None) -> DayRun:
    """The demo day at ``speed``, on a fresh Redis and fresh processes."""
    with throwaway_redis() as redis_url, tempfile.TemporaryDirectory() as workdir:
        port = free_port()
        epoch = time.time() + LEAD_SECONDS
        env = {
            **os.environ,
            **DEMO_ENV,
            "PYTHONPATH": str(ROOT),
            "REDIS_URL": redis_url,
            "SIM_HOST": "127.0.0.1",
            "SIM_PORT": str(port),
            "KIS_SIM_URL": f"http://127.0.0.1:{port}",
            "EXPORT_DIR": workdir,
            "CLOCK_START": START.isoformat(),
            "CLOCK_SPEED": f"{speed:g}",
            "CLOCK_EPOCH": f"{epoch:.6f}",
            **(extra_env or {}),
        }
        processes: list[subprocess.Popen[bytes]] = []
        try:
            for module in SERVICES:
                processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", module],
                        cwd=ROOT,
                        env=env,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )
                if module == "services.kis_sim":
                    _wait(lambda: requests.get(f"http://127.0.0.1:{port}/sim/health", timeout=1).ok)
            export = Path(workdir) / "positions.json"
            day_seconds = (CLOSE_DONE - START).total_seconds() / speed
            deadline = epoch + day_seconds + 60
            while not export.exists() and time.time() < deadline:
                time.sleep(0.05)
            seconds = time.time() - epoch if export.exists() else None
            client = redis.Redis.from_url(redis_url)
            clock = SimulatedClock(START, speed, epoch)
            orders = sorted(
                (r.intent.side.name.lower(), r.intent.code, r.intent.quantity, str(r.intent.reason))
                for r in OrderBook(client, Keys(), clock).of_day(DAY)
            )
            client.close()
        finally:
            for process in reversed(processes):
                process.terminate()
            for process in processes:
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
        return DayRun(speed, seconds, orders)


def tuning(cycle_seconds: float | None, rate_limit: int | None) -> dict[str, str]:
    """Environment overriding the demo's cycle floor and request rate, when given."""
    extra = {}
    if cycle_seconds is not None:
        extra["SCHEDULER_MIN_CYCLE_SECONDS"] = f"{cycle_seconds:g}"
    if rate_limit is not None:
        extra["KIS_RATE_LIMIT"] = extra["SIM_RATE_LIMIT"] = str(rate_limit)
    return extra


def ladder(speeds: list[float], extra_env: Mapping[str, str] | None = None) -> list[DayRun]:
    """Run the day at each speed in turn, printing a row each, until one misses."""
    print(f"{'speed':>6} {'day s':>7} {'orders':>7}  verdict", flush=True)
    runs = []
    for speed in speeds:
        run = run_day(speed, extra_env)
        runs.append(run)
        shown = f"{run.seconds:.1f}" if run.seconds is not None else "-"
        verdict = "exact" if run.exact else f"MISSED: {run.orders}"
        print(f"{speed:>6g} {shown:>7} {len(run.orders):>7}  {verdict}", flush=True)
        if not run.exact:
            break
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--speeds", default="600,1200,1800,2400")
    parser.add_argument(
        "--cycle-seconds",
        type=float,
        default=None,
        help="SCHEDULER_MIN_CYCLE_SECONDS for the runs (default: the setting's default)",
    )
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=None,
        help="KIS_RATE_LIMIT and SIM_RATE_LIMIT for the runs (default: the demo's 5/s)",
    )
    args = parser.parse_args(argv)
    extra = tuning(args.cycle_seconds, args.rate_limit)
    runs = ladder([float(s) for s in args.speeds.split(",")], extra)
    fastest = [r for r in runs if r.exact]
    if fastest:
        best = fastest[-1]
        met = "met" if best.seconds is not None and best.seconds < 20 else "NOT met"
        print(f"fastest exact day: {best.speed:g}x in {best.seconds:.1f}s (target < 20 s: {met})")
    else:
        print("no speed traded the day exactly")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
