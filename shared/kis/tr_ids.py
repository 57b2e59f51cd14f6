"""Transaction ids (tr_id) per KIS environment (docs/ARCHITECTURE.md, 'Hosts and tr_ids')."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

QUOTE_PRICE = "FHKST01010100"
"""Current price: the same id on the real and paper hosts."""
HOLIDAY = "CTCA0903R"
"""Holiday check: real host only (the simulator answers it too)."""
DAILY_CHART = "FHKST03010100"
"""Daily bars (국내주식기간별시세, inquire-daily-itemchartprice): the same id on both hosts."""
MINUTE_CHART = "FHKST03010230"
"""Minute bars of a past day (주식일별분봉조회, inquire-time-dailychartprice); OTA documents it
for real accounts (docs/ARCHITECTURE.md, 'History')."""
TODAY_MINUTE_CHART = "FHKST03010200"
"""Today's minute bars (주식당일분봉조회, inquire-time-itemchartprice): the same id on both
hosts."""

QUOTE_HOST_TR_IDS = frozenset({QUOTE_PRICE, HOLIDAY, DAILY_CHART, MINUTE_CHART, TODAY_MINUTE_CHART})
"""Every tr_id a dry run may send to KIS (docs/ARCHITECTURE.md, 'Dry run'): market data only.
The token, approval-key and hashkey endpoints carry no tr_id; orders, cancels, the buyable cash,
the balance and the executions are not here and go to the local ledger."""


@dataclass(frozen=True)
class TrIds:
    """The tr_ids one client sends."""

    price: str
    balance: str
    buyable: str
    buy: str
    sell: str
    cancel: str
    daily_executions: str
    holiday: str
    daily_chart: str = DAILY_CHART
    minute_chart: str = MINUTE_CHART
    today_minute_chart: str = TODAY_MINUTE_CHART


def tr_ids(rules: Literal["paper", "real"], order_ids: Literal["current", "legacy"]) -> TrIds:
    """Ids for ``rules`` (real ``T…``, paper ``V…``); ``legacy`` keeps the pre-2025 order ids."""
    p = "T" if rules == "real" else "V"
    if order_ids == "current":
        buy, sell, cancel, executions = "0012U", "0011U", "0013U", "0081R"
    else:
        buy, sell, cancel, executions = "0802U", "0801U", "0803U", "8001R"
    return TrIds(
        price=QUOTE_PRICE,
        balance=f"{p}TTC8434R",
        buyable=f"{p}TTC8908R",
        buy=f"{p}TTC{buy}",
        sell=f"{p}TTC{sell}",
        cancel=f"{p}TTC{cancel}",
        daily_executions=f"{p}TTC{executions}",
        holiday=HOLIDAY,
    )
