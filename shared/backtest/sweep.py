"""``kat backtest --sweep``: the same backtest over a grid of threshold settings, on every core,
ranked in-sample with out-of-sample beside it, and a plain warning about overfitting.

See docs/ARCHITECTURE.md, 'Backtest' (the sweep). The range's sessions are split by
``--split`` (0.7: the first 70 % in-sample, the rest out-of-sample); every grid point is run
twice, once over each part, each from the starting cash with no position (so a part's figures
never lean on the other's). The grid is ranked by ``--metric`` on the in-sample run only; the
out-of-sample run is shown beside it, never used to rank. The bars are read once, into memory,
before the worker processes start (forked: they share them), never once a run.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from decimal import Decimal
from typing import Any

from shared.backtest.bar_source import BarSource
from shared.backtest.buy_and_hold import BuyAndHold
from shared.backtest.config import BacktestConfig
from shared.backtest.driver import run_backtest, trading_sessions
from shared.backtest.figures import buy_and_hold_of, figures
from shared.backtest.market_data import BacktestInputError, MarketData
from shared.backtest.memory_bars import MemoryBars
from shared.backtest.picks_source import PicksSource
from shared.backtest.sweep_grid import Axis, grid_points, live_point, thresholds_at
from shared.backtest.sweep_results import (
    OVERFITTING_WARNING,
    Metric,
    RunScore,
    SweepResult,
    SweepRow,
    score,
)
from shared.trading.metrics import rank_correlation

DEFAULT_SPLIT = Decimal("0.7")
"""The in-sample share of the range's sessions."""


def split_range(config: BacktestConfig, split: Decimal) -> tuple[BacktestConfig, BacktestConfig]:
    """The in-sample and out-of-sample runs of ``config``'s range, cut by sessions."""
    if not Decimal(0) < split < Decimal(1):
        raise BacktestInputError(
            f"--split must be between 0 and 1 (0.7: 70 % in-sample), got {split}"
        )
    days = [s.day for s in trading_sessions(config.calendar(), config.start, config.end)]
    if not days:
        raise BacktestInputError(f"no KRX session from {config.start} to {config.end}")
    cut = round(len(days) * split)
    if not 1 <= cut < len(days):
        raise BacktestInputError(
            f"--split {split} of {len(days)} sessions leaves no session"
            f" {'in' if cut < 1 else 'out of'} sample: widen the range or change --split"
        )
    return (
        dataclasses.replace(config, start=days[0], end=days[cut - 1]),
        dataclasses.replace(config, start=days[cut], end=days[-1]),
    )


def default_workers() -> int:
    """Every core this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def run_sweep(
    config: BacktestConfig,
    picks: PicksSource,
    bars: BarSource,
    axes: Sequence[Axis],
    metric: Metric = Metric.RETURN,
    split: Decimal = DEFAULT_SPLIT,
    workers: int | None = None,
) -> SweepResult:
    """Run every point of ``axes`` in-sample and out-of-sample, on ``workers`` processes."""
    inside, outside = split_range(config, split)
    points = grid_points(axes)
    plans = [
        (
            dataclasses.replace(inside, thresholds=thresholds_at(config.thresholds, axes, p)),
            dataclasses.replace(outside, thresholds=thresholds_at(config.thresholds, axes, p)),
        )
        for p in points
    ]
    memory, data = _preload(config, picks, bars)
    workers = max(1, min(workers or default_workers(), len(points)))
    if workers == 1:
        _start_worker(memory, data, picks)
        scores = [_run_point(plan) for plan in plans]
    else:
        with ProcessPoolExecutor(
            workers, _fork(), initializer=_start_worker, initargs=(memory, data, picks)
        ) as pool:
            scores = list(pool.map(_run_point, plans))
    live = live_point(config.thresholds, axes)
    ranked = sorted(range(len(points)), key=lambda i: score(scores[i][0], metric), reverse=True)
    rows = tuple(
        SweepRow(rank + 1, points[i], scores[i][0], scores[i][1], points[i] == live)
        for rank, i in enumerate(ranked)
    )
    return SweepResult(
        config=config,
        grid={a.name: a.values for a in axes},
        metric=metric,
        split=split,
        in_sample=(inside.start, inside.end),
        out_of_sample=(outside.start, outside.end),
        rows=rows,
        rank_correlation=rank_correlation(
            [score(r.in_sample, metric) for r in rows],
            [score(r.out_of_sample, metric) for r in rows],
        ),
        workers=workers,
        warning=OVERFITTING_WARNING.format(points=len(points)),
    )


# The workers -----------------------------------------------------------------------------------
_WORKER: dict[str, Any] = {}
"""A worker process's bars and picks, set once when it starts."""


def _preload(
    config: BacktestConfig, picks: PicksSource, bars: BarSource
) -> tuple[MemoryBars, MarketData]:
    """The bars of every run, read once: from the session before the range to its end."""
    calendar = config.calendar()
    days = [s.day for s in trading_sessions(calendar, config.start, config.end)]
    codes = picks.codes(days)
    if not codes:
        raise BacktestInputError(
            f"no picks for any session from {config.start} to {config.end}: nothing to trade"
        )
    before = calendar.previous_session(days[0]).day
    memory = MemoryBars.preloaded(bars, codes, before, config.end, config.bars)
    # No bars at all is refused here, before any worker starts.
    return memory, MarketData.load(memory, codes, before, config.end, config.bars)


def _fork() -> multiprocessing.context.BaseContext:
    """Forked workers share the parent's bars without copying them, where the OS can fork."""
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


def _start_worker(bars: MemoryBars, data: MarketData, picks: PicksSource) -> None:
    _WORKER["bars"] = bars
    _WORKER["data"] = data
    _WORKER["picks"] = picks


def _run_point(plan: tuple[BacktestConfig, BacktestConfig]) -> tuple[RunScore, RunScore]:
    """One grid point: its in-sample run and its out-of-sample run, each to its figures."""
    inside, outside = plan
    return _score(inside), _score(outside)


def _score(config: BacktestConfig) -> RunScore:
    bars: MemoryBars = _WORKER["bars"]
    data: MarketData = _WORKER["data"]
    picks: PicksSource = _WORKER["picks"]
    holds: dict[tuple[date, date, int], BuyAndHold] = _WORKER.setdefault("holds", {})
    result = run_backtest(config, picks, bars, data=data)
    # Buy-and-hold is the same at every point with the same expiry: worked out once.
    key = (config.start, config.end, config.thresholds.expiry_sessions)
    if key not in holds:
        holds[key] = buy_and_hold_of(result)
    return RunScore.of(config, figures(result, holds[key]))
