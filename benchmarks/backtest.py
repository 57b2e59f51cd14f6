"""Benchmark: the backtest over a year of minute bars, the sweep, and the replay's agreement.

    python -m benchmarks.backtest [--year 2025] [--codes 40] [--picks 20] [--seed 7] [--runs 3]
        [--sweep-side 10] [--workers N]

The year: every KRX session of ``--year`` with synthetic minute bars
(:mod:`shared.backtest.synthetic`) of ``--codes`` codes, and a picks directory of one dated file
per session naming ``--picks`` of them (targets near the previous close, so many buy). The time
is the fast driver's whole run (reading the picks files, the bars from memory, every session,
the result), the best of ``--runs``; generating the bars is not timed. Target: under 5 s on the
project's 2-core machine.

The sweep: ``--sweep-side`` x ``--sweep-side`` values of TAKE_PROFIT_PCT (2, 3, ...) and
STOP_LOSS_PCT (-1, -2, ...) over the same year, split 0.7 (each point runs its in-sample and its
out-of-sample part: the year once), on every core (``--workers``), ranked and written
(sweep.json, sweep.html); timed from the start to the written page, once. Target: 100 points
under 2 minutes.

The replay: ``--replay-sample`` sessions of the demo data (examples/backtest/, the month of
``make backtest-demo``), spread evenly, each played by the fast driver and by the whole system
(shared/replay/, at ``--replay-speed``, ``--replay-parallel`` at once: one by default, as two
at once slow each other down on two cores), their orders compared; each disagreement is listed
with its orders; the logs stay in ``.run/bench-replay/<when>/<session>/``. Target: every
sampled session agrees. The last line is the one docs/benchmarks.md quotes:

    backtest year <s> s, sweep <n> runs <s> s, replay agrees <a>/<b> sessions
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import itertools
import json
import os
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np

from shared.backtest.command import BacktestRequest
from shared.backtest.config import DEFAULT_REPLAY_SPEED, BacktestConfig
from shared.backtest.driver import run_backtest, trading_sessions
from shared.backtest.memory_bars import MemoryBars
from shared.backtest.picks_source import PicksDir
from shared.backtest.results import BacktestResult
from shared.backtest.summary import headline_lines
from shared.backtest.sweep import run_sweep
from shared.backtest.sweep_grid import parse_grid
from shared.backtest.sweep_report import sweep_lines, write_sweep
from shared.backtest.sweep_results import SweepResult
from shared.backtest.synthetic import history, on_ticks
from shared.infra.clock import KST
from shared.infra.settings import load_settings
from shared.replay.command import ReplayRequest, agreement_line, run_replay
from shared.replay.compare import Agreement
from shared.trading.market_calendar import KrxCalendar

TARGET_SECONDS = 5.0
"""The year's target, in seconds."""
SWEEP_TARGET_SECONDS = 120.0
"""A 100-point sweep's target, in seconds."""
DEMO = Path(__file__).resolve().parent.parent / "examples" / "backtest"
DEMO_FROM, DEMO_TO = "2025-12-17", "2026-01-16"
"""The demo data's range (as ``make backtest-demo``)."""
REPLAY_LOGS = DEMO.parent.parent / ".run" / "bench-replay"
"""Each replayed session's processes log here (its simulator's orders beside them)."""


def write_picks(
    directory: Path,
    seed: int,
    codes: list[str],
    closes: dict[tuple[str, date], int],
    days: list[date],
    per_day: int,
) -> None:
    """A file for each of ``days[1:]``: ``per_day`` codes, each with a target 0-2 % under its
    close of the session before."""
    rng = np.random.default_rng([seed, 1])
    for before, day in itertools.pairwise(days):
        chosen = sorted(rng.choice(len(codes), size=per_day, replace=False))
        below = rng.uniform(0.98, 1.0, size=per_day)
        targets = on_ticks(np.array([closes[(codes[i], before)] for i in chosen]) * below)
        picks = {
            codes[i]: [f"종목{codes[i]}", int(t)] for i, t in zip(chosen, targets, strict=True)
        }
        (directory / f"{day.isoformat()}.json").write_text(json.dumps(picks, ensure_ascii=False))


@dataclass(frozen=True)
class Year:
    """The benchmark's year: its config, its bars in memory and its picks directory."""

    config: BacktestConfig
    bars: MemoryBars
    picks: Path
    minute_rows: int


@contextlib.contextmanager
def year_data(year: int, n_codes: int, per_day: int, seed: int) -> Iterator[Year]:
    """Every KRX session of ``year`` with synthetic minute bars, and a picks file a session."""
    calendar = KrxCalendar()
    sessions = trading_sessions(calendar, date(year, 1, 1), date(year, 12, 31))
    before = calendar.previous_session(sessions[0].day)
    codes = [f"{100000 + i * 7:06d}" for i in range(n_codes)]
    minute, daily = history(seed, codes, [before, *sessions])
    closes = {key: int(b.close[-1]) for key, b in daily.items()}
    days = [s.day for s in sessions]
    config = BacktestConfig(days[0], days[-1], picks=f"synthetic, {per_day} of {n_codes} a day")
    with tempfile.TemporaryDirectory() as tmp:
        write_picks(Path(tmp), seed, codes, closes, [before.day, *days], per_day)
        yield Year(
            config, MemoryBars(minute, daily), Path(tmp), sum(len(b) for b in minute.values())
        )


def year_run(data: Year, runs: int) -> tuple[float, BacktestResult]:
    """The best time of ``runs`` runs over the year, and the last run's result."""
    best = float("inf")
    result: BacktestResult | None = None
    for _ in range(runs):
        started = time.perf_counter()
        result = run_backtest(data.config, PicksDir(data.picks, data.config.calendar()), data.bars)
        best = min(best, time.perf_counter() - started)
    assert result is not None
    return best, result


def sweep_run(data: Year, side: int, workers: int | None) -> tuple[float, float, SweepResult]:
    """A ``side`` x ``side`` grid of TAKE_PROFIT_PCT and STOP_LOSS_PCT over the year on
    ``workers`` processes (every core), split 0.7, ranked by return, written: its wall time,
    the CPU time of its processes (the workers' and this one's), and the sweep."""
    grid = [
        "TAKE_PROFIT_PCT=" + ",".join(str(2 + i) for i in range(side)),
        "STOP_LOSS_PCT=" + ",".join(str(-1 - i) for i in range(side)),
    ]
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = time.process_time()
    started = time.perf_counter()
    picks = PicksDir(data.picks, data.config.calendar())
    result = run_sweep(data.config, picks, data.bars, parse_grid(grid), workers=workers)
    with tempfile.TemporaryDirectory() as tmp:
        write_sweep(result, Path(tmp))
    seconds = time.perf_counter() - started
    done = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_seconds = (
        time.process_time()
        - cpu
        + done.ru_utime
        - children.ru_utime
        + done.ru_stime
        - children.ru_stime
    )
    return seconds, cpu_seconds, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--codes", type=int, default=40)
    parser.add_argument("--picks", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sweep-side", type=int, default=10, help="the grid is side x side")
    parser.add_argument("--workers", type=int, default=None, help="default: every core")
    parser.add_argument("--replay-sample", type=int, default=5, help="0: no replay")
    parser.add_argument("--replay-speed", type=float, default=DEFAULT_REPLAY_SPEED)
    parser.add_argument("--replay-parallel", type=int, default=1)
    args = parser.parse_args(argv)
    with year_data(args.year, args.codes, args.picks, args.seed) as data:
        seconds, result = year_run(data, args.runs)
        print(
            f"year {args.year}: {len(result.sessions)} sessions, {data.minute_rows:,} minute"
            f" bars of {args.codes} codes, {args.picks} picks a session; best of {args.runs} runs"
        )
        for line in headline_lines(result):
            print(f"  {line}")
        verdict = "met" if seconds < TARGET_SECONDS else "NOT met"
        print(f"target (a year under {TARGET_SECONDS:.0f} s): {verdict}")
        load = os.getloadavg()[0]
        sweep_seconds, cpu_seconds, sweep = sweep_run(data, args.sweep_side, args.workers)
    print(
        f"sweep: {len(sweep.rows)} points of {' x '.join(sweep.grid)} on {sweep.workers}"
        f" processes, each over the year (in-sample {sweep.in_sample[0]} to"
        f" {sweep.in_sample[1]}, out-of-sample to {sweep.out_of_sample[1]}):"
        f" {sweep_seconds:.1f} s, {cpu_seconds:.1f} s of CPU (load average {load:.1f} before)"
    )
    for line in sweep_lines(sweep)[2:6]:
        print(f"  {line}")
    verdict = "met" if sweep_seconds < SWEEP_TARGET_SECONDS else "NOT met"
    print(f"target (a {len(sweep.rows)}-point sweep under {SWEEP_TARGET_SECONDS:.0f} s): {verdict}")
    agreements, replay_seconds = replay_run(
        args.replay_sample, args.replay_speed, args.replay_parallel
    )
    print(
        f"replay: {len(agreements)} sessions of the demo data at {args.replay_speed:g}x,"
        f" {args.replay_parallel} at once: {replay_seconds:.0f} s"
    )
    print(
        f"backtest year {seconds:.2f} s, sweep {len(sweep.rows)} runs {sweep_seconds:.1f} s,"
        f" {agreement_line(agreements)}"
    )
    return 0


def replay_run(sample: int, speed: float, parallel: int) -> tuple[list[Agreement], float]:
    """``sample`` sessions of the demo data replayed and compared; each session's verdict is
    printed as it ends (a disagreement with its orders). The agreements and the wall time."""
    if sample < 1:
        return [], 0.0
    backtest = BacktestRequest(
        DEMO_FROM,
        DEMO_TO,
        picks_dir=DEMO / "picks",
        bars_csv=DEMO / "bars.csv.gz",
    )
    started = time.perf_counter()
    logs = REPLAY_LOGS / time.strftime("%Y%m%d-%H%M%S")
    request = ReplayRequest(
        dataclasses.replace(backtest, out=logs), sample=sample, speed=speed, parallel=parallel
    )
    agreements, _ = run_replay(
        request,
        load_settings({"KAT_ENV_FILE": ""}),
        datetime.now(KST),
        lambda a: print("\n".join(f"  {line}" for line in a.lines()), flush=True),
    )
    print(f"  logs: {logs}")
    return agreements, time.perf_counter() - started


if __name__ == "__main__":
    sys.exit(main())
