"""What differs between KIS's paper and real rules: tr_id prefixes and market-hours answers.

Trading TRs are written here without their first letter; paper rules want ``V``, real rules
``T``. Quote, chart and holiday TRs are the same under both. Real KIS answers the holiday TR
(CTCA0903R) only on its real host; the simulator offers it under paper rules too, so a sim-mode
system can use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from services.kis_sim import codes
from services.kis_sim.auctions import Auctions
from services.kis_sim.config import RuleSet
from services.kis_sim.protocol import KisError
from shared.trading.market_calendar import KrxCalendar

PREFIX = "/uapi/domestic-stock/v1"
PRICE_PATH = f"{PREFIX}/quotations/inquire-price"
HOLIDAY_PATH = f"{PREFIX}/quotations/chk-holiday"
BALANCE_PATH = f"{PREFIX}/trading/inquire-balance"
BUYABLE_PATH = f"{PREFIX}/trading/inquire-psbl-order"
ORDER_PATH = f"{PREFIX}/trading/order-cash"
CANCEL_PATH = f"{PREFIX}/trading/order-rvsecncl"
REVISABLE_PATH = f"{PREFIX}/trading/inquire-psbl-rvsecncl"
EXECUTIONS_PATH = f"{PREFIX}/trading/inquire-daily-ccld"
DAILY_CHART_PATH = f"{PREFIX}/quotations/inquire-daily-itemchartprice"
MINUTE_CHART_PATH = f"{PREFIX}/quotations/inquire-time-dailychartprice"
TODAY_MINUTE_CHART_PATH = f"{PREFIX}/quotations/inquire-time-itemchartprice"


@dataclass(frozen=True)
class Tr:
    """A TR the simulator serves: which action and whether it is a legacy id."""

    action: str
    method: str
    legacy: bool = False
    real_only: bool = False
    """KIS serves it on its real host only: under paper rules its T id is another
    environment's and its V id does not exist."""


FIXED_TRS: Mapping[str, Mapping[str, Tr]] = {
    PRICE_PATH: {"FHKST01010100": Tr("quote", "GET")},
    HOLIDAY_PATH: {"CTCA0903R": Tr("holiday", "GET")},
    DAILY_CHART_PATH: {"FHKST03010100": Tr("daily_chart", "GET")},
    MINUTE_CHART_PATH: {"FHKST03010230": Tr("minute_chart", "GET")},
    TODAY_MINUTE_CHART_PATH: {"FHKST03010200": Tr("today_minute_chart", "GET")},
}
"""Per path: tr_ids identical under both rule sets."""

TRADING_TRS: Mapping[str, Mapping[str, Tr]] = {
    BALANCE_PATH: {"TTC8434R": Tr("balance", "GET")},
    BUYABLE_PATH: {"TTC8908R": Tr("buyable", "GET")},
    ORDER_PATH: {
        "TTC0012U": Tr("buy", "POST"),
        "TTC0011U": Tr("sell", "POST"),
        "TTC0802U": Tr("buy", "POST", legacy=True),
        "TTC0801U": Tr("sell", "POST", legacy=True),
    },
    CANCEL_PATH: {
        "TTC0013U": Tr("revise_or_cancel", "POST"),
        "TTC0803U": Tr("revise_or_cancel", "POST", legacy=True),
    },
    # Official inquire_psbl_rvsecncl.py: TTTC0084R only (모의투자 미지원); python-kis still
    # sends the older TTTC8036R.
    REVISABLE_PATH: {
        "TTC0084R": Tr("revisable", "GET", real_only=True),
        "TTC8036R": Tr("revisable", "GET", legacy=True, real_only=True),
    },
    EXECUTIONS_PATH: {
        "TTC0081R": Tr("executions", "GET"),
        "TTC8001R": Tr("executions", "GET", legacy=True),
    },
}
"""Per path: trading tr_ids without their V (paper) / T (real) prefix."""

SERVED_PATHS = frozenset(FIXED_TRS) | frozenset(TRADING_TRS)
"""Every /uapi path with TRs (hashkey aside)."""


def resolve_tr(rules: RuleSet, path: str, tr_id: str) -> Tr:
    """The TR for ``tr_id`` on ``path`` under ``rules``, or KisError (HTTP 500)."""
    fixed = FIXED_TRS.get(path, {})
    if tr_id in fixed:
        return fixed[tr_id]
    trading = TRADING_TRS.get(path, {})
    own, other = ("V", "T") if rules == "paper" else ("T", "V")
    tr = trading.get(tr_id[1:])
    if tr is not None and tr.real_only and rules == "paper":
        if tr_id[:1] == "T":
            raise KisError(codes.TR_OTHER_ENV, codes.TR_NOT_PAPER, 500)
    elif tr is not None and tr_id[:1] == own:
        return tr
    elif tr is not None and tr_id[:1] == other:
        message = codes.TR_NOT_PAPER if rules == "paper" else codes.TR_NOT_REAL
        raise KisError(codes.TR_OTHER_ENV, message, 500)
    shown = tr_id or "(tr_id 헤더 없음)"
    raise KisError(codes.TR_UNKNOWN, f"없는 서비스 코드 입니다. ({shown})", 500)


def check_market_open(
    rules: RuleSet, calendar: KrxCalendar, now: datetime, auctions: Auctions | None = None
) -> None:
    """KisError unless orders are accepted now: ``opens <= now < closes`` on a session day
    (from the pre-open auction's start with ``auctions`` on)."""
    session = calendar.session(now.date())
    hours = auctions or Auctions()
    if session is not None and hours.orders_from(session) <= now < session.closes:
        return
    if rules == "paper":
        before_open = session is not None and now < session.opens
        raise KisError.of(codes.PAPER_PRE_OPEN if before_open else codes.PAPER_CLOSED)
    raise KisError.of(codes.REAL_NOT_TRADING_DAY if session is None else codes.REAL_OUTSIDE_HOURS)
