"""``python -m services.healthcheck SERVICE``, the containers' healthcheck, on a real Redis."""

from __future__ import annotations

import socket
import subprocess
import sys

import redis

from shared.infra.redis_keys import Keys
from shared.state.control import beat
from tests.conftest import ROOT, service_env


def check(redis_url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.healthcheck", *args],
        cwd=ROOT,
        env=service_env(redis_url, **env),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_healthy_only_for_a_live_beat_of_that_service_from_this_host(
    redis_url: str, redis_client: redis.Redis
) -> None:
    assert check(redis_url, "executor").returncode == 1
    beat(redis_client, Keys(), "executor", "elsewhere-1-abc123")
    missing = check(redis_url, "executor")
    assert (missing.returncode, missing.stderr) == (1, "no live heartbeat from executor\n")

    beat(redis_client, Keys(), "executor", f"{socket.gethostname()}-7-abc123")
    assert check(redis_url, "executor").returncode == 0
    assert check(redis_url, "scheduler").returncode == 1


def test_reads_the_key_prefix_and_fails_fast_without_redis(
    redis_url: str, redis_client: redis.Redis
) -> None:
    beat(redis_client, Keys("other:"), "notifier", f"{socket.gethostname()}-7-abc123")
    assert check(redis_url, "notifier").returncode == 1
    assert check(redis_url, "notifier", REDIS_PREFIX="other:").returncode == 0
    down = check("redis://127.0.0.1:1/0", "notifier")
    assert down.returncode == 1
    assert down.stderr.startswith("redis unavailable:")
    assert check(redis_url).returncode == 2


def test_a_process_that_says_a_part_of_it_is_stuck_is_unhealthy(
    redis_url: str, redis_client: redis.Redis
) -> None:
    """Issue 11: the notifier's sender thread was dead and the healthcheck still said healthy."""
    instance = f"{socket.gethostname()}-7-abc123"
    beat(redis_client, Keys(), "notifier", instance, healthy=False, sender="stuck for 60s")
    stuck = check(redis_url, "notifier")
    assert (stuck.returncode, stuck.stderr) == (1, "notifier is unhealthy: stuck for 60s\n")
    beat(redis_client, Keys(), "notifier", instance, healthy=True, sender="running")
    assert check(redis_url, "notifier").returncode == 0
