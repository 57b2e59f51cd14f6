"""One code's bars of one session, ready to walk: each bar's prices and its points' moments.

See docs/ARCHITECTURE.md, 'Backtest'. A minute bar's points are
:func:`shared.trading.bars.path_moments`; a daily bar's (the coarse model) are
:func:`shared.backtest.fill_model.daily_point_times`. The candidate search reads the columns;
the rules see one bar at a time through :meth:`SessionPath.points`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

import numpy as np

from shared.backtest.bar_source import BarArrays, IntArray
from shared.backtest.fill_model import (
    STEP_SECONDS,
    daily_point_times,
    moment_at,
    seconds_of_day,
)
from shared.trading.bars import Bar, bar_path, path_moments
from shared.trading.market_calendar import Session
from shared.trading.rules import Thresholds


@dataclass(frozen=True)
class Point:
    """One point of a bar's path: where in the session, and the price."""

    bar: int
    index: int
    """0 to 3: open, low, high, close."""
    seconds: int
    """Seconds after midnight KST."""
    moment: datetime
    price: int


@dataclass(frozen=True, eq=False)
class SessionPath:
    """The bars of ``code`` on ``day`` in time order; ``first``/``last`` are the seconds of
    day of each bar's first and last point (both ascending)."""

    code: str
    day: date
    daily: bool
    bars: BarArrays
    first: IntArray
    last: IntArray
    daily_times: tuple[int, int, int, int] = (0, 0, 0, 0)

    @classmethod
    def of_minutes(cls, code: str, day: date, bars: BarArrays) -> SessionPath:
        first = bars.minute * 60
        return cls(code, day, False, bars, first, first + 3 * STEP_SECONDS)

    @classmethod
    def of_day(
        cls, code: str, session: Session, bars: BarArrays, thresholds: Thresholds
    ) -> SessionPath:
        times = daily_point_times(session, thresholds)
        first = np.array([times[0]], dtype=np.int64)
        last = np.array([times[-1]], dtype=np.int64)
        return cls(code, session.day, True, bars, first, last, times)

    def __len__(self) -> int:
        return len(self.bars)

    def bar(self, i: int) -> Bar:
        b = self.bars
        minute = None if self.daily else time(int(b.minute[i]) // 60, int(b.minute[i]) % 60)
        return Bar(
            self.code,
            self.day,
            minute,
            int(b.open[i]),
            int(b.high[i]),
            int(b.low[i]),
            int(b.close[i]),
            int(b.volume[i]),
        )

    def points(self, i: int) -> list[Point]:
        """Bar ``i``'s path: its prices in :func:`bar_path` order, each at its moment."""
        bar = self.bar(i)
        prices = bar_path(bar)
        if self.daily:
            moments = tuple(moment_at(self.day, s) for s in self.daily_times)
        else:
            moments = path_moments(bar)
        return [
            Point(i, k, seconds_of_day(moment), moment, price)
            for k, (moment, price) in enumerate(zip(moments, prices, strict=True))
        ]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The bars with a point in the seconds of day ``[start, end)``, as an index range."""
        lo = int(np.searchsorted(self.last, start, side="left"))
        hi = int(np.searchsorted(self.first, end, side="left"))
        return lo, max(lo, hi)
