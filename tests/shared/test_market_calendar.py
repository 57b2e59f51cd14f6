"""KRX calendar: holidays, special sessions, session arithmetic, and no dependence on the TZ."""

from __future__ import annotations

import os
import time as time_module
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest

from shared.infra.clock import KST
from shared.infra.settings import load_settings
from shared.trading.market_calendar import (
    REGULAR_CLOSE,
    REGULAR_OPEN,
    KrxCalendar,
    Session,
    csat_day,
    krx_holidays,
)

CAL = KrxCalendar()


def hours(session: Session | None) -> tuple[time, time]:
    assert session is not None
    assert session.opens.tzinfo is KST and session.closes.tzinfo is KST
    assert session.opens.date() == session.day == session.closes.date()
    return session.opens.timetz().replace(tzinfo=None), session.closes.timetz().replace(tzinfo=None)


@pytest.mark.parametrize(
    "day",
    [
        date(2025, 6, 3),  # presidential election
        date(2026, 6, 3),  # local elections
        date(2025, 12, 31),  # year-end closure
        date(2026, 12, 31),
        date(2026, 1, 1),
        date(2026, 2, 16),  # Lunar New Year
        date(2026, 2, 17),
        date(2026, 2, 18),
        date(2025, 10, 6),  # Chuseok
        date(2025, 5, 1),  # Workers' Day: exchange closed, not a public holiday
        date(2025, 11, 15),  # Saturday
        date(2025, 11, 16),  # Sunday
    ],
)
def test_closed_days(day: date) -> None:
    assert not CAL.is_session(day)
    assert CAL.session(day) is None


def test_regular_day_trades_nine_to_half_past_three() -> None:
    session = CAL.session(date(2025, 11, 12))
    assert hours(session) == (REGULAR_OPEN, REGULAR_CLOSE) == (time(9), time(15, 30))
    assert session is not None
    assert session.opens == datetime(2025, 11, 12, 9, 0, tzinfo=ZoneInfo("Asia/Seoul"))
    assert session.opens.utcoffset() == timedelta(hours=9)


@pytest.mark.parametrize("day", [date(2025, 1, 2), date(2026, 1, 2)])
def test_first_session_of_the_year_opens_at_ten(day: date) -> None:
    assert hours(CAL.session(day)) == (time(10), time(15, 30))
    # The day after is an ordinary session again.
    assert hours(CAL.next_session(day, include=False)) == (time(9), time(15, 30))


def test_first_session_moves_when_the_second_of_january_is_closed() -> None:
    calendar = KrxCalendar(extra_closed=[date(2026, 1, 2)])
    assert calendar.next_session(date(2026, 1, 1)).day == date(2026, 1, 5)
    assert hours(calendar.session(date(2026, 1, 5))) == (time(10), time(15, 30))


@pytest.mark.parametrize("day", [date(2024, 11, 14), date(2025, 11, 13), date(2026, 11, 19)])
def test_csat_day_trades_ten_to_half_past_four(day: date) -> None:
    assert hours(CAL.session(day)) == (time(10), time(16, 30))
    assert hours(CAL.session(day - timedelta(days=1))) == (time(9), time(15, 30))


def test_csat_fallback_is_the_third_thursday_of_november() -> None:
    guess = csat_day(2031)
    assert guess == date(2031, 11, 20)
    assert guess.weekday() == 3 and 15 <= guess.day <= 21
    assert hours(CAL.session(guess)) == (time(10), time(16, 30))


def test_next_session_across_chuseok() -> None:
    assert CAL.next_session(date(2025, 10, 2)).day == date(2025, 10, 2)
    assert CAL.next_session(date(2025, 10, 2), include=False).day == date(2025, 10, 10)
    assert CAL.next_session(date(2025, 10, 3)).day == date(2025, 10, 10)
    assert CAL.previous_session(date(2025, 10, 10)).day == date(2025, 10, 2)
    assert CAL.previous_session(date(2025, 10, 2)).day == date(2025, 10, 1)


def test_next_session_across_the_year_end() -> None:
    session = CAL.next_session(date(2025, 12, 31))
    assert session.day == date(2026, 1, 2)
    assert hours(session) == (time(10), time(15, 30))
    assert CAL.previous_session(date(2026, 1, 2)).day == date(2025, 12, 30)


def expected_sessions_after(day: date, count: int) -> list[date]:
    """The next ``count`` weekdays after ``day`` that the holidays package does not close."""
    closed = holidays.financial_holidays("XKRX", years=[day.year, day.year + 1])
    found: list[date] = []
    while len(found) < count:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in closed:
            found.append(day)
    return found


def test_position_bought_before_chuseok_expires_on_the_fifth_session() -> None:
    bought = date(2025, 9, 30)
    expected = expected_sessions_after(bought, 5)
    assert expected == [
        date(2025, 10, 1),
        date(2025, 10, 2),
        date(2025, 10, 10),
        date(2025, 10, 13),
        date(2025, 10, 14),
    ]
    fifth = CAL.session_offset(bought, 5)
    assert fifth.day == date(2025, 10, 14)
    assert CAL.sessions_between(bought, date(2025, 10, 13)) == 4
    assert CAL.sessions_between(bought, fifth.day) == 5
    assert CAL.sessions_between(bought, date(2025, 10, 9)) == 2  # holidays do not count
    assert [CAL.session_offset(bought, n).day for n in range(1, 6)] == expected


def test_sessions_between_edges() -> None:
    assert CAL.sessions_between(date(2025, 11, 12), date(2025, 11, 12)) == 0
    assert CAL.sessions_between(date(2025, 11, 12), date(2025, 11, 1)) == 0
    assert CAL.sessions_between(date(2025, 11, 14), date(2025, 11, 16)) == 0  # Fri -> Sun
    assert CAL.sessions_between(date(2025, 11, 14), date(2025, 11, 17)) == 1
    with pytest.raises(ValueError, match="n must be >= 1"):
        CAL.session_offset(date(2025, 11, 14), 0)


def test_sessions_in_2025_and_2026_match_the_holidays_package() -> None:
    closed = holidays.financial_holidays("XKRX", years=[2025, 2026])
    day = date(2025, 1, 1)
    while day <= date(2026, 12, 31):
        assert CAL.is_session(day) == (day.weekday() < 5 and day not in closed), day
        day += timedelta(days=1)
    assert CAL.sessions_between(date(2024, 12, 31), date(2025, 12, 31)) == sum(
        1
        for n in range(365)
        if (d := date(2025, 1, 1) + timedelta(days=n)).weekday() < 5 and d not in closed
    )


def test_extra_closed_and_special_sessions_from_settings() -> None:
    settings = load_settings(
        {
            "KRX_EXTRA_CLOSED": "2025-11-12, 2025-11-25",
            "KRX_SPECIAL_SESSIONS": "2025-11-20=09:00-13:00,2025-11-22=10:00-12:00",
        }
    )
    calendar = KrxCalendar.from_settings(settings)
    assert not calendar.is_session(date(2025, 11, 12))
    assert calendar.session(date(2025, 11, 25)) is None
    assert calendar.next_session(date(2025, 11, 12)).day == date(2025, 11, 13)
    assert calendar.sessions_between(date(2025, 11, 11), date(2025, 11, 13)) == 1
    assert hours(calendar.session(date(2025, 11, 20))) == (time(9), time(13))
    # A special session on a Saturday makes it a session, because it is listed explicitly.
    assert hours(calendar.session(date(2025, 11, 22))) == (time(10), time(12))
    assert calendar.next_session(date(2025, 11, 22)).day == date(2025, 11, 22)
    # The default calendar is unaffected by another instance's settings.
    assert CAL.is_session(date(2025, 11, 12))
    assert not CAL.is_session(date(2025, 11, 22))


def test_special_session_overrides_csat_and_first_session_hours() -> None:
    calendar = KrxCalendar(
        special_sessions={
            date(2025, 11, 13): (time(10), time(16)),
            date(2026, 1, 2): (time(9), time(15, 30)),
        }
    )
    assert hours(calendar.session(date(2025, 11, 13))) == (time(10), time(16))
    assert hours(calendar.session(date(2026, 1, 2))) == (time(9), time(15, 30))


def test_extra_closed_wins_over_a_special_session() -> None:
    day = date(2025, 11, 20)
    calendar = KrxCalendar(extra_closed=[day], special_sessions={day: (time(9), time(12))})
    assert calendar.session(day) is None


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="not before"):
        KrxCalendar(special_sessions={date(2025, 11, 20): (time(15), time(9))})
    with pytest.raises(TypeError, match="expected a date"):
        CAL.is_session(datetime(2025, 11, 12, 10, tzinfo=KST))


@pytest.fixture
def new_york_tz() -> Iterator[None]:
    previous = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time_module.tzset()
    try:
        yield
    finally:
        if previous is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = previous
        time_module.tzset()


@pytest.mark.usefixtures("new_york_tz")
def test_sessions_are_in_kst_whatever_the_machine_tz() -> None:
    assert time_module.localtime(0).tm_zone in ("EST", "EDT")
    session = KrxCalendar().session(date(2025, 11, 13))
    assert session is not None
    assert session.opens.isoformat() == "2025-11-13T10:00:00+09:00"
    assert session.closes.isoformat() == "2025-11-13T16:30:00+09:00"
    utc_open = datetime.fromisoformat("2025-11-13T01:00:00+00:00")
    assert session.opens.timestamp() == utc_open.timestamp()
    # Converting to the local zone shows the evening before in New York, and the calendar
    # still reasons about the KST day.
    assert session.opens.astimezone().day == 12


def test_holidays_are_built_once_per_year() -> None:
    calendar = KrxCalendar()
    calendar.sessions_between(date(2027, 1, 1), date(2027, 12, 31))
    misses = krx_holidays.cache_info().misses
    for _ in range(200):
        calendar.next_session(date(2027, 6, 1))
        calendar.sessions_between(date(2027, 3, 1), date(2027, 3, 31))
    assert krx_holidays.cache_info().misses == misses
