"""Benchmark: the backtest over a year of minute bars, the sweep, and the replay's agreement.

    python -m benchmarks.backtest [--year 2025] [--codes 40] [--picks 20] [--seed 7] [--runs 3]

The year: every KRX session of ``--year`` with synthetic minute bars
(:mod:`shared.backtest.synthetic`) of ``--codes`` codes, and a picks directory of one dated file
per session naming ``--picks`` of them (targets near the previous close, so many buy). The time
is the fast driver's whole run (reading the picks files, the bars from memory, every session,
the result), the best of ``--runs``; generating the bars is not timed. Target: under 5 s on the
project's 2-core machine. The sweep and the replay are measured by their own parts (placeholders
until then). The last line is the one docs/benchmarks.md quotes:

    backtest year <s> s, sweep <n> runs <s> s, replay agrees <a>/<b> sessions
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

from shared.backtest.config import BacktestConfig
from shared.backtest.driver import run_backtest, trading_sessions
from shared.backtest.memory_bars import MemoryBars
from shared.backtest.picks_source import PicksDir
from shared.backtest.results import BacktestResult
from shared.backtest.summary import headline_lines
from shared.backtest.synthetic import history, on_ticks
from shared.trading.market_calendar import KrxCalendar

TARGET_SECONDS = 5.0
"""The year's target, in seconds."""


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


def year_run(
    year: int, n_codes: int, per_day: int, seed: int, runs: int
) -> tuple[float, BacktestResult, int]:
    """The best time of ``runs`` runs over the year, the last run's result, the minute bars."""
    calendar = KrxCalendar()
    sessions = trading_sessions(calendar, date(year, 1, 1), date(year, 12, 31))
    before = calendar.previous_session(sessions[0].day)
    codes = [f"{100000 + i * 7:06d}" for i in range(n_codes)]
    minute, daily = history(seed, codes, [before, *sessions])
    bars = MemoryBars(minute, daily)
    closes = {key: int(b.close[-1]) for key, b in daily.items()}
    days = [s.day for s in sessions]
    config = BacktestConfig(days[0], days[-1], picks=f"synthetic, {per_day} of {n_codes} a day")
    best = float("inf")
    result: BacktestResult | None = None
    with tempfile.TemporaryDirectory() as tmp:
        write_picks(Path(tmp), seed, codes, closes, [before.day, *days], per_day)
        for _ in range(runs):
            started = time.perf_counter()
            result = run_backtest(config, PicksDir(Path(tmp), calendar), bars)
            best = min(best, time.perf_counter() - started)
    assert result is not None
    return best, result, sum(len(b) for b in minute.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--codes", type=int, default=40)
    parser.add_argument("--picks", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    seconds, result, rows = year_run(args.year, args.codes, args.picks, args.seed, args.runs)
    print(
        f"year {args.year}: {len(result.sessions)} sessions, {rows:,} minute bars of"
        f" {args.codes} codes, {args.picks} picks a session; best of {args.runs} runs"
    )
    for line in headline_lines(result):
        print(f"  {line}")
    verdict = "met" if seconds < TARGET_SECONDS else "NOT met"
    print(f"target (a year under {TARGET_SECONDS:.0f} s): {verdict}")
    print(f"backtest year {seconds:.2f} s, sweep 0 runs 0.0 s, replay agrees 0/0 sessions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
