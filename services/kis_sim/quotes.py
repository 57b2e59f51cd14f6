"""The market-data TRs: current price (FHKST01010100) and the holiday calendar (CTCA0903R)."""

from __future__ import annotations

from datetime import timedelta

from services.kis_sim.desk import Desk, TrResult, parse_day
from services.kis_sim.paths import CODE_PATTERN
from services.kis_sim.protocol import Params
from services.kis_sim.views import UNKNOWN_CODE_OUTPUT, price_output

HOLIDAY_DAYS = 28
"""Days chk-holiday lists from BASS_DT on (one answer, no further pages)."""


def quote(desk: Desk, params: Params) -> TrResult:
    """inquire-price: the quote of FID_INPUT_ISCD ("0" prices for a code that is not 6 digits)."""
    params.required("FID_COND_MRKT_DIV_CODE")
    code = params.required("FID_INPUT_ISCD")
    if not CODE_PATTERN.match(code):
        return TrResult({"output": dict(UNKNOWN_CODE_OUTPUT)})
    return TrResult({"output": price_output(desk.market.quote(code, desk.now))})


def holiday(desk: Desk, params: Params) -> TrResult:
    """chk-holiday: HOLIDAY_DAYS days from BASS_DT, every flag from the KRX calendar.

    The calendar knows trading days only, so 영업일/거래일/개장일/결제일 all read the same.
    """
    start = parse_day("BASS_DT", params.required("BASS_DT"))
    rows = []
    for offset in range(HOLIDAY_DAYS):
        day = start + timedelta(days=offset)
        flag = "Y" if desk.calendar.is_session(day) else "N"
        rows.append(
            {
                "bass_dt": day.strftime("%Y%m%d"),
                # KIS numbers weekdays from Sunday = 01 to Saturday = 07.
                "wday_dvsn_cd": f"{(day.weekday() + 1) % 7 + 1:02d}",
                "bzdy_yn": flag,
                "tr_day_yn": flag,
                "opnd_yn": flag,
                "sttl_day_yn": flag,
            }
        )
    return TrResult({"ctx_area_nk": "", "ctx_area_fk": "", "output": rows}, "D")
