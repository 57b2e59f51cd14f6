"""Benchmark: price-change-to-order latency, on the KIS stream against REST polling.

    python -m benchmarks.stream [--trials 10] [--picks 5,40] [--rates 1,18]

For each rate limit (requests/s, shared by the scheduler's reads and the executor's orders;
paper's rules under 2, real's above), number of picks and quote source, a simulator, an executor
and a scheduler run as processes on a real-time clock. The picks wait 10 % under their target,
the ``trials`` measured ones 1 % under it (so they are the nearest a decision: on the stream,
the codes the stream carries, and near their band: their cash is read ahead and, at paper's
rate, the scheduler's reads yield to them). Each measured pick then enters its band at a known
moment, one after another; the simulator stamps the arrival of each order POST. Reported:
p50/p99/max of entering-the-band to arrival. Target: stream p99 under 100 ms for codes on the
stream, at 1 and 18 requests/s, for 5 and 40 picks (docs/ARCHITECTURE.md, 'The cash read
ahead'). ``--picks 200`` is for 18 requests/s: at 1 request/s the 160 polled codes yield to the
near ones and the first complete cycle the run waits for can take hours.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
import requests

from benchmarks.engine_latency import percentile
from benchmarks.kis_rate import ROOT, _wait, free_port, throwaway_redis
from services.scheduler.loop import STREAM_CAPACITY
from shared.infra.clock import KST
from shared.infra.redis_keys import Keys
from shared.infra.settings import Settings
from shared.state.cash_ahead import valid_ahead
from shared.state.control import heartbeats
from shared.state.picks_store import store_picks
from shared.trading.picks import Pick
from shared.trading.rules import buy_limit_price

SESSION_START = datetime(2026, 3, 3, 9, 30, tzinfo=KST)
"""A regular session: the clock runs in real time from here."""
TARGET = 10_000
"""Every pick's target price."""
LIMIT = buy_limit_price(TARGET, Settings.model_fields["buy_band_ratio"].default)
"""Every entry buy's limit price (the band's last tick)."""
NEAR, FAR = 9_900, 9_000
"""Where the measured picks and the others wait: 1 % and 10 % under the target."""
READY_SECONDS = 60.0
"""Real seconds allowed for the services to start and plan, on top of one polling round."""
KEYS = Keys()


@dataclass(frozen=True)
class Result:
    source: str
    rate: float
    picks: int
    latencies_ms: list[float]
    missing: int

    def row(self) -> str:
        values = self.latencies_ms
        if not values:
            return f"{self.source:<8} {self.rate:>5g} {self.picks:>5} {0:>3}  no order arrived"
        return (
            f"{self.source:<8} {self.rate:>5g} {self.picks:>5} {len(values):>3} "
            f"{percentile(values, 50):>9.1f} {percentile(values, 99):>9.1f} {max(values):>9.1f}"
            + (f"  ({self.missing} never arrived)" if self.missing else "")
        )


class Market:
    """Simulator, executor and scheduler on one throwaway Redis database, real-time clock."""

    def __init__(self, redis_url: str, source: str, rate: float, picks: int) -> None:
        self.epoch = time.time()
        self.port = free_port()
        self.sim_url = f"http://127.0.0.1:{self.port}"
        self.redis = redis.Redis.from_url(redis_url)
        # A data directory of its own: the day's plan kept there by one run (its picks) must not
        # be read back by the next run of the same date.
        self.data_dir = tempfile.mkdtemp(prefix="kat-bench-stream-")
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "KAT_ENV_FILE": "",
            "REDIS_URL": redis_url,
            "KIS_ENV": "sim",
            "KIS_SIM_URL": self.sim_url,
            "KIS_WS_URL": f"ws://127.0.0.1:{free_port()}",
            "KIS_HTS_ID": "benchhts",
            "QUOTE_SOURCE": source,
            # Paper's rules (V… tr_ids, 20-row balance pages) under 2 requests/s, else real's.
            "SIM_RULES": "paper" if rate < 2 else "real",
            "SIM_RATE_LIMIT": f"{rate:g}",
            "KIS_RATE_LIMIT": f"{rate:g}",
            "SIM_TOKEN_THROTTLE_SECONDS": "0",
            "SIM_INITIAL_CASH": "100000000000",
            "CLOCK_START": SESSION_START.isoformat(),
            "CLOCK_EPOCH": f"{self.epoch:.6f}",
            # The simulator looks at its price paths this often to send ticks: 5 ms, its finest.
            "SIM_WS_TICK_SECONDS": "0.005",
            "SIM_HOST": "127.0.0.1",
            "SIM_PORT": str(self.port),
            "LOG_LEVEL": "WARNING",
            "DATA_DIR": self.data_dir,
        }
        self.env["SIM_WS_PORT"] = self.env["KIS_WS_URL"].rsplit(":", 1)[1]
        self.source = source
        self.codes = [f"{700000 + i:06d}" for i in range(picks)]
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, module: str) -> None:
        self.processes.append(
            subprocess.Popen(
                [sys.executable, "-m", module],
                env=self.env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )

    def stop(self) -> None:
        for p in reversed(self.processes):
            p.terminate()
        for p in self.processes:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def admin(self, method: str, path: str, **kwargs: object) -> requests.Response:
        r = requests.request(method, f"{self.sim_url}/sim/{path}", timeout=10, **kwargs)  # type: ignore[arg-type]
        r.raise_for_status()
        return r

    def clock_at(self, real: float) -> datetime:
        return SESSION_START + timedelta(seconds=real - self.epoch)

    def to_real(self, moment: datetime) -> float:
        return self.epoch + (moment - SESSION_START).total_seconds()

    def open(self, measured: list[str]) -> None:
        """Start the simulator, store the picks and their prices, start executor and scheduler."""
        self.start("services.kis_sim")
        _wait(lambda: requests.get(f"{self.sim_url}/sim/health", timeout=1).ok)
        prices = {c: [["09:00", NEAR if c in measured else FAR]] for c in self.codes}
        self.admin("POST", "prices", json=prices)
        store_picks(
            self.redis,
            KEYS,
            SESSION_START.date(),
            tuple(Pick(c, f"P{c}", TARGET) for c in self.codes),
        )
        self.start("services.executor")
        self.start("services.scheduler")

    def ready(self, measured: list[str]) -> bool:
        """The scheduler has watched every pick; on the stream, the measured ones are streamed."""
        raw = self.redis.get(KEYS.watchlist())
        if raw is None:
            return False
        watchlist = json.loads(raw)
        rows = {r["code"]: r for r in watchlist["rows"]}
        if len(rows) < len(self.codes):
            return False
        if self.source == "polling":
            return all(rows[c]["price"] is not None for c in measured)
        if not watchlist["stream_healthy"] or not all(rows[c]["on_stream"] for c in measured):
            return False
        if len(self.codes) <= STREAM_CAPACITY:
            # Every code priced (the first round of quotes is over) and the cash read ahead at
            # the measured picks' limit: at paper's rate a cycle's balance may now wait up to
            # MAX_DEFER_SECONDS, so the next complete cycle is not waited for.
            priced = all(r["price"] is not None for r in rows.values())
            return priced and valid_ahead(self.redis, KEYS, LIMIT) is not None
        # With more picks than the stream carries, past one complete cycle.
        [beat] = [b for b in heartbeats(self.redis, KEYS) if b["service"] == "scheduler"]
        cycle = beat.get("last_cycle")
        return isinstance(cycle, dict)

    def arrivals(self) -> dict[str, float]:
        rows = self.admin("GET", "orders").json()["orders"]
        return {r["code"]: float(r["received_epoch"]) for r in rows if not r["cancel_of"]}


def measure(redis_url: str, source: str, rate: float, picks: int, trials: int) -> Result:
    market = Market(redis_url, source, rate, picks)
    measured = market.codes[: min(trials, picks)]
    try:
        market.open(measured)
        ready = READY_SECONDS + 2 * (picks + 2) / rate
        _wait_for(lambda: market.ready(measured), ready, f"{source} {picks} picks ready")
        # One band entry at a time, far enough apart that one order (a cash check and the
        # POST, then fill checks) never waits for the last one's requests.
        spacing = max(1.0, 5.0 / rate)
        first = time.time() + 2.0
        enters = {
            code: market.clock_at(first + i * spacing).replace(microsecond=0) + timedelta(seconds=1)
            for i, code in enumerate(measured)
        }
        market.admin(
            "POST",
            "prices",
            json={c: [["09:00", NEAR], [kst.isoformat(), TARGET]] for c, kst in enters.items()},
        )
        # A polled code is read once a cycle: (picks + a balance) requests at the rate.
        patience = (picks + 2) / rate * 2 + 15
        deadline = market.to_real(max(enters.values())) + patience
        arrived: dict[str, float] = {}
        while time.time() < deadline and len(arrived) < len(measured):
            time.sleep(0.25)
            arrived = {c: epoch for c, epoch in market.arrivals().items() if c in enters}
        latencies = [
            (arrived[c] - market.to_real(kst)) * 1000 for c, kst in enters.items() if c in arrived
        ]
        return Result(source, rate, picks, latencies, len(measured) - len(arrived))
    finally:
        market.stop()
        market.redis.flushdb()


def _wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except (redis.RedisError, requests.RequestException, ValueError, KeyError):
            pass
        time.sleep(0.2)
    raise SystemExit(f"benchmark: timed out waiting for {what}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--trials", type=int, default=10, help="measured picks per run")
    parser.add_argument("--picks", default="5,40", help="comma-separated pick counts")
    parser.add_argument("--rates", default="1,18", help="comma-separated requests/s")
    parser.add_argument(
        "--sources", default="stream,polling", help="comma-separated: stream, polling"
    )
    args = parser.parse_args(argv)
    picks = [int(p) for p in args.picks.split(",")]
    rates = [float(r) for r in args.rates.split(",")]
    results: list[Result] = []
    print("price-change-to-order latency (ms): band entry in the simulator -> order POST arrival")
    print(f"{'source':<8} {'req/s':>5} {'picks':>5} {'n':>3} {'p50':>9} {'p99':>9} {'max':>9}")
    with throwaway_redis() as redis_url:
        for rate in rates:
            for count in picks:
                for source in args.sources.split(","):
                    result = measure(redis_url, source, rate, count, args.trials)
                    results.append(result)
                    print(result.row(), flush=True)
    streamed = [r for r in results if r.source == "stream" and r.latencies_ms]
    worst = max((percentile(r.latencies_ms, 99) for r in streamed), default=float("nan"))
    print(f"stream p99 under 100 ms in every run: {'met' if worst < 100 else 'NOT met'}")
    last = {r.source: r for r in results if r.picks == 40 and r.rate == 1 and r.latencies_ms}
    if "stream" in last and "polling" in last:
        stream_p99 = percentile(last["stream"].latencies_ms, 99)
        polling_p99 = percentile(last["polling"].latencies_ms, 99)
        print(
            f"stream p99 {stream_p99:.0f} ms, polling p99 {polling_p99:.0f} ms (40 picks, 1 req/s)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
