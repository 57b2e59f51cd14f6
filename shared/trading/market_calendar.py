"""KRX trading sessions: which days trade and when each session opens and closes, in KST."""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from types import MappingProxyType

import holidays

from shared.infra.clock import KST
from shared.infra.settings import Settings

logger = logging.getLogger(__name__)

REGULAR_OPEN = time(9, 0)
"""Regular session open, KST."""
REGULAR_CLOSE = time(15, 30)
"""Regular session close, KST."""
FIRST_SESSION_OPEN = time(10, 0)
"""Open of the first session of each calendar year (KRX's opening ceremony), KST."""
CSAT_OPEN = time(10, 0)
"""Open on the CSAT (수능) day, one hour late so test takers can travel, KST."""
CSAT_CLOSE = time(16, 30)
"""Close on the CSAT day, one hour late, KST."""

CSAT_DATES: Mapping[int, date] = MappingProxyType(
    {
        2024: date(2024, 11, 14),
        2025: date(2025, 11, 13),
        2026: date(2026, 11, 19),
        2027: date(2027, 11, 18),
    }
)
"""CSAT days as announced by the Ministry of Education, by year."""

MAX_SEARCH_DAYS = 400
"""Days a session search walks before giving up (no real KRX closure lasts this long)."""

_NO_SPECIAL_SESSIONS: Mapping[date, tuple[time, time]] = MappingProxyType({})


@functools.cache
def krx_holidays(year: int) -> frozenset[date]:
    """KRX closures of ``year`` from the ``holidays`` package (XKRX), computed once per year."""
    return frozenset(holidays.financial_holidays("XKRX", years=year).keys())


@functools.cache
def csat_day(year: int) -> date:
    """The CSAT day of ``year``: from :data:`CSAT_DATES`, else the third Thursday of November."""
    if year in CSAT_DATES:
        return CSAT_DATES[year]
    # The ministry fixes the date about a year ahead and has used both the second (2024, 2025)
    # and third (2021-2023, 2026, 2027) Thursday of November. The third is the more frequent
    # choice, so it is our guess; a wrong guess shifts a whole day's phases, so say so loudly
    # and let the operator correct it with KRX_SPECIAL_SESSIONS.
    november_first = date(year, 11, 1)
    first_thursday = november_first + timedelta(days=(3 - november_first.weekday()) % 7)
    guess = first_thursday + timedelta(weeks=2)
    logger.warning(
        "CSAT day of %d is not in the table; assuming %s (third Thursday of November). "
        "Set KRX_SPECIAL_SESSIONS to correct it.",
        year,
        guess.isoformat(),
    )
    return guess


@dataclass(frozen=True)
class Session:
    """One KRX trading session."""

    day: date
    opens: datetime
    """Aware, KST."""
    closes: datetime
    """Aware, KST."""


class KrxCalendar:
    """KRX sessions: weekends and XKRX holidays closed, special hours for known days.

    Precedence, most specific first:

    1. ``extra_closed`` days are closed, even if also listed in ``special_sessions``: when the
       configuration contradicts itself, not trading is the safe reading.
    2. ``special_sessions`` days trade at the listed hours, even on a weekend or holiday: the
       operator named that day on purpose, and a weekday session must be able to replace a
       holiday the package gets wrong.
    3. Weekends and XKRX holidays are closed.
    4. The CSAT day trades 10:00-16:30; the year's first session opens at 10:00.
    5. Otherwise 09:00-15:30.
    """

    def __init__(
        self,
        extra_closed: Iterable[date] = (),
        special_sessions: Mapping[date, tuple[time, time]] = _NO_SPECIAL_SESSIONS,
    ) -> None:
        self._extra_closed = frozenset(extra_closed)
        self._special = dict(special_sessions)
        for day, (opens, closes) in self._special.items():
            if opens >= closes:
                raise ValueError(f"special session {day}: opens {opens} is not before {closes}")
        self._first_session_of_year: dict[int, date] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> KrxCalendar:
        """The calendar with ``KRX_EXTRA_CLOSED`` and ``KRX_SPECIAL_SESSIONS`` applied."""
        return cls(settings.krx_extra_closed, settings.krx_special_sessions)

    def is_session(self, day: date) -> bool:
        """Whether KRX trades on ``day``."""
        _check_day(day)
        if day in self._extra_closed:
            return False
        if day in self._special:
            return True
        return day.weekday() < 5 and day not in krx_holidays(day.year)

    def session(self, day: date) -> Session | None:
        """The session on ``day`` with its hours, or None when KRX is closed."""
        if not self.is_session(day):
            return None
        if day in self._special:
            opens, closes = self._special[day]
        else:
            opens, closes = REGULAR_OPEN, REGULAR_CLOSE
            if day.month == 11 and day == csat_day(day.year):
                opens, closes = CSAT_OPEN, CSAT_CLOSE
            if day == self._first_session(day.year):
                opens = FIRST_SESSION_OPEN
        return Session(
            day=day,
            opens=datetime.combine(day, opens, tzinfo=KST),
            closes=datetime.combine(day, closes, tzinfo=KST),
        )

    def next_session(self, day: date, *, include: bool = True) -> Session:
        """The first session on or after ``day`` (strictly after it when ``include`` is False)."""
        start = day if include else day + timedelta(days=1)
        return self._first(_days(start, step=1))

    def previous_session(self, day: date) -> Session:
        """The last session strictly before ``day``."""
        return self._first(_days(day - timedelta(days=1), step=-1))

    def sessions_between(self, start: date, end: date) -> int:
        """How many sessions ``s`` satisfy ``start < s <= end`` (0 when ``end <= start``).

        A position bought in session T expires once ``sessions_between(T, today) >= 5``.
        """
        _check_day(start)
        _check_day(end)
        return sum(
            1
            for offset in range(1, (end - start).days + 1)
            if self.is_session(start + timedelta(days=offset))
        )

    def session_offset(self, day: date, n: int) -> Session:
        """The ``n``-th session after ``day`` (``n >= 1``; ``day`` itself does not count)."""
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        found = self.next_session(day, include=False)
        for _ in range(n - 1):
            found = self.next_session(found.day, include=False)
        return found

    def _first(self, days: Iterator[date]) -> Session:
        for day in days:
            session = self.session(day)
            if session is not None:
                return session
        raise LookupError(f"no KRX session within {MAX_SEARCH_DAYS} days")

    def _first_session(self, year: int) -> date:
        # Memoised per instance because it depends on extra_closed and special_sessions.
        if year not in self._first_session_of_year:
            day = date(year, 1, 1)
            while not self.is_session(day):
                day += timedelta(days=1)
            self._first_session_of_year[year] = day
        return self._first_session_of_year[year]


def _days(start: date, step: int) -> Iterator[date]:
    _check_day(start)
    for offset in range(MAX_SEARCH_DAYS):
        yield start + timedelta(days=offset * step)


def _check_day(day: date) -> None:
    # A datetime is a date subclass, so it would slip through and never match the holiday set;
    # its calendar day also depends on its time zone, which only the caller knows.
    if isinstance(day, datetime):
        raise TypeError(f"expected a date, got the datetime {day!r}: pass clock.now().date()")
