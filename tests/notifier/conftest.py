"""Fixtures of the notifier tests: a fake Discord, real notifier processes, and event helpers."""

from __future__ import annotations

import os
import re
import signal
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import redis

from shared.infra.redis_keys import Keys
from shared.messaging.events import Event, notify
from shared.messaging.queues import enqueue_notification
from tests.conftest import ServiceProcess, service_env, wait_for
from tests.notifier.fake_discord import FakeDiscord

KEYS = Keys()
CODE = re.compile(r"\((\d{6})\)")


@pytest.fixture
def send(redis_client: redis.Redis) -> Callable[[Event | Mapping[str, Any] | str], None]:
    """``send(event)``: append a typed event the way the other services do, or append a raw
    payload as it is (one outside the contract, as an old or foreign producer could send)."""

    def send(event: Event | Mapping[str, Any] | str) -> None:
        if isinstance(event, Mapping | str):
            enqueue_notification(redis_client, event)
        else:
            assert notify(redis_client, event)

    return send


@pytest.fixture
def discord() -> Iterator[FakeDiscord]:
    fake = FakeDiscord().start()
    yield fake
    fake.stop()


class Notifier:
    """A ``python -m services.notifier`` process."""

    def __init__(self, service: ServiceProcess, client: redis.Redis) -> None:
        self.service = service
        self.redis = client

    def output(self) -> str:
        return self.service.output()

    def outbox(self) -> int:
        return int(self.redis.llen(KEYS.outbox()))

    def wait(self, predicate: Callable[[], object], what: str, timeout: float = 20.0) -> None:
        try:
            wait_for(predicate, timeout=timeout, what=what)
        except AssertionError as e:
            raise AssertionError(f"{e}\n{self.output()[-4000:]}") from None

    def terminate(self) -> int:
        """SIGTERM and wait: the exit code."""
        os.kill(self.service.process.pid, signal.SIGTERM)
        code = self.service.process.wait(30)
        self.service.stop()
        return code


@pytest.fixture
def start_notifier(
    redis_url: str, redis_client: redis.Redis, tmp_path: Path
) -> Iterator[Callable[..., Notifier]]:
    """Factory: ``start_notifier(DISCORD_WEBHOOK_URL=..., burst=False)`` starts the notifier."""
    started: list[ServiceProcess] = []

    def start(burst: bool = False, wait_ready: bool = True, **env: str) -> Notifier:
        args = [sys.executable, "-m", "services.notifier", *(["--burst"] if burst else [])]
        log = tmp_path / f"notifier-{len(started)}.log"
        service = ServiceProcess(args, service_env(redis_url, **env), log)
        started.append(service)
        notifier = Notifier(service, redis_client)
        if wait_ready and not burst:
            notifier.wait(lambda: "working on" in notifier.output(), "notifier start")
        return notifier

    yield start
    for service in started:
        service.stop()


def codes(fake: FakeDiscord) -> list[str]:
    """The stock codes named in the accepted messages' content, in arrival order."""
    return [m[1] for m in (CODE.search(p.get("content") or "") for p in fake.accepted) if m]
