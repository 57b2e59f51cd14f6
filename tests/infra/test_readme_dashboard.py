"""The README's local rq-dashboard command, run as written: this system's Redis, this machine only.

Issue 20: ``.venv/bin/rq-dashboard --json`` read redis://localhost:6379 whatever REDIS_URL said,
and listened on every interface.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import redis
import requests

from shared.messaging.queues import SERIALIZER
from tests.conftest import ROOT, ServiceProcess, free_port, wait_for

BASH = shutil.which("bash") or "/bin/bash"


def readme_command() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    [command] = re.findall(r"`(\.venv/bin/rq-dashboard[^`]*)`", readme)
    return command


def test_the_local_dashboard_reads_redis_url_and_listens_on_loopback(
    redis_url: str, redis_client: redis.Redis, tmp_path: Path
) -> None:
    from rq import Queue

    Queue("readme-check", connection=redis_client, serializer=SERIALIZER).enqueue(
        "builtins.print", job_id="readme-job"
    )
    port = free_port()
    env = {"PATH": str(ROOT / ".venv" / "bin") + ":/usr/bin:/bin", "REDIS_URL": redis_url}
    dashboard = ServiceProcess(
        [BASH, "-c", f"{readme_command()} --port {port}"], env, tmp_path / "dashboard.log"
    )
    try:
        url = f"http://127.0.0.1:{port}/0/data/queues.json"
        wait_for(lambda: _answers(url), timeout=30, what="rq-dashboard")
        queues = {q["name"]: q["count"] for q in requests.get(url, timeout=5).json()["queues"]}
        assert queues.get("readme-check") == 1, queues
        listening = _listening_addresses(port)
        assert listening == {"127.0.0.1"}, listening
    finally:
        dashboard.stop()


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).ok
    except requests.RequestException:
        return False


def _listening_addresses(port: int) -> set[str]:
    """Local addresses with a TCP socket listening on ``port`` (``ss``, from iproute2)."""
    out = subprocess.run(
        ["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True, check=True
    ).stdout
    return {line.split()[3].rsplit(":", 1)[0] for line in out.splitlines() if line.strip()}
