"""Weeks and months of KRX sessions: which session ends one, and the days it spans.

See docs/ARCHITECTURE.md, 'Track record' (the weekly and monthly summaries). Pure. A week is
the ISO week (Monday to Sunday) and ends with its last session: Thursday when Friday is a
holiday. A month ends with its last session, whatever the weekday.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from shared.trading.market_calendar import KrxCalendar


class PeriodKind(StrEnum):
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class Period:
    """A calendar week or month: its label (``2026-W10``, ``2026-03``) and its first and last
    calendar days."""

    kind: PeriodKind
    label: str
    start: date
    end: date

    def holds(self, day: date) -> bool:
        return self.start <= day <= self.end


def period_of(kind: PeriodKind, day: date) -> Period:
    """The week or month ``day`` belongs to."""
    if kind is PeriodKind.WEEK:
        year, week, weekday = day.isocalendar()
        monday = day - timedelta(days=weekday - 1)
        return Period(kind, f"{year}-W{week:02d}", monday, monday + timedelta(days=6))
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return Period(kind, f"{day:%Y-%m}", first, following - timedelta(days=1))


def ends_period(calendar: KrxCalendar, kind: PeriodKind, session: date) -> bool:
    """Whether ``session`` is the last KRX session of its week or month."""
    if not calendar.is_session(session):
        return False
    following = calendar.next_session(session, include=False).day
    return not period_of(kind, session).holds(following)


def sessions_in(calendar: KrxCalendar, period: Period, through: date) -> list[date]:
    """The period's sessions up to ``through`` (included), in order."""
    days = []
    day = period.start
    while day <= min(period.end, through):
        if calendar.is_session(day):
            days.append(day)
        day += timedelta(days=1)
    return days
