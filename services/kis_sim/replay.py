"""Stored bars replayed as prices: the points a minute bar becomes, and what the charts keep.

A replayed minute bar becomes four scripted absolute points, its prices in
:func:`shared.trading.bars.bar_path` order (open, low, high, close) at
:func:`shared.trading.bars.path_moments` (the minute's start + 0, 15, 30, 45 s): the same path the
backtest's fast driver walks, so both drivers meet the same prices in the same order
(docs/ARCHITECTURE.md, 'History'). Read back through the chart TRs, the minute gives the same bar:
its open is the first point, its low and high the extremes, its close the last.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time

from shared.trading.bars import Bar, bar_path, path_moments

Point = tuple[datetime, int]


def replay_points(bars: Iterable[Bar]) -> dict[str, list[Point]]:
    """The scripted absolute points of the minute bars among ``bars``, by code (daily bars
    have no moments inside a session and give none)."""
    points: dict[str, list[Point]] = {}
    for bar in bars:
        if bar.minute is None:
            continue
        points.setdefault(bar.code, []).extend(zip(path_moments(bar), bar_path(bar), strict=True))
    return points


@dataclass
class ReplayBook:
    """What the chart TRs answer from for replayed codes: the minutes each replayed (code, day)
    has (with their volume, the one thing the price path does not carry), replayed daily bars,
    and halted days."""

    minutes: dict[tuple[str, date], dict[time, int]] = field(default_factory=dict)
    days: dict[tuple[str, date], Bar] = field(default_factory=dict)
    halted: set[tuple[str, date]] = field(default_factory=set)

    @property
    def codes(self) -> set[str]:
        """Every code with something replayed or halted."""
        return {code for code, _ in [*self.minutes, *self.days, *self.halted]}

    def add(self, bars: Iterable[Bar], halted: Mapping[str, Iterable[date]]) -> list[str]:
        """Keep ``bars`` (a replayed (code, day) replaces an earlier replay of it whole) and the
        ``halted`` days; returns the codes named."""
        fresh: dict[tuple[str, date], dict[time, int]] = {}
        named: set[str] = set(halted)
        for bar in bars:
            key = (bar.code, bar.day)
            named.add(bar.code)
            if bar.minute is None:
                self.days[key] = bar
                self.halted.discard(key)
            else:
                fresh.setdefault(key, {})[bar.minute] = bar.volume
        for key, volumes in fresh.items():
            self.minutes[key] = dict(sorted(volumes.items()))
            self.halted.discard(key)
        for code, days in halted.items():
            for day in days:
                self.halted.add((code, day))
                self.minutes.pop((code, day), None)
                self.days.pop((code, day), None)
        return sorted(named)
