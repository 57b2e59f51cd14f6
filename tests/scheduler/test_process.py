"""``python -m services.scheduler`` as a process: bad settings exit 2, SIGTERM stops it cleanly."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import redis

from shared.infra.redis_keys import Keys
from tests.conftest import ROOT, ServiceProcess, free_port, service_env, wait_for
from tests.notifier.samples import queued_payloads

KEYS = Keys()


def test_a_bad_setting_exits_2_with_one_line_naming_it(redis_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "services.scheduler"],
        env=service_env(redis_url, SELL_SCOPE="everything"),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "SELL_SCOPE" in lines[0], result.stderr


def test_sigterm_releases_the_lead_and_says_goodbye(
    redis_url: str, redis_client: redis.Redis, tmp_path: Path
) -> None:
    # A closed day needs no KIS at all: the endpoint may as well not exist.
    env = service_env(
        redis_url,
        KIS_SIM_URL=f"http://127.0.0.1:{free_port()}",
        CLOCK_START="2026-06-03T12:00:00+09:00",
        CLOCK_EPOCH=f"{time.time():.6f}",
        KIS_ACCOUNT="87654321-01",
    )
    process = ServiceProcess(
        [sys.executable, "-m", "services.scheduler"], env, tmp_path / "scheduler.log"
    )
    try:
        wait_for(lambda: redis_client.exists(KEYS.leader("scheduler")), what="the leader lock")
        wait_for(lambda: list(redis_client.scan_iter(KEYS.heartbeats())), what="a heartbeat")
        process.process.send_signal(signal.SIGTERM)
        assert process.process.wait(10) == 0
    finally:
        process.stop()
    assert not redis_client.exists(KEYS.leader("scheduler"))
    assert list(redis_client.scan_iter(KEYS.heartbeats())) == []
    events = queued_payloads(redis_client)
    assert [e["event"] for e in events] == ["service_start", "closed_day", "service_stop"]
    output = process.log_path.read_text(encoding="utf-8")
    assert "87654321" not in output and "87654321" not in str(events)
    assert "******21-01" in output
