"""The market-data TRs: current price (FHKST01010100) and the holiday calendar (CTCA0903R)."""

from __future__ import annotations

from datetime import timedelta

from services.kis_sim.desk import Desk, TrResult, parse_day
from services.kis_sim.holiday_flags import holiday_row
from services.kis_sim.paths import CODE_PATTERN
from services.kis_sim.protocol import Params
from services.kis_sim.views import UNKNOWN_CODE_OUTPUT, price_output

HOLIDAY_DAYS = 28
"""Days chk-holiday lists from BASS_DT on (one answer, no further pages)."""


def quote(desk: Desk, params: Params) -> TrResult:
    """inquire-price: the quote of FID_INPUT_ISCD ("0" prices for a code KIS would not know:
    not 6 digits, or unlisted under ``SIM_UNLISTED_CODES=unknown``)."""
    params.required("FID_COND_MRKT_DIV_CODE")
    code = params.required("FID_INPUT_ISCD")
    if not CODE_PATTERN.match(code) or not desk.market.is_listed(code):
        return TrResult({"output": dict(UNKNOWN_CODE_OUTPUT)})
    quote = desk.market.quote(code, desk.now)
    output = price_output(quote, desk.now.strftime("%Y%m%d"))
    output["rprs_mrkt_kor_name"] = desk.market.listings.market(code)
    return TrResult({"output": output})


def holiday(desk: Desk, params: Params) -> TrResult:
    """chk-holiday: HOLIDAY_DAYS days from BASS_DT, each flag by its own rule
    (:mod:`holiday_flags`)."""
    start = parse_day("BASS_DT", params.required("BASS_DT"))
    rows = [
        holiday_row(desk.calendar, start + timedelta(days=offset)) for offset in range(HOLIDAY_DAYS)
    ]
    return TrResult({"ctx_area_nk": "", "ctx_area_fk": "", "output": rows}, "D")
