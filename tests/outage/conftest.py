"""A redis-server of the test's own that the test stops and starts again on the same port.

The test's database lives in an append-only file synced on every write, so a restart keeps
everything, as the compose deployment's Redis does. The fixtures ``redis_url`` and
``redis_client`` are replaced by ones on this server, so the executor and notifier harnesses
(imported below) run on it unchanged.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.conftest import free_port, wait_for
from tests.executor.conftest import make_harness  # noqa: F401 - a fixture, used by name
from tests.notifier.conftest import discord, send, start_notifier  # noqa: F401 - fixtures


class RestartableRedis:
    """A redis-server this test started, with AOF, that it may stop and start again."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.binary = os.environ.get("REDIS_SERVER_BIN") or shutil.which("redis-server") or ""

    def url(self, db: int = 1) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        """Start (again) on the same port with the same data folder; wait until it answers."""
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
        )
        probe = redis.Redis(port=self.port)
        wait_for(probe.ping, what="redis-server")
        probe.close()

    def stop(self) -> None:
        """SIGTERM and wait: every client's connection breaks, the data stays on disk."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(15)
        self.process = None


@pytest.fixture
def outage_redis(tmp_path: Path) -> Iterator[RestartableRedis]:
    if not shutil.which("redis-server") and not os.environ.get("REDIS_SERVER_BIN"):
        pytest.exit("redis-server not found: install the 'redis-server' package", returncode=3)
    folder = tmp_path / "redis-data"
    folder.mkdir()
    server = RestartableRedis(folder)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(outage_redis: RestartableRedis) -> str:
    return outage_redis.url()


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()
