"""The backtest's fill model: where in a bar the rules look, and what a decision fills at.

See docs/ARCHITECTURE.md, 'Backtest'. Pessimistic on purpose:

- a bar's prices are walked as :func:`shared.trading.bars.bar_path` says (open, low, high,
  close, every :data:`shared.trading.bars.PATH_STEP`), so a bar touching both a position's
  stop-loss and its take-profit sells it at the stop-loss;
- an entry buy (a limit order at the band's last tick) fills at the price it was decided at,
  or at its limit where that price is above it (a price off KRX's ticks, from adjusted
  history, can lie in the band above its last tick);
- a sell (a market order) fills ``slippage_ticks`` KRX ticks under the price it was decided at;
- with daily bars only, the day's bar is the four points open, low, high (intraday, spread over
  it) and close, the close standing for the pre-close price (the coarse model).
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from shared.infra.clock import KST
from shared.trading.bars import PATH_STEP
from shared.trading.krx_ticks import last_tick_below
from shared.trading.market_calendar import Session
from shared.trading.rules import Thresholds

STEP_SECONDS = int(PATH_STEP.total_seconds())
"""Seconds between two points of a minute bar's path."""
POINTS = 4
"""Points of a bar's path: open, low, high, close."""


def buy_fill_price(price: int, limit: int | None) -> int:
    """A limit buy decided at ``price``: that price, never above the ``limit`` (none: no cap).

    A price in the band is at most the limit when it is on KRX's ticks; only a price off them
    lies between the limit and the band's top, and a limit buy still pays no more than its limit.
    """
    return price if limit is None else min(price, limit)


def sell_fill_price(price: int, slippage_ticks: int) -> int:
    """A market sell decided at ``price``: ``slippage_ticks`` valid KRX prices lower (never
    under the lowest valid price)."""
    filled = price
    for _ in range(slippage_ticks):
        lower = last_tick_below(Decimal(filled))
        if lower <= 0:
            break
        filled = lower
    return filled


def seconds_of_day(moment: datetime) -> int:
    """Seconds after midnight of an aware moment, in KST."""
    kst = moment.astimezone(KST)
    return kst.hour * 3600 + kst.minute * 60 + kst.second


def moment_at(day: date, seconds: int) -> datetime:
    """The KST moment ``seconds`` after midnight of ``day``."""
    return datetime.combine(day, time(seconds // 3600, seconds // 60 % 60, seconds % 60), KST)


def daily_point_times(session: Session, thresholds: Thresholds) -> tuple[int, int, int, int]:
    """Seconds of day of the coarse model's points: open at the open, low and high spread over
    the intraday phase, close at the pre-close's first moment (close - BUY_CUTOFF_MINUTES)."""
    opens = seconds_of_day(session.opens)
    cutoff = max(opens, seconds_of_day(session.closes - thresholds.buy_cutoff))
    third = (cutoff - opens) // 3
    return (opens, opens + third, opens + 2 * third, cutoff)
