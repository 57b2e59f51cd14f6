"""Hand-made bars and picks for the backtest's tests, and the arithmetic of KIS's charges."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from pathlib import Path

from shared.backtest.config import BacktestConfig
from shared.backtest.driver import run_backtest
from shared.backtest.memory_bars import MemoryBars
from shared.backtest.picks_source import PicksDir, PicksSource
from shared.backtest.results import BacktestResult
from shared.backtest.walk import Finder
from shared.infra.clock import KST
from shared.trading.bars import Bar, BarKind

Row = tuple[str, int, int, int, int]
"""A minute bar as written in a test: ("HH:MM", open, high, low, close)."""


def minutes(code: str, day: date, rows: Iterable[Row], volume: int = 100) -> list[Bar]:
    """Minute bars from ``("HH:MM", open, high, low, close)`` rows."""
    return [
        Bar(code, day, time.fromisoformat(at), o, h, low, c, volume) for at, o, h, low, c in rows
    ]


def flat(code: str, day: date, price: int, start: str = "09:00", end: str = "15:20") -> list[Bar]:
    """A bar at ``price`` for every minute from ``start`` to ``end`` (excluded)."""
    first, last = time.fromisoformat(start), time.fromisoformat(end)
    at = first.hour * 60 + first.minute
    stop = last.hour * 60 + last.minute
    return [
        Bar(code, day, time(m // 60, m % 60), price, price, price, price, 100)
        for m in range(at, stop)
    ]


def daily(code: str, day: date, o: int, h: int, low: int, c: int, volume: int = 1000) -> Bar:
    return Bar(code, day, None, o, h, low, c, volume)


def write_picks(directory: Path, picks: Mapping[date, Mapping[str, tuple[str, int]]]) -> Path:
    """One dated JSON file per session, ``{code: [name, target]}`` as live reads them."""
    directory.mkdir(parents=True, exist_ok=True)
    for day, chosen in picks.items():
        body = {code: [name, target] for code, (name, target) in chosen.items()}
        (directory / f"{day.isoformat()}.json").write_text(json.dumps(body, ensure_ascii=False))
    return directory


def run(
    config: BacktestConfig,
    bars: Iterable[Bar],
    picks: PicksSource | Path,
    *,
    halted: Iterable[tuple[str, date, BarKind]] = (),
    finder: Finder | None = None,
) -> BacktestResult:
    source = picks if not isinstance(picks, Path) else PicksDir(picks, config.calendar())
    return run_backtest(config, source, MemoryBars.from_bars(bars, halted), finder)


def at(day: date, clock: str) -> datetime:
    """A KST moment on ``day`` at ``HH:MM[:SS]``."""
    return datetime.combine(day, time.fromisoformat(clock), KST)


def fee(amount: int) -> int:
    """KIS's fee, 0.0140527 % of the amount, cut below one won."""
    return amount * 140_527 // 1_000_000_000


def tax(amount: int) -> int:
    """The sell tax, 0.20 % of the amount, cut below one won."""
    return amount * 2 // 1_000
