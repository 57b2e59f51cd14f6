"""Bars as columns: numpy arrays of many (code, day) groups, sliced without copies.

What :class:`shared.history.store.BarStore` returns to the backtest (docs/ARCHITECTURE.md,
'History'): the fast driver scans these arrays with numpy and turns single rows into
:class:`shared.trading.bars.Bar` only where the rules must look.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from shared.trading.bars import Bar

EPOCH_DAY = date(1970, 1, 1)
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class DayBars:
    """One code's minute bars of one session, columnar and in time order.

    The arrays are read-only views into :class:`MinuteBars` (no copy): ``minute`` is each bar's
    start in minutes after midnight KST, prices are won and volume shares, all int64.
    """

    code: str
    day: date
    minute: Ints
    open: Ints
    high: Ints
    low: Ints
    close: Ints
    volume: Ints

    def __len__(self) -> int:
        return len(self.minute)

    def bar(self, i: int) -> Bar:
        """Bar ``i`` as a :class:`Bar` (slow: for tests, reports and the replay, not the loop)."""
        m = int(self.minute[i])
        return Bar(
            self.code,
            self.day,
            time(m // 60, m % 60),
            int(self.open[i]),
            int(self.high[i]),
            int(self.low[i]),
            int(self.close[i]),
            int(self.volume[i]),
        )

    def bars(self) -> list[Bar]:
        """Every bar as a :class:`Bar`, in time order."""
        return [self.bar(i) for i in range(len(self))]


@dataclass(frozen=True)
class MinuteBars:
    """Minute bars of many codes and sessions, read in one query.

    The columns hold every row, grouped by (code, day) with minutes ascending inside a group;
    :meth:`day` slices one group without copying. ``spans`` maps (code, day) to its row range.
    """

    minute: Ints
    open: Ints
    high: Ints
    low: Ints
    close: Ints
    volume: Ints
    spans: Mapping[tuple[str, date], tuple[int, int]]

    def __len__(self) -> int:
        return len(self.minute)

    def day(self, code: str, day: date) -> DayBars | None:
        """The bars of ``code`` on ``day``, or None when none are stored."""
        span = self.spans.get((code, day))
        if span is None:
            return None
        s = slice(*span)
        return DayBars(
            code,
            day,
            self.minute[s],
            self.open[s],
            self.high[s],
            self.low[s],
            self.close[s],
            self.volume[s],
        )

    def days(self, code: str) -> list[date]:
        """The sessions of ``code`` with bars, in order."""
        return sorted(day for c, day in self.spans if c == code)


@dataclass(frozen=True)
class DailySeries:
    """One code's daily bars over a range, columnar, one row a session in date order.

    ``day`` is numpy ``datetime64[D]``; prices won, volume shares (int64); ``lock_code``,
    ``split_rate`` and ``modified`` are KIS's adjustment fields (:class:`Adjustment`).
    """

    code: str
    day: npt.NDArray[np.datetime64]
    open: Ints
    high: Ints
    low: Ints
    close: Ints
    volume: Ints
    lock_code: tuple[str, ...]
    split_rate: npt.NDArray[np.float64]
    modified: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.day)

    def dates(self) -> list[date]:
        """``day`` as dates."""
        return [EPOCH_DAY + timedelta(days=int(d)) for d in self.day.astype(np.int64)]

    def bars(self) -> list[Bar]:
        """Every bar as a :class:`Bar` (slow: for tests and reports)."""
        return [
            Bar(
                self.code,
                d,
                None,
                int(self.open[i]),
                int(self.high[i]),
                int(self.low[i]),
                int(self.close[i]),
                int(self.volume[i]),
            )
            for i, d in enumerate(self.dates())
        ]


def ints(values: Any) -> Ints:
    return np.asarray(values, dtype=np.int64)


def group_minutes(codes: list[str], data: Mapping[str, Any]) -> MinuteBars:
    """Columns grouped by (code, day), minutes ascending inside each group.

    Each (code, day) is inserted whole and sorted, and a one-thread scan returns rows in insertion
    order, so they come grouped already; that is checked, and sorted here only if it does not
    hold (a parallel scan, measured, splits some groups).
    """
    ci = np.asarray(data["ci"], dtype=np.int64)
    day = np.asarray(data["d"], dtype=np.int64)
    minute = np.asarray(data["minute"], dtype=np.int64)
    columns = {name: ints(data[name]) for name in ("open", "high", "low", "close", "volume")}
    starts = _group_starts(ci, day)
    if not _grouped(ci, day, minute, starts):
        order = np.argsort((ci << 40) | (day << 16) | minute, kind="stable")
        ci, day, minute = ci[order], day[order], minute[order]
        columns = {name: values[order] for name, values in columns.items()}
        starts = _group_starts(ci, day)
    stops = np.append(starts[1:], len(ci)) if len(starts) else starts
    spans = {
        (codes[int(ci[a])], EPOCH_DAY + timedelta(days=int(day[a]))): (int(a), int(b))
        for a, b in zip(starts, stops, strict=True)
    }
    for values in (minute, *columns.values()):
        values.flags.writeable = False
    return MinuteBars(minute, spans=spans, **columns)


def _group_starts(ci: Ints, day: Ints) -> Ints:
    if len(ci) == 0:
        return np.zeros(0, dtype=np.int64)
    changes = np.flatnonzero((ci[1:] != ci[:-1]) | (day[1:] != day[:-1])) + 1
    return np.concatenate(([0], changes)).astype(np.int64)


def _grouped(ci: Ints, day: Ints, minute: Ints, starts: Ints) -> bool:
    """Whether each (code, day) is one run of rows with minutes strictly ascending."""
    keys = ci[starts] * 10_000_000 + day[starts]
    if len(np.unique(keys)) != len(keys):
        return False
    rising = np.diff(minute) > 0
    boundary = np.zeros(len(rising), dtype=bool)
    boundary[starts[1:] - 1] = True
    return bool(np.all(rising | boundary))
