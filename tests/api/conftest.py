"""Fixtures for the status API: settings on the test Redis, a populated day, an API process."""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
import requests
from flask import Flask
from flask.testing import FlaskClient

from services.api.app import create_app
from shared.infra.clock import build_clock
from shared.infra.redis_keys import Keys
from shared.infra.settings import Settings, load_settings
from tests.api.day import NOW, Day, write_day
from tests.conftest import RedisServer, ServiceProcess, free_port, service_env, wait_for

TOKEN = "status-token-for-tests-7f3a9c-0123456789"
"""STATUS_API_TOKEN in the tests that enable control."""
APP_KEY = "PSapi-test-app-key-0123456789"
"""A KIS app key the API must never show."""
APP_SECRET = "api-test-app-secret-abcdefghijklmnop"
"""A KIS app secret the API must never show."""
ACCOUNT = "73412345-01"
"""A full account number: the API shows it masked only."""
# A made-up webhook, assembled so no committed line looks like a real one to secret scanners.
WEBHOOK = "https://discord.com/api/webhooks/" + "1234567890" + "/api-test-webhook-token-xyz"
"""A Discord webhook the API must never show."""


@contextmanager
def kis_host() -> Iterator[str]:
    """A TCP listener standing in for the KIS host (``/readyz`` only connects), as a base URL."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)

    def accept() -> None:
        # Accept and drop, so the backlog never fills however often readiness is probed.
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            conn.close()

    threading.Thread(target=accept, name="fake-kis", daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        server.close()


def clock_env(epoch: float | None = None) -> dict[str, str]:
    """A simulated clock that reads tests.api.day.NOW now and runs at real speed."""
    return {
        "CLOCK_START": NOW.isoformat(),
        "CLOCK_SPEED": "1",
        "CLOCK_EPOCH": repr(time.time() if epoch is None else epoch),
    }


def settings_for(redis_url: str, **overrides: str) -> Settings:
    env = {"REDIS_URL": redis_url, "KIS_ENV": "sim", **clock_env(), **overrides}
    return load_settings({k: v for k, v in env.items() if v is not None})


@pytest.fixture
def make_app(redis_url: str) -> Iterator[Callable[..., Flask]]:
    """Factory: ``make_app(STATUS_API_TOKEN=...)`` builds the app on the test's Redis."""
    clients: list[redis.Redis] = []

    def make(**overrides: str) -> Flask:
        # Tests write Redis and read it back at once: answers kept a second would hide that
        # (the keeping itself is tested over HTTP, tests/api/test_read_cache.py).
        settings = settings_for(redis_url, **{"STATUS_API_CACHE_SECONDS": "0", **overrides})
        # The app's own client (with its timeouts) when a test points it at another Redis.
        client = redis.Redis.from_url(settings.redis_url)
        clients.append(client)
        app = create_app(settings, None if "REDIS_URL" in overrides else client)
        app.testing = True
        return app

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_app: Callable[..., Flask]) -> FlaskClient:
    return make_app(STATUS_API_TOKEN=TOKEN).test_client()


@pytest.fixture
def day(redis_client: redis.Redis, redis_url: str) -> Day:
    """Today's picks, orders, positions, balance, equity, heartbeats, controls and RQ jobs."""
    settings = settings_for(redis_url)
    clock = build_clock(settings, redis_client)
    return write_day(redis_client, Keys(settings.redis_prefix), clock, app_key=settings.app_key)


@dataclass
class RunningApi:
    """``python -m services.api`` serving a populated day."""

    url: str
    day: Day
    redis: redis.Redis
    service: ServiceProcess


def start_api(redis_server: RedisServer, db: int, log_dir: Path, **env: str) -> RunningApi:
    """Flush database ``db``, write a day into it and start the API on it."""
    url = redis_server.url(db)
    client = redis.Redis.from_url(url)
    client.flushdb()
    epoch = time.time()
    settings = settings_for(url, **clock_env(epoch))
    clock = build_clock(settings, client)
    day = write_day(client, Keys(settings.redis_prefix), clock, app_key=settings.app_key)
    port = free_port()
    full_env = service_env(url, API_PORT=str(port), **clock_env(epoch), **env)
    service = ServiceProcess(
        [sys.executable, "-m", "services.api"], full_env, log_dir / f"api-{port}.log"
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: requests.get(f"{base}/healthz", timeout=1).ok, what="status API")
    except AssertionError:
        service.stop()
        raise AssertionError(f"the API did not start:\n{service.output()}") from None
    return RunningApi(base, day, client, service)


def stop_api(api: RunningApi) -> None:
    api.service.stop()
    api.redis.flushdb()
    api.redis.close()
