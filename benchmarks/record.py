"""The benchmark record: every benchmark in turn, written to docs/benchmarks.md (make bench-all).

    python -m benchmarks.record [--output docs/benchmarks.md] [--skip-compose]

Runs benchmarks.kis_rate, benchmarks.engine_latency and benchmarks.demo_day (the demo day at
increasing clock speeds, with the demo's settings and with a faster cycle), then, when a Docker
engine answers, benchmarks.compose_stats (image, build, memory while trading, idle CPU),
benchmarks.backtest (a year of minute bars through the backtest), and last benchmarks.stream
(price-change-to-order latency, stream against polling). Each part's own output is kept
verbatim in the record, under the machine it ran on and the command.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import compose_stats, demo_day
from benchmarks.kis_rate import ROOT

OUTPUT = ROOT / "docs" / "benchmarks.md"
NOTES_MARKER = "<!-- notes: written by hand, kept by benchmarks.record -->"
"""Everything from this line to the end of the record survives a rerun."""
DEMO_SPEEDS = [600.0, 1200.0, 1800.0]
"""Clock speeds tried with the demo's own settings (1 s cycle floor, 5 requests/s)."""
FAST_SPEEDS = [1800.0, 2400.0, 3600.0, 4800.0]
"""Clock speeds tried with a 0.2 s cycle floor and KIS's real-account rate (18 requests/s)."""
FAST_CYCLE_SECONDS = 0.2
FAST_RATE_LIMIT = 18


def machine() -> list[str]:
    """What the numbers were measured on."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError, IndexError, ValueError):
        kb = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        memory = f", {kb / 2**20:.1f} GiB RAM"
    docker = _output(["docker", "version", "--format", "{{.Server.Version}}"])
    compose = _output(["docker", "compose", "version", "--short"])
    return [
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- CPU: {cpu}, {os.cpu_count()} cores{memory}",
        f"- OS: {platform.platform()}",
        f"- Python {platform.python_version()}",
        f"- Docker engine {docker or 'none'}, compose {compose or 'none'}",
    ]


def _output(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def run_module(module: str, *args: str) -> tuple[str, float]:
    """``python -m MODULE ARGS``, echoed as it runs; (its output, seconds)."""
    print(f"==> python -m {module} {' '.join(args)}", flush=True)
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        print(line, end="", flush=True)
        lines.append(line)
    process.wait()
    if process.returncode != 0:
        lines.append(f"(exit status {process.returncode})\n")
    return "".join(lines).rstrip(), time.monotonic() - started


class _Tee(io.TextIOBase):
    """Writes to the real stdout and keeps a copy."""

    def __init__(self) -> None:
        self.copy = io.StringIO()

    def write(self, text: str) -> int:
        sys.__stdout__.write(text) if sys.__stdout__ else None
        self.copy.write(text)
        return len(text)


def ladder(speeds: list[float], env: dict[str, str]) -> tuple[str, list[demo_day.DayRun]]:
    """``demo_day.ladder`` with its table both shown and kept."""
    tee = _Tee()
    with contextlib.redirect_stdout(tee):
        runs = demo_day.ladder(speeds, env)
    return tee.copy.getvalue().rstrip(), runs


def fence(text: str) -> list[str]:
    return ["```", text, "```"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--skip-compose", action="store_true")
    args = parser.parse_args(argv)

    doc = [
        "# Benchmarks",
        "",
        "Written by `make bench-all` (`python -m benchmarks.record`); every number below comes",
        "from that one run. Rerun it after a change that could move them.",
        "",
        "## Machine",
        "",
        *machine(),
        "",
    ]

    rate, rate_seconds = run_module("benchmarks.kis_rate")
    doc += [
        "## KIS request rate through the shared limiter",
        "",
        f"`python -m benchmarks.kis_rate` ({rate_seconds:.0f} s): requests per second as a "
        "fraction of the limit, one and three competing processes. Target: at least 95 % of "
        "the limit, zero EGW00201.",
        "",
        *fence(rate),
        "",
    ]
    contended, contended_seconds = run_module("benchmarks.kis_rate", "--contended")
    doc += [
        f"`python -m benchmarks.kis_rate --contended` ({contended_seconds:.0f} s): three "
        "processes sharing one app key beside a CPU hog on every core; the gaps between "
        "requests as they left, the time from leaving to the answer, and from a slot's grant "
        "to its request leaving (docs/ARCHITECTURE.md, 'Rate limits'). Same target.",
        "",
        *fence(contended),
        "",
    ]

    latency, latency_seconds = run_module("benchmarks.engine_latency")
    doc += [
        "## Signal-to-order latency and the intraday cycle",
        "",
        f"`python -m benchmarks.engine_latency` ({latency_seconds:.0f} s). Targets: the queue "
        "adds at most 10 ms at p50 over placing inline; a cycle within 10 % of its bound.",
        "",
        *fence(latency),
        "",
    ]

    print("==> python -m benchmarks.demo_day (demo settings)", flush=True)
    demo_out, demo_runs = ladder(DEMO_SPEEDS, {})
    print("==> python -m benchmarks.demo_day (faster cycle)", flush=True)
    fast_env = demo_day.tuning(FAST_CYCLE_SECONDS, FAST_RATE_LIMIT)
    fast_out, fast_runs = ladder(FAST_SPEEDS, fast_env)
    doc += [
        "## A full simulated day",
        "",
        "The demo day (examples/README.md) on fresh processes and a fresh Redis: real seconds "
        "from 08:50 on the simulated clock to the post-market export of the ledger, at rising "
        "clock speeds until the orders differ from the five expected. Target: under 20 s.",
        "",
        "With the demo's settings (`make demo-day`: 1 s cycle floor, 5 requests/s):",
        "`python -m benchmarks.demo_day --speeds 600,1200,1800`",
        "",
        *fence(demo_out),
        "",
        f"With `SCHEDULER_MIN_CYCLE_SECONDS={FAST_CYCLE_SECONDS:g}` and "
        f"`KIS_RATE_LIMIT=SIM_RATE_LIMIT={FAST_RATE_LIMIT}` (settings only, no code change):",
        f"`python -m benchmarks.demo_day --speeds 1800,2400,3600,4800 --cycle-seconds "
        f"{FAST_CYCLE_SECONDS:g} --rate-limit {FAST_RATE_LIMIT}`",
        "",
        *fence(fast_out),
        "",
        _fastest(demo_runs, fast_runs),
        "",
    ]

    doc += ["## The compose system", ""]
    problem = None if not args.skip_compose else "skipped (--skip-compose)"
    if problem is None and not _output(["docker", "compose", "version", "--short"]):
        problem = "no Docker engine answered"
    if problem is None and _output(["docker", "info", "--format", "{{.ServerVersion}}"]) == "":
        problem = "no Docker engine answered"
    if problem:
        doc += [f"Not measured: {problem}.", ""]
    else:
        print("==> python -m benchmarks.compose_stats", flush=True)
        record = compose_stats.measure()
        doc += [
            "`python -m benchmarks.compose_stats`: the image built without cache, then the demo "
            f"day through compose at {compose_stats.SPEED}x. Memory is the peak over the trading "
            "day, sampled every second; idle CPU is the share of one core over "
            f"{compose_stats.IDLE_WINDOW_SECONDS:g} s windows, healthchecks included.",
            "",
            compose_stats.report(record),
            "",
        ]
    backtest, backtest_seconds = run_module("benchmarks.backtest")
    doc += [
        "## Backtest",
        "",
        f"`python -m benchmarks.backtest` ({backtest_seconds:.0f} s, `make bench-backtest`): the "
        "fast driver over every session of a year of synthetic minute bars of 40 codes, 20 "
        "picks a session from dated picks files (docs/ARCHITECTURE.md, 'Backtest'), best of "
        "three runs. Target: under 5 s.",
        "",
        *fence(backtest),
        "",
    ]
    streams, streams_seconds = run_module("benchmarks.stream")
    doc += [
        "## Streams",
        "",
        f"`python -m benchmarks.stream` ({streams_seconds:.0f} s, `make bench-stream`): from a "
        "pick's price entering its band in the simulator to the order POST reaching it, with "
        "prices on the KIS stream and with REST polling, at 1 and 18 requests/s, for 5, 40 and "
        "200 picks. Target: stream p99 under 100 ms for codes on the stream.",
        "",
        *fence(streams),
        "",
    ]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    previous = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
    if NOTES_MARKER in previous:
        doc.append(previous[previous.index(NOTES_MARKER) :].rstrip())
    args.output.write_text("\n".join(doc) + "\n", encoding="utf-8")
    print(f"==> wrote {args.output}")
    return 0


def _fastest(*ladders: list[demo_day.DayRun]) -> str:
    runs = [r for runs in ladders for r in runs if r.exact and r.seconds is not None]
    if not runs:
        return "No speed traded the day exactly."
    best = min(runs, key=lambda r: r.seconds or 0.0)
    seconds = best.seconds or 0.0
    met = "met" if seconds < 20 else "NOT met"
    return f"Fastest exact day: {best.speed:g}x in {seconds:.1f} s (target under 20 s: {met})."


if __name__ == "__main__":
    raise SystemExit(main())
