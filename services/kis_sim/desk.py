"""What a TR handler gets (the state and the moment) and returns, plus shared field parsing."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from services.kis_sim.config import SimConfig
from services.kis_sim.faults import Fault
from services.kis_sim.market import Market
from services.kis_sim.protocol import KisRequest, Params, invalid
from services.kis_sim.rules import Tr
from shared.broker.accounts import Account
from shared.broker.ledger import Ledger
from shared.trading.market_calendar import KrxCalendar

CANO_PATTERN = re.compile(r"^\d{8}$")
PRODUCT_PATTERN = re.compile(r"^\d{2}$")
DATE_PATTERN = re.compile(r"^\d{8}$")
ORG_NO = "06010"
"""KRX_FWDG_ORD_ORGNO / ord_gno_brno of every simulated order (the sim has one branch)."""


@dataclass(frozen=True)
class Desk:
    """Everything one TR call works with; handlers run under the simulator's lock."""

    config: SimConfig
    now: datetime
    market: Market
    ledger: Ledger
    calendar: KrxCalendar
    request: KisRequest
    tr: Tr
    fault: Fault | None = None
    """An armed order fault (``partial_fill``/``fill_lag``) this request consumed."""


@dataclass(frozen=True)
class TrResult:
    """A TR's payload (``output``/``output1``/...) and the ``tr_cont`` response header."""

    payload: Mapping[str, object]
    tr_cont: str = ""


def account_of(desk: Desk, params: Params) -> Account:
    """The account named by CANO + ACNT_PRDT_CD (created on first use)."""
    cano = params.required("CANO")
    product = params.required("ACNT_PRDT_CD")
    if not CANO_PATTERN.match(cano):
        raise invalid("CANO", "계좌번호 앞 8자리 숫자")
    if not PRODUCT_PATTERN.match(product):
        raise invalid("ACNT_PRDT_CD", "계좌상품코드 2자리 숫자")
    return desk.ledger.account(f"{cano}-{product}")


def whole_number(text: str) -> int | None:
    """``"12"`` → 12; anything but plain digits → None."""
    return int(text) if text.isascii() and text.isdigit() else None


def parse_day(name: str, text: str) -> date:
    """A YYYYMMDD field, or OPSQ2002 naming it."""
    if DATE_PATTERN.match(text):
        try:
            return datetime.strptime(text, "%Y%m%d").date()
        except ValueError:
            pass
    raise invalid(name, "YYYYMMDD 형식의 날짜")


def one_of(params: Params, name: str, allowed: tuple[str, ...]) -> str:
    """A required field limited to ``allowed`` values."""
    value = params.required(name)
    if value not in allowed:
        raise invalid(name, "허용값: " + "/".join(allowed))
    return value
