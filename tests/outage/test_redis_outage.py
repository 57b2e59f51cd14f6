"""Every process rides out a Redis outage: real processes, a real redis-server stopped and
started again on the same port (docs/ARCHITECTURE.md, 'Redis outages').

Issue 11: with Redis down 60 s the executor's RQ backoff grew to 60 s (orders resumed 59 s after
Redis returned), the notifier's sender thread died while its health said healthy, and idle RQ
workers logged ``Timeout reading from socket`` (redis-py's 5 s socket timeout under RQ's
blocking dequeue).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date

import pytest
import redis
import requests

from shared.kis import Side
from shared.messaging.events import BuyAttempt
from shared.state.control import heartbeats
from shared.trading.orders import OrderStatus
from tests.conftest import ROOT, ServiceProcess, free_port, service_env, wait_for
from tests.executor.conftest import HYNIX, SAMSUNG, Harness
from tests.notifier.conftest import CODE, KEYS, Notifier, codes
from tests.notifier.fake_discord import FakeDiscord
from tests.outage.conftest import RestartableRedis

pytestmark = pytest.mark.slow

OUTAGE_SECONDS = 25.0
"""Long enough that RQ's doubling backoff (1, 2, 4, 8, 16 s) overshoots the return by seconds."""
RESUME_SECONDS = 3.0
"""Work must resume this soon after Redis is back (the target is one second; the rest is
slack for a loaded test machine)."""
SERVICES = ("executor", "notifier", "scheduler")


def buy(send: Callable[..., None], i: int) -> None:
    send(
        BuyAttempt(session=date(2026, 3, 3), code=f"{i:06d}", name=f"종목{i}", price=1, quantity=i)
    )


def attempts(discord: FakeDiscord) -> list[str]:
    """The codes of the test's own buy attempts that reached Discord (the services post their
    own events too), in arrival order."""
    return [c for c, p in zip(codes(discord), with_code(discord), strict=True) if "매수 시도" in p]


def with_code(discord: FakeDiscord) -> list[str]:
    return [str(p.get("content")) for p in discord.accepted if CODE.search(p.get("content") or "")]


def health(redis_url: str, service: str) -> subprocess.CompletedProcess[str]:
    """``python -m services.healthcheck SERVICE``, the containers' healthcheck."""
    return subprocess.run(
        [sys.executable, "-m", "services.healthcheck", service],
        cwd=ROOT,
        env=service_env(redis_url),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def beats_since(client: redis.Redis, moment: float) -> set[str]:
    """Services with a heartbeat written after ``moment`` (unix time)."""
    return {
        str(b["service"]) for b in heartbeats(client, KEYS) if float(str(b["beat_epoch"])) > moment
    }


def start_api(world: Harness) -> tuple[str, ServiceProcess]:
    port = free_port()
    log = world.tmp_path / "api.log"
    api = ServiceProcess([sys.executable, "-m", "services.api"], world.env(API_PORT=str(port)), log)
    world.started.append(api)
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: requests.get(f"{url}/healthz", timeout=1).ok, what="status API")
    return url, api


def ready(url: str) -> int:
    return requests.get(f"{url}/readyz", timeout=5).status_code


def test_every_process_rides_out_a_long_redis_outage(
    outage_redis: RestartableRedis,
    make_harness: Callable[..., Harness],
    start_notifier: Callable[..., Notifier],
    discord: FakeDiscord,
    send: Callable[..., None],
    redis_client: redis.Redis,
    redis_url: str,
) -> None:
    world = make_harness()
    world.price(HYNIX, 200_000)
    executor = world.start()
    scheduler = ServiceProcess(
        [sys.executable, "-m", "services.scheduler"], world.env(), world.tmp_path / "scheduler.log"
    )
    world.started.append(scheduler)
    api_url, api = start_api(world)
    # Discord takes one message a second: some are still in the outbox when Redis goes.
    discord.limit, discord.window, discord.rate_headers = 1, 1.0, False
    notifier = start_notifier(DISCORD_WEBHOOK_URL=discord.url)
    processes = {"executor": executor, "scheduler": scheduler, "api": api}

    first = world.order(SAMSUNG, Side.BUY, 1)
    wait_for(lambda: world.get(first.id).status is OrderStatus.FILLED, 30, "the first order")
    wait_for(lambda: beats_since(redis_client, 0) >= set(SERVICES), 30, "every heartbeat")
    for i in range(1, 7):
        buy(send, i)
    notifier.wait(lambda: len(attempts(discord)) >= 2, "the first messages")

    outage_redis.stop()
    down_since = time.monotonic()
    time.sleep(OUTAGE_SECONDS / 2)
    # While Redis is away, health says so: no service is reported healthy.
    for service in SERVICES:
        during = health(redis_url, service)
        assert during.returncode == 1 and "redis unavailable" in during.stderr, during
    assert ready(api_url) == 503
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - down_since)))

    outage_redis.start()
    back = time.monotonic()
    back_unix = time.time()
    second = world.order(HYNIX, Side.BUY, 1)
    for i in range(7, 9):
        buy(send, i)
    arrived = len(discord.accepted)

    wait_for(lambda: world.get(second.id).status is not OrderStatus.PENDING, 20, "order resumes")
    order_delay = time.monotonic() - back
    wait_for(lambda: len(discord.accepted) > arrived, 20, "notifications resume")
    notify_delay = time.monotonic() - back
    wait_for(lambda: ready(api_url) == 200, 20, "the API ready again")
    api_delay = time.monotonic() - back
    notifier.wait(lambda: len(attempts(discord)) == 8, "every message", timeout=30)
    wait_for(lambda: beats_since(redis_client, back_unix) >= set(SERVICES), 20, "fresh beats")

    logs = {name: p.output() for name, p in processes.items()} | {"notifier": notifier.output()}
    summary = f"order {order_delay:.2f}s, message {notify_delay:.2f}s, api {api_delay:.2f}s"
    print(f"resumed after Redis returned: {summary}")
    assert order_delay < RESUME_SECONDS, (summary, logs["executor"][-3000:])
    assert notify_delay < RESUME_SECONDS, (summary, logs["notifier"][-3000:])
    assert api_delay < RESUME_SECONDS, summary
    # Nothing lost, nothing twice, in order; nobody exited; no thread died.
    assert attempts(discord) == [f"{i:06d}" for i in range(1, 9)]
    assert world.sim_orders(HYNIX) == 1 and world.sim_orders(SAMSUNG) == 1
    assert notifier.service.process.poll() is None
    for name, process in processes.items():
        assert process.process.poll() is None, (name, logs[name][-3000:])
    for name, text in logs.items():
        assert "Exception in thread" not in text, (name, text[-3000:])
    for service in SERVICES:
        assert health(redis_url, service).returncode == 0, service


def test_idle_workers_log_no_redis_timeout(
    make_harness: Callable[..., Harness],
    start_notifier: Callable[..., Notifier],
    discord: FakeDiscord,
    send: Callable[..., None],
) -> None:
    """Idle longer than redis-py's 5 s default socket timeout: no error, and work goes on."""
    world = make_harness()
    executor = world.start()
    notifier = start_notifier(DISCORD_WEBHOOK_URL=discord.url)
    wait_for(lambda: "working on" in executor.output(), 30, "the executor")
    time.sleep(12)
    buy(send, 1)
    order = world.order(SAMSUNG, Side.BUY, 1)
    notifier.wait(lambda: attempts(discord) == ["000001"], "a message after the idle time", 5)
    wait_for(lambda: world.get(order.id).status is OrderStatus.FILLED, 10, "an order after it")
    for text in (executor.output(), notifier.output()):
        assert "Timeout reading" not in text, text[-3000:]
        assert "could not connect to Redis" not in text, text[-3000:]


def test_redis_gone_while_discord_answers_neither_repeats_nor_reports(
    outage_redis: RestartableRedis,
    start_notifier: Callable[..., Notifier],
    discord: FakeDiscord,
    send: Callable[..., None],
) -> None:
    """The answer comes while Redis is away, so the posted message cannot leave the outbox yet:
    once Redis is back it is removed, not posted again and not reported as unconfirmed."""
    discord.answer_delay = 2.0
    notifier = start_notifier(DISCORD_WEBHOOK_URL=discord.url)
    buy(send, 1)
    buy(send, 2)
    notifier.wait(lambda: len(discord.accepted) == 1, "the first message posted")
    outage_redis.stop()
    time.sleep(4)
    outage_redis.start()
    notifier.wait(lambda: len(attempts(discord)) == 2, "the second message")
    assert attempts(discord) == ["000001", "000002"]
    assert len(discord.bodies) == 2
    assert "Discord did not confirm" not in notifier.output()
    assert "Redis reachable again" in notifier.output()
