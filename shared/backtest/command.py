"""``kat backtest``: from the command line's values to a written report (the CLI only parses);
``kat backtest --sweep``: to a written sweep.

See docs/ARCHITECTURE.md, 'Backtest'. Bad input (dates, picks, a range without sessions, no bars
at all, a bad grid, split or metric) raises :class:`BacktestInputError` with one line for the
user.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from shared.backtest.bar_source import BarSource
from shared.backtest.config import DEFAULT_CASH, DEFAULT_SLIPPAGE_TICKS, BacktestConfig
from shared.backtest.driver import run_backtest
from shared.backtest.layout import BACKTESTS
from shared.backtest.market_data import BacktestInputError
from shared.backtest.memory_bars import MemoryBars
from shared.backtest.picks_source import PicksDir, PicksSource, Universe
from shared.backtest.results import BacktestResult
from shared.backtest.store_bars import StoreBars
from shared.backtest.summary import run_id, write_report
from shared.backtest.sweep import DEFAULT_SPLIT, run_sweep, split_range
from shared.backtest.sweep_grid import parse_grid
from shared.backtest.sweep_report import sweep_id, write_sweep
from shared.backtest.sweep_results import Metric, SweepResult
from shared.history.csv_import import CsvError
from shared.history.store import BarStore, StoreError, store_path
from shared.infra.settings import Settings
from shared.trading.bars import BarError, BarKind
from shared.trading.market_calendar import KrxCalendar
from shared.trading.picks import parse_session_date


@dataclass(frozen=True)
class BacktestRequest:
    """What the user asked for, as given on the command line."""

    start: str
    end: str
    picks_dir: Path | None = None
    universe: str | None = None
    cash: int = DEFAULT_CASH
    bars: str = BarKind.MINUTE.value
    out: Path | None = None
    bars_csv: Path | None = None
    slippage_ticks: int = DEFAULT_SLIPPAGE_TICKS


def config_of(request: BacktestRequest, settings: Settings) -> BacktestConfig:
    """The run's config: the request's range and options, live's settings for the rest."""
    start = _date(request.start, "--from")
    end = _date(request.end, "--to")
    if start > end:
        raise BacktestInputError(f"--from {start} is after --to {end}")
    if request.cash <= 0:
        raise BacktestInputError(f"--cash must be a positive number of won, got {request.cash}")
    if request.slippage_ticks < 0:
        raise BacktestInputError(
            f"--slippage-ticks must be 0 or more, got {request.slippage_ticks}"
        )
    picks = (
        f"picks dir {request.picks_dir}"
        if request.picks_dir is not None
        else f"universe {request.universe}"
    )
    return BacktestConfig.from_settings(
        settings,
        start,
        end,
        cash=request.cash,
        bars=BarKind(request.bars),
        picks=picks,
        slippage_ticks=request.slippage_ticks,
    )


def picks_of(request: BacktestRequest, config: BacktestConfig) -> PicksSource:
    if request.picks_dir is not None:
        return PicksDir(request.picks_dir, config.calendar())
    if request.universe is not None:
        return Universe(request.universe.split(","))
    raise BacktestInputError("give --picks-dir DIR or --universe CODES")


@contextlib.contextmanager
def bar_source(request: BacktestRequest, settings: Settings) -> Iterator[BarSource]:
    """The bars to replay: ``--bars-csv`` read into memory, else the bar store, read only."""
    if request.bars_csv is not None:
        try:
            bars = MemoryBars.from_csv(request.bars_csv, KrxCalendar.from_settings(settings))
        except (CsvError, BarError, OSError) as e:
            raise BacktestInputError(f"--bars-csv: {e}") from None
        yield bars
        return
    path = store_path(settings.data_dir)
    if not path.exists():
        raise BacktestInputError(
            f"no bar store at {path}: fetch bars with 'kat history fetch' or import them with "
            "'kat history import', or give them with --bars-csv FILE"
        )
    try:
        store = BarStore.open(path, read_only=True)
    except StoreError as e:
        raise BacktestInputError(f"the bar store at {path}: {e}") from None
    with store:
        yield StoreBars(store)


def run(request: BacktestRequest, settings: Settings, now: datetime) -> tuple[BacktestResult, Path]:
    """Run the backtest and write its report; the result and the report's path."""
    config = config_of(request, settings)
    picks = picks_of(request, config)
    with bar_source(request, settings) as bars:
        result = run_backtest(config, picks, bars)
    directory = request.out or settings.data_dir / BACKTESTS / run_id(result, now)
    return result, write_report(result, directory, now)


def _date(text: str, option: str) -> date:
    try:
        return parse_session_date(text)
    except ValueError as e:
        raise BacktestInputError(f"{option}: {e}") from None


@dataclass(frozen=True)
class SweepRequest:
    """A sweep as given on the command line: the backtest's options and the grid."""

    backtest: BacktestRequest
    grid: tuple[str, ...]
    metric: str = Metric.RETURN.value
    split: str = str(DEFAULT_SPLIT)
    workers: int | None = None


def sweep(
    request: SweepRequest, settings: Settings, now: datetime
) -> tuple[SweepResult, Path, float]:
    """Run the sweep and write it; the result, its page's path and the seconds it ran."""
    config = config_of(request.backtest, settings)
    axes = parse_grid(request.grid)
    try:
        metric = Metric(request.metric)
    except ValueError:
        names = ", ".join(m.value for m in Metric)
        raise BacktestInputError(f"--metric {request.metric}: one of {names}") from None
    split = _split(request.split)
    split_range(config, split)  # a split that leaves a part empty is refused before any run
    if request.workers is not None and request.workers < 1:
        raise BacktestInputError(f"--workers must be 1 or more, got {request.workers}")
    picks = picks_of(request.backtest, config)
    started = time.perf_counter()
    with bar_source(request.backtest, settings) as bars:
        result = run_sweep(config, picks, bars, axes, metric, split, request.workers)
    seconds = time.perf_counter() - started
    directory = request.backtest.out or settings.data_dir / BACKTESTS / sweep_id(result, now)
    return result, write_sweep(result, directory, now), seconds


def _split(text: str) -> Decimal:
    try:
        split = Decimal(text)
    except InvalidOperation:
        split = Decimal("NaN")
    if not split.is_finite() or not Decimal(0) < split < Decimal(1):
        raise BacktestInputError(
            f"--split must be between 0 and 1 (0.7: 70 % in-sample), got {text}"
        )
    return split
