"""Settlement: a trade moves the deposit only on its settlement day (KRX: D+2).

KIS's balance shows the settled deposit (``dnca_tot_amt``), what it will be after tomorrow's
settlements (``nxdy_excc_amt``, D+1) and after every pending one (``prvs_rcdl_excc_amt``, D+2);
orders may spend every trade's proceeds at once (official ``inquire_balance.py`` docstring in
koreainvestment/open-trading-api; field names in its chk_inquire_balance.py). Settlement days are
KRX sessions from the shared calendar; 0 days settles at once (the simulator's ``simple`` profile,
``SIM_SETTLEMENT_DAYS=0``; the ``kis`` profile and the backtest settle at D+2).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from shared.broker.money import Side
from shared.trading.market_calendar import KrxCalendar


@dataclass(frozen=True)
class Pending:
    """One fill's cash movement waiting for its settlement day."""

    settles_on: date
    code: str
    side: Side
    net: int
    """Won the deposit gains (a sale, net of fee and tax) or loses (a buy, fee included)."""


def settlement_day(calendar: KrxCalendar, trade_day: date, days: int) -> date:
    """The day a trade of ``trade_day`` settles: ``days`` KRX sessions later (0: that day)."""
    if days <= 0:
        return trade_day
    return calendar.session_offset(trade_day, days).day


def due(pending: Iterable[Pending], day: date) -> int:
    """Won settling on or before ``day``."""
    return sum(p.net for p in pending if p.settles_on <= day)


def total(pending: Iterable[Pending]) -> int:
    """Won still to settle, whatever the day."""
    return sum(p.net for p in pending)


def unsettled_sale(pending: Iterable[Pending], code: str) -> bool:
    """Whether a sale of ``code`` has not settled yet (KIS keeps its balance row until then)."""
    return any(p.code == code and p.side == "sell" for p in pending)
