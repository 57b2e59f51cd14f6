"""Weeks and months of KRX sessions (docs/ARCHITECTURE.md, 'Track record'): which session ends
one, on the real calendar of 2026."""

from __future__ import annotations

from datetime import date

import pytest

from shared.trading.market_calendar import KrxCalendar
from shared.trading.periods import PeriodKind, ends_period, period_of, sessions_in

CALENDAR = KrxCalendar()
WEEK, MONTH = PeriodKind.WEEK, PeriodKind.MONTH


@pytest.mark.parametrize(
    ("day", "week", "month"),
    [
        (date(2026, 3, 6), True, False),  # an ordinary Friday
        (date(2026, 3, 5), False, False),  # Thursday before a trading Friday
        (date(2026, 4, 30), True, True),  # Thursday: Friday 1 May is Labour Day, KRX closed
        (date(2026, 3, 31), False, True),  # Tuesday, the month's last session
        (date(2026, 5, 29), True, True),  # Friday and the month's last session
        (date(2026, 5, 1), False, False),  # a holiday is no session at all
        (date(2026, 3, 7), False, False),  # a Saturday
    ],
)
def test_the_last_session_ends_its_week_and_month(day: date, week: bool, month: bool) -> None:
    assert ends_period(CALENDAR, WEEK, day) is week
    assert ends_period(CALENDAR, MONTH, day) is month


def test_a_week_closed_on_friday_by_configuration_ends_on_thursday() -> None:
    calendar = KrxCalendar(extra_closed=[date(2026, 3, 6)])
    assert ends_period(calendar, WEEK, date(2026, 3, 5))
    assert not ends_period(calendar, WEEK, date(2026, 3, 6))


def test_periods_are_iso_weeks_and_calendar_months() -> None:
    week = period_of(WEEK, date(2025, 12, 31))
    assert (week.label, week.start, week.end) == ("2026-W01", date(2025, 12, 29), date(2026, 1, 4))
    month = period_of(MONTH, date(2026, 2, 10))
    assert (month.label, month.start, month.end) == ("2026-02", date(2026, 2, 1), date(2026, 2, 28))


def test_sessions_of_a_period_skip_weekends_and_holidays() -> None:
    week = period_of(WEEK, date(2026, 4, 30))
    assert sessions_in(CALENDAR, week, date(2026, 4, 30)) == [
        date(2026, 4, 27),
        date(2026, 4, 28),
        date(2026, 4, 29),
        date(2026, 4, 30),
    ]
    month = period_of(MONTH, date(2026, 4, 30))
    assert len(sessions_in(CALENDAR, month, date(2026, 4, 30))) == 22
