"""What the store holds, per code and kind of bar: its range, the sessions without trades, the
partial ones and the gaps (sessions of the calendar inside the range that nothing covers).

Pure: it reads coverage rows and the calendar. ``kat history show`` prints it; the backtest names
the same gaps and no-trade days in its report (docs/ARCHITECTURE.md, 'History').
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import groupby

from shared.history.store import CoverageRow, Status
from shared.trading.bars import BarKind
from shared.trading.market_calendar import KrxCalendar


@dataclass(frozen=True)
class KindSummary:
    """One code's coverage of one kind of bar."""

    code: str
    kind: BarKind
    first: date
    last: date
    complete: int
    """Sessions with bars stored for good."""
    bars: int
    no_trades: tuple[date, ...]
    partial: tuple[date, ...]
    gaps: tuple[tuple[date, date, int], ...]
    """Runs of uncovered sessions: (first, last, how many sessions)."""
    sources: tuple[str, ...]


def summarize(rows: Iterable[CoverageRow], calendar: KrxCalendar) -> list[KindSummary]:
    """One summary per (code, kind), by code then kind (``day`` before ``minute``)."""
    ordered = sorted(rows, key=lambda r: (r.code, r.kind.value, r.day))
    found = []
    for (code, kind), group in groupby(ordered, key=lambda r: (r.code, r.kind)):
        items = list(group)
        days = {r.day for r in items}
        found.append(
            KindSummary(
                code=code,
                kind=kind,
                first=items[0].day,
                last=items[-1].day,
                complete=sum(1 for r in items if r.status is Status.COMPLETE),
                bars=sum(r.rows for r in items),
                no_trades=tuple(r.day for r in items if r.status is Status.NO_TRADES),
                partial=tuple(r.day for r in items if r.status is Status.PARTIAL),
                gaps=_gaps(calendar, items[0].day, items[-1].day, days),
                sources=tuple(sorted({r.source for r in items})),
            )
        )
    return found


def _gaps(
    calendar: KrxCalendar, first: date, last: date, covered: set[date]
) -> tuple[tuple[date, date, int], ...]:
    missing = []
    day = first
    while day <= last:
        if day not in covered and calendar.is_session(day):
            missing.append(day)
        day += timedelta(days=1)
    return tuple(_runs(calendar, missing))


def _runs(calendar: KrxCalendar, days: Sequence[date]) -> list[tuple[date, date, int]]:
    """Consecutive sessions grouped: a run continues while the next missing day is the very
    next session."""
    runs: list[tuple[date, date, int]] = []
    for day in days:
        if runs and calendar.next_session(runs[-1][1], include=False).day == day:
            start, _, n = runs[-1]
            runs[-1] = (start, day, n + 1)
        else:
            runs.append((day, day, 1))
    return runs
