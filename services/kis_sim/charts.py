"""The chart TRs: daily bars (FHKST03010100), a past day's minute bars (FHKST03010230) and
today's minute bars (FHKST03010200), in KIS's shape (docs/ARCHITECTURE.md, 'History').

Parameters, caps and fields: koreainvestment/open-trading-api, ``examples_llm/domestic_stock/
{inquire_daily_itemchartprice,inquire_time_dailychartprice,inquire_time_itemchartprice}/`` (the
function's docstring and ``chk_*.py``'s COLUMN_MAPPING). ``output1`` is the code's quote now,
``output2`` the bars, newest first, every value a string. No ``tr_cont`` paging: a client asks
again with an earlier date or time, as KIS's own backtester does.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from services.kis_sim.chart_bars import daily_bar, minute_bars
from services.kis_sim.desk import Desk, TrResult, one_of, parse_day
from services.kis_sim.fields import PRICE_CONSTANTS
from services.kis_sim.market import Quote
from services.kis_sim.paths import CODE_PATTERN
from services.kis_sim.protocol import Params, invalid
from services.kis_sim.views import ratio
from shared.infra.clock import KST
from shared.trading.bars import Bar

DAILY_ROWS = 100
"""Sessions in one daily answer (OTA: 한 번의 호출에 최대 100건)."""
MINUTE_ROWS = 120
"""Minutes in one past-day answer (OTA: 한 번의 호출에 최대 120건)."""
TODAY_MINUTE_ROWS = 30
"""Minutes in one today's answer (OTA: 한 번의 호출에 최대 30건)."""
MINUTE_RETENTION = timedelta(days=365)
"""KIS keeps about a year of minute bars (OTA: 최대 1년 분봉 보관): older days answer none."""

FLAGS = ("Y", "N", "")


def daily_chart(desk: Desk, params: Params) -> TrResult:
    """inquire-daily-itemchartprice: the newest 100 sessions from FID_INPUT_DATE_1 to
    FID_INPUT_DATE_2 (``D`` periods only; original and adjusted prices are the same here)."""
    code = _code(params)
    start = parse_day("FID_INPUT_DATE_1", params.required("FID_INPUT_DATE_1"))
    end = parse_day("FID_INPUT_DATE_2", params.required("FID_INPUT_DATE_2"))
    one_of(params, "FID_PERIOD_DIV_CODE", ("D",))
    one_of(params, "FID_ORG_ADJ_PRC", ("0", "1"))
    if not _listed(desk, code):
        return TrResult({"output1": _unknown_header(daily=True), "output2": []})
    rows: list[dict[str, str]] = []
    day = min(end, desk.now.date())
    while day >= start and len(rows) < DAILY_ROWS:
        session = desk.calendar.session(day)
        bar = daily_bar(desk.market, code, session, desk.now) if session else None
        if bar is not None:
            previous = desk.calendar.previous_session(day)
            before = daily_bar(desk.market, code, previous, desk.now)
            rows.append(_daily_row(bar, before.close if before else bar.open))
        day -= timedelta(days=1)
    return TrResult({"output1": _header(desk, code, daily=True), "output2": rows})


def minute_chart(desk: Desk, params: Params) -> TrResult:
    """inquire-time-dailychartprice: up to 120 minutes of FID_INPUT_DATE_1 at or before
    FID_INPUT_HOUR_1, newest first; with FID_PW_DATA_INCU_YN=Y earlier sessions fill the
    answer up. Nothing for a day in the future or older than :data:`MINUTE_RETENTION`."""
    code = _code(params)
    hour = _hour(params)
    day = parse_day("FID_INPUT_DATE_1", params.required("FID_INPUT_DATE_1"))
    earlier = params.optional("FID_PW_DATA_INCU_YN").upper() == "Y"
    _flag(params, "FID_PW_DATA_INCU_YN")
    _flag(params, "FID_FAKE_TICK_INCU_YN")
    if not _listed(desk, code):
        return TrResult({"output1": _unknown_header(daily=False), "output2": []})
    started_by: datetime | None = datetime.combine(day, hour, KST)
    oldest = desk.now.date() - MINUTE_RETENTION
    rows: list[dict[str, str]] = []
    while day >= oldest and len(rows) < MINUTE_ROWS:
        session = desk.calendar.session(day)
        if session is not None and day <= desk.now.date():
            bars = minute_bars(desk.market, code, session, desk.now, started_by)
            rows.extend(_minute_rows(bars, MINUTE_ROWS - len(rows)))
        if not earlier:
            break
        day = desk.calendar.previous_session(day).day
        started_by = None
    return TrResult({"output1": _header(desk, code, daily=False), "output2": rows})


def today_minute_chart(desk: Desk, params: Params) -> TrResult:
    """inquire-time-itemchartprice: up to 30 of today's minutes at or before FID_INPUT_HOUR_1
    (a time still to come reads as now), newest first; none on a day without a session."""
    code = _code(params)
    hour = _hour(params)
    _flag(params, "FID_PW_DATA_INCU_YN", required=True)
    params.optional("FID_ETC_CLS_CODE")
    if not _listed(desk, code):
        return TrResult({"output1": _unknown_header(daily=False), "output2": []})
    today = desk.now.date()
    session = desk.calendar.session(today)
    rows: list[dict[str, str]] = []
    if session is not None:
        started_by = datetime.combine(today, hour, KST)
        bars = minute_bars(desk.market, code, session, desk.now, started_by)
        rows = _minute_rows(bars, TODAY_MINUTE_ROWS)
    return TrResult({"output1": _header(desk, code, daily=False), "output2": rows})


# Parameters -----------------------------------------------------------------------------------
def _code(params: Params) -> str:
    one_of(params, "FID_COND_MRKT_DIV_CODE", ("J",))
    return params.required("FID_INPUT_ISCD")


def _hour(params: Params) -> time:
    text = params.required("FID_INPUT_HOUR_1")
    try:
        if len(text) == 6 and text.isdigit():
            return datetime.strptime(text, "%H%M%S").time()
    except ValueError:
        pass
    raise invalid("FID_INPUT_HOUR_1", "HHMMSS 형식의 시각")


def _flag(params: Params, name: str, *, required: bool = False) -> None:
    value = params.required(name) if required else params.optional(name)
    if value.upper() not in FLAGS:
        raise invalid(name, "Y 또는 N")


def _listed(desk: Desk, code: str) -> bool:
    return bool(CODE_PATTERN.match(code)) and desk.market.is_listed(code)


# Rows -----------------------------------------------------------------------------------------
def _daily_row(bar: Bar, previous_close: int) -> dict[str, str]:
    change = bar.close - previous_close
    return {
        "stck_bsop_date": bar.day.strftime("%Y%m%d"),
        "stck_clpr": str(bar.close),
        "stck_oprc": str(bar.open),
        "stck_hgpr": str(bar.high),
        "stck_lwpr": str(bar.low),
        "acml_vol": str(bar.volume),
        "acml_tr_pbmn": str(bar.volume * bar.close),
        "flng_cls_code": "00",
        "prtt_rate": "0.00",
        "mod_yn": "N",
        "prdy_vrss_sign": _sign(change),
        "prdy_vrss": str(change),
        "revl_issu_reas": "",
    }


def _minute_rows(bars: list[Bar], limit: int) -> list[dict[str, str]]:
    """The newest ``limit`` of a day's bars, newest first, with the running traded value."""
    rows = []
    value = 0
    for bar in bars:
        value += bar.volume * bar.close
        rows.append(
            {
                "stck_bsop_date": bar.day.strftime("%Y%m%d"),
                "stck_cntg_hour": f"{bar.minute:%H%M%S}",
                "stck_prpr": str(bar.close),
                "stck_oprc": str(bar.open),
                "stck_hgpr": str(bar.high),
                "stck_lwpr": str(bar.low),
                "cntg_vol": str(bar.volume),
                "acml_tr_pbmn": str(value),
            }
        )
    return rows[::-1][:limit]


def _header(desk: Desk, code: str, *, daily: bool) -> dict[str, str]:
    """``output1``: the quote now; the daily TR adds the previous session's bar and constants."""
    quote = desk.market.quote(code, desk.now)
    change = quote.price - quote.base
    out = {
        "prdy_vrss": str(change),
        "prdy_vrss_sign": _sign(change, quote),
        "prdy_ctrt": ratio(change, quote.base),
        "stck_prdy_clpr": str(quote.base),
        "acml_vol": str(quote.volume),
        "acml_tr_pbmn": str(quote.volume * quote.price),
        "hts_kor_isnm": desk.market.name(code),
        "stck_prpr": str(quote.price),
    }
    if not daily:
        return out
    previous = desk.calendar.previous_session(desk.now.date())
    before = daily_bar(desk.market, code, previous, desk.now)
    prior = before or Bar(
        code, previous.day, None, quote.base, quote.base, quote.base, quote.base, 0
    )
    return {
        **out,
        "stck_shrn_iscd": code,
        "prdy_vol": str(prior.volume),
        "stck_mxpr": str(quote.upper),
        "stck_llam": str(quote.lower),
        "stck_oprc": str(quote.open),
        "stck_hgpr": str(quote.high),
        "stck_lwpr": str(quote.low),
        "stck_prdy_oprc": str(prior.open),
        "stck_prdy_hgpr": str(prior.high),
        "stck_prdy_lwpr": str(prior.low),
        "askp": str(quote.price + quote.tick),
        "bidp": str(quote.price),
        "prdy_vrss_vol": str(quote.volume - prior.volume),
        **{
            name: PRICE_CONSTANTS[name]
            for name in ("vol_tnrt", "stck_fcam", "lstn_stcn", "cpfn", "hts_avls", "per", "eps")
        },
        "pbr": PRICE_CONSTANTS["pbr"],
        "itewhol_loan_rmnd_ratem": "0.00",
    }


def _unknown_header(*, daily: bool) -> dict[str, str]:
    """``output1`` for a code KIS does not list: every number 0, the name blank (as
    inquire-price answers it)."""
    names = ["prdy_vrss", "prdy_ctrt", "stck_prdy_clpr", "acml_vol", "acml_tr_pbmn", "stck_prpr"]
    out = {**dict.fromkeys(names, "0"), "prdy_vrss_sign": "3", "hts_kor_isnm": ""}
    if daily:
        out["stck_shrn_iscd"] = ""
    return out


def _sign(change: int, quote: Quote | None = None) -> str:
    """``prdy_vrss_sign``: 1 upper limit, 2 up, 3 flat, 4 lower limit, 5 down."""
    if change > 0:
        return "1" if quote is not None and quote.price >= quote.upper else "2"
    if change < 0:
        return "4" if quote is not None and quote.price <= quote.lower else "5"
    return "3"
