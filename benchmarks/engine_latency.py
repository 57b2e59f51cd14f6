"""Benchmark: signal-to-order latency, through the queue and inline, and the intraday cycle time.

    python -m benchmarks.engine_latency [--trials 60]

Latency: a scripted price enters a pick's buy band in the simulator at a known moment; a poller
quotes the pick as the scheduler does, decides with the same rule, and either places the order
itself (inline) or creates the order record and enqueues it for a running executor process
(queue). The simulator stamps each order's arrival. Reported: p50/p99 of entering-the-band to
arrival for both paths, and of decision to arrival (the part the queue changes).
Target: the queue adds at most 10 ms at p50 over inline.

Cycle time: the scheduler's intraday cycle (one quote per pick still to buy, one balance over
every page) timed against its bound ``(picks + balance pages) / rate limit``.
Target: within 10 % of the bound.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import redis
import requests

from benchmarks.kis_rate import ROOT, _wait, free_port, throwaway_redis
from shared.infra.clock import KST, build_clock
from shared.infra.redis_keys import Keys
from shared.infra.settings import load_settings
from shared.kis import Side
from shared.kis.client import KisClient, build_client
from shared.messaging.queues import enqueue_order
from shared.state.order_book import OrderBook
from shared.trading.orders import OrderIntent, Reason
from shared.trading.rules import Thresholds, buy_quantity

SESSION_START = datetime(2026, 3, 3, 9, 30, tzinfo=KST)
"""A regular session: orders are accepted, the clock runs in real time from here."""
TARGET = 10_000
"""Every benchmark pick's target price."""
POLL_SECONDS = 0.02
"""Pause between two quotes of the poller (50 quotes/s, half the benchmark's limit)."""


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class Bench:
    """A running simulator and executor sharing a Redis and a clock with this process."""

    def __init__(self, redis_url: str, rate: float) -> None:
        self.redis_url = redis_url
        self.epoch = time.time()
        self.port = free_port()
        self.sim_url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "KAT_ENV_FILE": "",
            "REDIS_URL": redis_url,
            "KIS_ENV": "sim",
            "KIS_SIM_URL": self.sim_url,
            "SIM_RULES": "real",
            "SIM_RATE_LIMIT": f"{rate:g}",
            "KIS_RATE_LIMIT": f"{rate:g}",
            "SIM_TOKEN_THROTTLE_SECONDS": "0",
            "SIM_INITIAL_CASH": "100000000000",
            "CLOCK_START": SESSION_START.isoformat(),
            "CLOCK_EPOCH": f"{self.epoch:.6f}",
            "SIM_HOST": "127.0.0.1",
            "SIM_PORT": str(self.port),
            "LOG_LEVEL": "WARNING",
        }
        self.processes: list[subprocess.Popen[bytes]] = []
        os.environ.update({k: v for k, v in self.env.items() if k != "PATH"})
        self.settings = load_settings()
        self.redis = redis.Redis.from_url(redis_url)
        self.clock = build_clock(self.settings, self.redis)
        self.client: KisClient = build_client(self.settings, self.redis, self.clock)
        self.book = OrderBook(self.redis, Keys(self.settings.redis_prefix), self.clock)

    def start(self, *module: str) -> None:
        self.processes.append(
            subprocess.Popen(
                [sys.executable, "-m", *module],
                env=self.env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )

    def stop(self) -> None:
        for p in reversed(self.processes):
            p.terminate()
            p.wait(15)

    def admin(self, method: str, path: str, **kwargs: object) -> requests.Response:
        r = requests.request(method, f"{self.sim_url}/sim/{path}", timeout=10, **kwargs)  # type: ignore[arg-type]
        r.raise_for_status()
        return r

    def clock_to_real(self, moment: datetime) -> float:
        return self.epoch + (moment - SESSION_START).total_seconds()

    def arrival(self, code: str, timeout: float = 10.0) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for row in self.admin("GET", "orders").json()["orders"]:
                if row["code"] == code and not row["cancel_of"]:
                    return float(row["received_epoch"])
            time.sleep(0.01)
        raise SystemExit(f"no order for {code} arrived")


def one_trial(
    bench: Bench, code: str, place: Callable[[str, int, int], None]
) -> tuple[float, float]:
    """(enter-to-arrival, decision-to-arrival) in seconds for one pick entering its band."""
    enters = (bench.clock.now() + timedelta(seconds=1)).replace(microsecond=0)
    bench.admin(
        "POST", "prices", json={code: [["09:00", TARGET - 500], [enters.isoformat(), TARGET]]}
    )
    ratio = Thresholds().buy_band_ratio
    while True:
        price = bench.client.current_price(code).price
        qty = buy_quantity(price, TARGET, 10 * TARGET, ratio)
        if qty > 0:
            decided = time.time()
            place(code, 1, price)
            break
        time.sleep(POLL_SECONDS)
    arrived = bench.arrival(code)
    return arrived - bench.clock_to_real(enters), arrived - decided


def latency(bench: Bench, trials: int) -> None:
    session = SESSION_START.date()

    def inline(code: str, qty: int, price: int) -> None:
        bench.client.buy(code, qty)

    def queued(code: str, qty: int, price: int) -> None:
        record = bench.book.create(
            OrderIntent(session, code, f"B{code}", Side.BUY, Reason.ENTRY, qty, price)
        )
        assert record is not None
        enqueue_order(bench.redis, record.id, Side.BUY)

    bench.start("services.executor")
    one_trial(bench, "399999", queued)  # warm the executor up (token, connections)
    results: dict[str, list[tuple[float, float]]] = {"inline": [], "queue": []}
    for i in range(trials):
        for name, place in (("inline", inline), ("queue", queued)):
            code = f"{400000 + 2 * i + (name == 'queue'):06d}"
            results[name].append(one_trial(bench, code, place))
    print(f"signal-to-order latency, {trials} trials per path (ms)")
    print(f"{'path':<7} {'enter p50':>10} {'enter p99':>10} {'decide p50':>11} {'decide p99':>11}")
    p50 = {}
    for name, rows in results.items():
        enter = [r[0] * 1000 for r in rows]
        decide = [r[1] * 1000 for r in rows]
        p50[name] = percentile(enter, 50)
        print(
            f"{name:<7} {percentile(enter, 50):>10.1f} {percentile(enter, 99):>10.1f} "
            f"{percentile(decide, 50):>11.1f} {percentile(decide, 99):>11.1f}"
        )
    added = p50["queue"] - p50["inline"]
    verdict = "met" if added <= 10 else "NOT met"
    print(f"queue adds {added:.1f} ms at p50 over inline (target <= 10 ms): {verdict}")


def cycle_time(bench: Bench, picks: int, holdings: int, cycles: int) -> tuple[float, float]:
    """Measured mean cycle seconds and the bound, for one shape of day."""
    from services.scheduler.cycle import measure_intraday_cycle

    account = bench.settings.account
    rows = [
        {"code": f"{500000 + i:06d}", "name": f"H{i}", "qty": 1, "avg_price": 10000}
        for i in range(holdings)
    ]
    bench.admin("POST", "accounts", json={"account": account, "cash": 10**9, "holdings": rows})
    codes = [f"{600000 + i:06d}" for i in range(picks)]
    seconds, calls = measure_intraday_cycle(bench.client, codes, cycles)
    pages = calls - picks
    return seconds, (picks + pages) / bench.settings.rate_limit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--skip-cycle", action="store_true")
    args = parser.parse_args(argv)
    with throwaway_redis() as redis_url:
        # The poller quotes every POLL_SECONDS, well under this limit, so no request waits for
        # a slot: what is measured is the path, not the limiter.
        bench = Bench(redis_url, rate=100)
        bench.start("services.kis_sim")
        try:
            _wait(lambda: requests.get(f"{bench.sim_url}/sim/health", timeout=1).ok)
            latency(bench, args.trials)
        finally:
            bench.stop()
        if args.skip_cycle:
            return 0
        redis.Redis.from_url(redis_url).flushdb()
        bench = Bench(redis_url, rate=18)
        bench.start("services.kis_sim")
        try:
            _wait(lambda: requests.get(f"{bench.sim_url}/sim/health", timeout=1).ok)
            print("intraday cycle at 18 req/s (real rules: 50-row balance pages)")
            print(f"{'picks':>5} {'holdings':>8} {'cycle s':>8} {'bound s':>8} {'over':>7}")
            worst = 0.0
            for picks, holdings in ((5, 5), (10, 60), (20, 120)):
                measured, bound = cycle_time(bench, picks, holdings, cycles=6)
                over = measured / bound - 1
                worst = max(worst, over)
                print(f"{picks:>5} {holdings:>8} {measured:>8.3f} {bound:>8.3f} {over:>7.1%}")
            print(f"cycle within 10 % of its bound: {'met' if worst <= 0.10 else 'NOT met'}")
        finally:
            bench.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
