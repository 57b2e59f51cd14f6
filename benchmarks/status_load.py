"""``GET /status`` under concurrent clients: latency percentiles, one client and many.

    .venv/bin/python -m benchmarks.status_load [--clients 50] [--seconds 10] [--cache-seconds 1]

Starts a throwaway redis-server, writes the tests' trading day into it (tests/api/day.py),
starts ``python -m services.api`` on it, then has each client ask for ``/status`` in a loop on
its own keep-alive connection. Results: docs/benchmarks.md, 'Status API under load'.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import redis
import requests

from benchmarks.engine_latency import percentile
from benchmarks.kis_rate import free_port, throwaway_redis
from shared.infra.clock import build_clock
from shared.infra.redis_keys import Keys
from tests.api.conftest import clock_env, settings_for
from tests.api.day import write_day
from tests.conftest import ServiceProcess, service_env, wait_for


def hammer(url: str, clients: int, seconds: float) -> list[float]:
    """Latencies in ms of every ``/status`` answered by ``clients`` loops for ``seconds``."""
    latencies: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(clients)
    stop_at = [0.0]

    def client() -> None:
        own: list[float] = []
        with requests.Session() as session:
            session.get(f"{url}/status", timeout=10).raise_for_status()
            if start.wait() == 0:
                stop_at[0] = time.monotonic() + seconds
            while not stop_at[0]:
                time.sleep(0.001)
            while time.monotonic() < stop_at[0]:
                began = time.perf_counter()
                session.get(f"{url}/status", timeout=10).raise_for_status()
                own.append((time.perf_counter() - began) * 1000)
        with lock:
            latencies.extend(own)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies


def report(label: str, latencies: list[float], seconds: float) -> None:
    print(
        f"{label:<12} {len(latencies) / seconds:7.0f} answers/s  "
        f"p50 {percentile(latencies, 50):6.1f} ms  p99 {percentile(latencies, 99):6.1f} ms  "
        f"max {max(latencies):6.1f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.status_load")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--cache-seconds", default="1", help="STATUS_API_CACHE_SECONDS (0: Redis read each time)"
    )
    args = parser.parse_args(argv)
    with throwaway_redis() as redis_url, tempfile.TemporaryDirectory() as logs:
        epoch = time.time()
        settings = settings_for(redis_url, **clock_env(epoch))
        client = redis.Redis.from_url(redis_url)
        write_day(client, Keys(settings.redis_prefix), build_clock(settings, client), app_key="x")
        port = free_port()
        env = service_env(
            redis_url,
            API_PORT=str(port),
            STATUS_API_CACHE_SECONDS=args.cache_seconds,
            **clock_env(epoch),
        )
        api = ServiceProcess([sys.executable, "-m", "services.api"], env, Path(logs) / "api.log")
        url = f"http://127.0.0.1:{port}"
        try:
            wait_for(lambda: requests.get(f"{url}/healthz", timeout=1).ok, what="status API")
            report("1 client", hammer(url, 1, args.seconds), args.seconds)
            report(f"{args.clients} clients", hammer(url, args.clients, args.seconds), args.seconds)
        finally:
            api.stop()
            client.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
