"""KRX's single-price auctions (동시호가) at the open and the close, when ``SIM_AUCTIONS=on``
(services/kis_sim/README.md, 'Auctions').

Orders are taken from 08:30 (30 minutes before the open) and from 15:20 (10 minutes before the
close) without trading; at 09:00 and at 15:30 every working order of a code that the auction
price crosses — a market order, a buy limited at or above it, a sell at or below it — fills in
full at that one price, the price of the path at that moment (the open, the close). Between
15:20 and 15:30 the price stands still. Pure: the simulator applies the matches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.broker.orders import MARKET, Order
from shared.infra.clock import KST
from shared.trading.market_calendar import KrxCalendar, Session

PRE_OPEN = timedelta(minutes=30)
"""Orders are taken this long before the open (08:30 on a regular day)."""
CLOSING_CALL = timedelta(minutes=10)
"""The closing auction takes orders this long before the close (15:20 on a regular day)."""
EPSILON = timedelta(microseconds=1)


@dataclass(frozen=True)
class Auctions:
    """The auction hours, on or off (off: orders only between the open and the close, all of
    it continuous trading)."""

    enabled: bool = False

    def orders_from(self, session: Session) -> datetime:
        """When the session starts taking orders."""
        return session.opens - PRE_OPEN if self.enabled else session.opens

    def in_call(self, session: Session, moment: datetime) -> bool:
        """Whether ``moment`` is inside an auction's order period (no trading)."""
        if not self.enabled:
            return False
        pre_open = session.opens - PRE_OPEN <= moment < session.opens
        return pre_open or session.closes - CLOSING_CALL <= moment < session.closes

    def trading_moment(self, session: Session, moment: datetime) -> datetime:
        """The moment whose price holds at ``moment``: during the closing call, the last
        instant of continuous trading (the price stands still until the match)."""
        call = session.closes - CLOSING_CALL
        if self.enabled and call <= moment < session.closes:
            return call - EPSILON
        return moment

    def continuous(
        self, session: Session, start: datetime, end: datetime
    ) -> tuple[datetime, datetime] | None:
        """The part of ``[start, end]`` with continuous trading (None when there is none)."""
        if not self.enabled:
            return start, end
        low, high = max(start, session.opens), min(end, session.closes - CLOSING_CALL - EPSILON)
        return (low, high) if low <= high else None

    def matches(self, calendar: KrxCalendar, start: datetime, end: datetime) -> list[datetime]:
        """The auction moments (opens and closes) in ``(start, end]``, in time order."""
        if not self.enabled or end <= start:
            return []
        moments: list[datetime] = []
        day = start.astimezone(KST).date()
        while day <= end.astimezone(KST).date():
            session = calendar.session(day)
            if session is not None:
                moments += [m for m in (session.opens, session.closes) if start < m <= end]
            day += timedelta(days=1)
        return moments


def crossed(
    orders: Iterable[Order], moment: datetime, price_of: Callable[[str], int]
) -> list[tuple[Order, int]]:
    """The working orders placed before ``moment`` that its auction fills, each with the
    auction price of its code (``price_of``)."""
    filled: list[tuple[Order, int]] = []
    for order in orders:
        if order.remaining <= 0 or order.placed_kst >= moment or order.lapses_kst < moment:
            continue
        price = price_of(order.code)
        crosses = order.price >= price if order.side == "buy" else order.price <= price
        if order.division == MARKET or crosses:
            filled.append((order, price))
    return filled
