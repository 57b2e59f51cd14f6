"""Benchmark: the compose system's cost: image size, cold build, memory while trading, idle CPU.

    python -m benchmarks.compose_stats          # needs a Docker engine and docker compose

Builds the image without cache under a tag of its own (cold build time, image size), then runs
the demo day through compose (examples/, 600x, as tests/compose/test_trading_day.py does) and
reads each container's cgroup through the Engine API (what ``docker stats`` shows: memory
without the reclaimable page cache, CPU time including healthchecks) plus the proportional set
size of its processes. CPU is measured over quiet stretches: waiting for the open, and after the
close. Targets: every service at or under 80 MB while trading; idle CPU near zero.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.demo_day import DEMO_ENV, START
from benchmarks.kis_rate import ROOT, free_port

SERVICES = ("redis", "kis-sim", "executor", "scheduler", "notifier", "api")
APP_SERVICES = SERVICES[1:]
SPEED = 600
"""The compose day's clock speed (the 08:50-15:20 stretch takes 39 s)."""
LEAD_SECONDS = 90.0
"""Real seconds from ``up`` to 08:50 on the simulated clock: time for every service to start."""
IDLE_WINDOW_SECONDS = 20.0
"""Length of each idle-CPU measurement."""
MEMORY_LIMIT_MB = 80.0
"""Resident memory each service may use while trading."""
DOCKER_SOCKET = "/var/run/docker.sock"


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=30)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self._path)


def engine_stats(container_id: str) -> dict[str, Any]:
    """One stats sample from the Engine API (``docker stats`` reads the same)."""
    connection = _UnixConnection(DOCKER_SOCKET)
    try:
        connection.request("GET", f"/containers/{container_id}/stats?stream=false&one-shot=true")
        data: dict[str, Any] = json.loads(connection.getresponse().read())
    finally:
        connection.close()
    return data


def memory_mb(stats: dict[str, Any]) -> float:
    """Usage minus inactive page cache, as ``docker stats`` computes it (cgroup v1 and v2)."""
    memory = stats["memory_stats"]
    usage = float(memory.get("usage", 0))
    extra = memory.get("stats", {})
    cache = extra.get("total_inactive_file", extra.get("inactive_file", 0))
    return (usage - cache if cache < usage else usage) / 2**20


def cpu_seconds(stats: dict[str, Any]) -> float:
    return float(stats["cpu_stats"]["cpu_usage"]["total_usage"]) / 1e9


def process_tree(root: int) -> list[int]:
    """``root`` and its descendants: the service itself, not processes ``docker exec`` adds."""
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{pid}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
    return found


def pss_mb(pids: list[int]) -> float:
    """Sum of the proportional set sizes of these processes (shared pages split)."""
    total_kb = 0
    for pid in pids:
        with contextlib.suppress(OSError):  # gone, or not readable by this user
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total_kb += int(line.split()[1])
    return total_kb / 1024


def main_pid(container_id: str) -> int:
    return int(docker("inspect", "-f", "{{.State.Pid}}", container_id).stdout.strip())


def docker(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )


@dataclass
class ComposeRecord:
    """What the compose run measured."""

    cold_build_seconds: float = 0.0
    cached_build_seconds: float = 0.0
    image_mb: float = 0.0
    up_seconds: float = 0.0
    peak_memory_mb: dict[str, float] = field(default_factory=dict)
    """Whole container, healthcheck runs included (what ``docker stats`` shows)."""
    peak_pss_mb: dict[str, float] = field(default_factory=dict)
    """The service's own processes (the target applies to these)."""
    idle_cpu_percent: dict[str, dict[str, float]] = field(default_factory=dict)
    """Per window ("before the open", "after the close"): CPU % of one core per service."""
    orders: int = 0


class Project:
    """A compose project of the demo day, under its own name, ports and image tag."""

    def __init__(self, folder: Path, tag: str, epoch: float) -> None:
        self.name = f"kat-bench-{uuid.uuid4().hex[:8]}"
        self.folder = folder
        (folder / "empty.env").write_text("")
        override = {
            "services": {
                s: {
                    "environment": {
                        **{k: v for k, v in DEMO_ENV.items() if k not in ("KAT_ENV_FILE",)},
                        "PICKS_FILE": "/app/examples/picks-2026-03-03.json",
                        "SIM_PRICE_PATHS": "/app/examples/demo-prices.json",
                        "EXPORT_DIR": "/app/data",
                    }
                }
                for s in APP_SERVICES
            }
        }
        (folder / "bench.yml").write_text(json.dumps(override))
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_") and k != ".env"
        }
        self.env.update(
            KAT_IMAGE=tag,
            KAT_ENV_FILE=str(folder / "empty.env"),
            API_PORT=str(free_port()),
            SIM_PORT=str(free_port()),
            CLOCK_START=START.isoformat(),
            CLOCK_SPEED=str(SPEED),
            CLOCK_EPOCH=f"{epoch:.3f}",
            KIS_ENV="sim",
        )

    def compose(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = docker(
            "compose",
            "-f",
            str(ROOT / "docker-compose.yml"),
            "-f",
            str(self.folder / "bench.yml"),
            "--env-file",
            str(self.folder / "empty.env"),
            "-p",
            self.name,
            *args,
            env=self.env,
        )
        if result.returncode != 0:
            raise SystemExit(f"docker compose {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result

    def ids(self) -> dict[str, str]:
        ids = self.compose("ps", "-q").stdout.split()
        found = json.loads(docker("inspect", *ids).stdout)
        return {c["Config"]["Labels"]["com.docker.compose.service"]: c["Id"] for c in found}


def build(tag: str, env: dict[str, str]) -> tuple[float, float]:
    """(cold, cached) seconds of ``docker compose build`` of the image, as a user builds it."""
    timings = []
    with tempfile.TemporaryDirectory() as workdir:
        empty = Path(workdir) / "empty.env"
        empty.write_text("")
        for extra in (["--no-cache"], []):
            started = time.monotonic()
            result = docker(
                "compose",
                "-f",
                str(ROOT / "docker-compose.yml"),
                "--env-file",
                str(empty),
                "-p",
                "kat-bench-build",
                "build",
                *extra,
                "api",
                env={**env, "KAT_IMAGE": tag, "KAT_ENV_FILE": str(empty)},
            )
            if result.returncode != 0:
                raise SystemExit(f"docker compose build failed:\n{result.stderr[-3000:]}")
            timings.append(time.monotonic() - started)
    return timings[0], timings[1]


def idle_cpu(ids: dict[str, str], seconds: float) -> dict[str, float]:
    """CPU % of one core each container used over ``seconds`` of wall time."""
    before = {s: cpu_seconds(engine_stats(i)) for s, i in ids.items()}
    started = time.monotonic()
    time.sleep(seconds)
    after = {s: cpu_seconds(engine_stats(i)) for s, i in ids.items()}
    wall = time.monotonic() - started
    return {s: 100 * (after[s] - before[s]) / wall for s in ids}


def sample_memory(ids: dict[str, str], roots: dict[str, int], record: ComposeRecord) -> None:
    for service, container in ids.items():
        mb = memory_mb(engine_stats(container))
        record.peak_memory_mb[service] = max(record.peak_memory_mb.get(service, 0.0), mb)
        pss = pss_mb(process_tree(roots[service]))
        record.peak_pss_mb[service] = max(record.peak_pss_mb.get(service, 0.0), pss)


def measure() -> ComposeRecord:
    """Build, run the demo day through compose, measure; the project is removed afterwards."""
    record = ComposeRecord()
    tag = f"kis-autotrader:bench-{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    record.cold_build_seconds, record.cached_build_seconds = build(tag, env)
    record.image_mb = (
        int(docker("image", "inspect", "-f", "{{.Size}}", tag).stdout.strip() or 0) / 2**20
    )
    with tempfile.TemporaryDirectory() as workdir:
        epoch = time.time() + LEAD_SECONDS
        project = Project(Path(workdir), tag, epoch)
        try:
            started = time.monotonic()
            project.compose("up", "-d", "--wait", "--no-build")
            record.up_seconds = time.monotonic() - started
            ids = project.ids()
            roots = {service: main_pid(container) for service, container in ids.items()}
            quiet = epoch - time.time() - 5
            if quiet > 5:
                window = min(IDLE_WINDOW_SECONDS, quiet)
                record.idle_cpu_percent["waiting for the open"] = idle_cpu(ids, window)
            while time.time() < epoch:
                time.sleep(0.2)
            day_end = epoch + 6.5 * 3600 / SPEED + 5
            while time.time() < day_end:
                sample_memory(ids, roots, record)
                time.sleep(1.0)
            record.idle_cpu_percent["after the close"] = idle_cpu(ids, IDLE_WINDOW_SECONDS)
            port = project.env["API_PORT"]
            orders = subprocess.run(
                ["curl", "-sf", f"http://127.0.0.1:{port}/orders?date=2026-03-03"],
                capture_output=True,
                text=True,
                check=False,
            ).stdout
            record.orders = len(json.loads(orders or '{"orders": []}')["orders"])
        finally:
            subprocess.run(
                ["docker", "compose", "-p", project.name, "down", "-v", "-t", "30"],
                capture_output=True,
                check=False,
                env=project.env,
            )
            docker("image", "rm", tag)
    return record


def report(record: ComposeRecord) -> str:
    """The record as Markdown."""
    lines = [
        f"- image: {record.image_mb:.0f} MB; cold build (`--no-cache`) "
        f"{record.cold_build_seconds:.0f} s, cached rebuild {record.cached_build_seconds:.1f} s",
        f"- `docker compose up --wait`: {record.up_seconds:.0f} s; orders placed by the compose "
        f"day: {record.orders}",
        "",
        "| service | service processes, PSS (MB) | container incl. healthchecks (MB) | "
        + " | ".join(f"idle CPU {w} (%)" for w in record.idle_cpu_percent)
        + " |",
        "|---|---:|---:|" + "---:|" * len(record.idle_cpu_percent),
    ]
    for service in SERVICES:
        cpu = " | ".join(f"{w[service]:.2f}" for w in record.idle_cpu_percent.values())
        mem = record.peak_memory_mb.get(service, 0.0)
        lines.append(
            f"| {service} | {record.peak_pss_mb.get(service, 0.0):.1f} | {mem:.1f} | {cpu} |"
        )
    totals = " | ".join(f"{sum(w.values()):.2f}" for w in record.idle_cpu_percent.values())
    lines.append(
        f"| **all** | {sum(record.peak_pss_mb.values()):.1f} | "
        f"{sum(record.peak_memory_mb.values()):.1f} | {totals} |"
    )
    worst = max(record.peak_pss_mb.values(), default=0.0)
    verdict = "met" if worst <= MEMORY_LIMIT_MB else "NOT met"
    lines += [
        "",
        f"Every service's processes at or under {MEMORY_LIMIT_MB:g} MB while trading: {verdict} "
        f"(largest {worst:.1f} MB). The container column adds the healthcheck's own process "
        "while one runs.",
    ]
    return "\n".join(lines)


def main() -> int:
    print(report(measure()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
