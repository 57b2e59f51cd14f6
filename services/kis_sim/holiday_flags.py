"""chk-holiday's four flags for one day, each from its own rule.

KIS answers ``bzdy_yn`` 영업일 (business day), ``tr_day_yn`` 거래일 (day transfers and deposits
work), ``opnd_yn`` 개장일 (the market opens: "use this to decide if orders are possible") and
``sttl_day_yn`` 결제일 (settlement happens) (official ``chk_holiday.py`` and its column names in
koreainvestment/open-trading-api). The simulator derives them as follows:

- business day and transfer day: a weekday that is not a Korean public holiday
  (``holidays.country_holidays("KR")``);
- open day: a KRX session in the shared calendar (with ``KRX_EXTRA_CLOSED`` and
  ``KRX_SPECIAL_SESSIONS``);
- settlement day: an open day (KRX settles only on sessions, so D+2 skips closures).

So they differ on KRX-only closures: the year-end closing day (Dec 31), Labour Day (May 1,
until 2025) and any ``KRX_EXTRA_CLOSED`` weekday are business days without a session or a
settlement. How KIS flags those exact days is inferred, not observed (module README).
"""

from __future__ import annotations

import functools
from datetime import date

import holidays

from shared.trading.market_calendar import KrxCalendar


@functools.cache
def _public_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("KR", years=year).keys())


def is_business_day(day: date) -> bool:
    """A weekday that is not a Korean public holiday."""
    return day.weekday() < 5 and day not in _public_holidays(day.year)


def holiday_row(calendar: KrxCalendar, day: date) -> dict[str, str]:
    """One ``output`` row of chk-holiday."""
    business = "Y" if is_business_day(day) else "N"
    open_day = "Y" if calendar.is_session(day) else "N"
    return {
        "bass_dt": day.strftime("%Y%m%d"),
        # KIS numbers weekdays from Sunday = 01 to Saturday = 07.
        "wday_dvsn_cd": f"{(day.weekday() + 1) % 7 + 1:02d}",
        "bzdy_yn": business,
        "tr_day_yn": business,
        "opnd_yn": open_day,
        "sttl_day_yn": open_day,
    }
