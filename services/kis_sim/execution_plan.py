"""How a marketable order executes: what a market buy is valued at, and its planned fills."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.kis_sim.config import Valuation
from services.kis_sim.market import Quote
from shared.broker.money import Side
from shared.broker.orders import PlannedFill
from shared.trading.krx_ticks import tick_size


def market_unit(valuation: Valuation, quote: Quote, side: Side) -> int:
    """Won per share a market buy is valued at: the upper limit (상한가) when
    ``SIM_MARKET_BUY_VALUATION=upper_limit``, as KIS does (official order_cash.py and
    inquire_psbl_order.py guidance in koreainvestment/open-trading-api), else the current
    price."""
    if side == "buy" and valuation == "upper_limit":
        return quote.upper
    return quote.price


def planned_fills(
    quote: Quote, side: Side, qty: int, now: datetime, split_delay: float | None
) -> list[PlannedFill]:
    """A marketable order's fills: all at the current price, or (``partial_fill`` fault) half
    now and the rest ``split_delay`` clock seconds later one tick worse, within the limits."""
    if split_delay is None or qty < 2:
        return [(qty, quote.price, now)]
    first = qty - qty // 2
    if side == "buy":
        worse = min(quote.upper, quote.price + tick_size(quote.price))
    else:
        worse = max(quote.lower, quote.price - tick_size(quote.price - 1))
    return [(first, quote.price, now), (qty // 2, worse, now + timedelta(seconds=split_delay))]
