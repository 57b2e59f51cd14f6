"""The fast candidate search: the next bar on which the rules could act, found with numpy.

See docs/ARCHITECTURE.md, 'Backtest'. A point can make the rules act only if its bar's range
reaches a price at which they act, at a moment in the phase where they act:

- an entry buy: a point ``p`` with ``target <= p < target x BUY_BAND_RATIO`` and
  ``buy_amount // p >= 1``, intraday;
- a take-profit or a stop-loss: a point above the take-profit price or under the stop-loss
  price, intraday (both bounds widened by one won, so Decimal rounding can never hide one);
- an expiry: any point in the pre-close phase, for a position held long enough.

So the search over whole columns keeps every bar that could act (it may keep a few that do not;
the rules decide on those bars' points). ``tests/backtest`` checks this against the plain walk
(:class:`shared.backtest.walk.EveryBar`) on random bars.
"""

from __future__ import annotations

import math
from decimal import Decimal

from shared.backtest.session_path import SessionPath
from shared.backtest.walk import CodeWalk

HUNDRED = Decimal(100)


def band_top(target: int, band_ratio: Decimal) -> int:
    """The highest whole price strictly under ``target x band_ratio``."""
    return math.ceil(Decimal(target) * band_ratio) - 1


def take_profit_from(average_price: Decimal, take_profit_pct: Decimal) -> int:
    """A whole price at or under the lowest one whose profit rate is over ``take_profit_pct``."""
    return math.floor(average_price * (HUNDRED + take_profit_pct) / HUNDRED)


def stop_loss_to(average_price: Decimal, stop_loss_pct: Decimal) -> int:
    """A whole price at or over the highest one whose profit rate is under ``stop_loss_pct``."""
    return math.ceil(average_price * (HUNDRED + stop_loss_pct) / HUNDRED)


def first_in_range(path: SessionPath, start: int, end: int, low: int, high: int) -> int | None:
    """The first bar in ``[start, end)`` whose range meets the prices ``[low, high]``."""
    if start >= end or low > high:
        return None
    bars = path.bars
    hits = (bars.high[start:end] >= low) & (bars.low[start:end] <= high)
    first = int(hits.argmax())
    return start + first if hits[first] else None


def first_outside(path: SessionPath, start: int, end: int, above: int, below: int) -> int | None:
    """The first bar in ``[start, end)`` reaching ``above`` or more, or ``below`` or less."""
    if start >= end:
        return None
    bars = path.bars
    hits = (bars.high[start:end] >= above) | (bars.low[start:end] <= below)
    first = int(hits.argmax())
    return start + first if hits[first] else None


class CandidateFinder:
    """The next candidate bar of a walk: the earliest of its entry, exit and expiry candidates."""

    def next_bar(self, walk: CodeWalk, start: int) -> int | None:
        path = walk.path
        thresholds = walk.rules.thresholds
        found: list[int] = []
        lo, hi = path.span(*walk.rules.intraday)
        first = max(start, lo)
        if walk.pick is not None:
            top = min(band_top(walk.pick.target, thresholds.buy_band_ratio), walk.buy_amount)
            hit = first_in_range(path, first, hi, walk.pick.target, top)
            if hit is not None:
                found.append(hit)
        position = walk.position
        if position is not None:
            above = take_profit_from(position.average_price, thresholds.take_profit_pct)
            below = stop_loss_to(position.average_price, thresholds.stop_loss_pct)
            hit = first_outside(path, first, hi, above, below)
            if hit is not None:
                found.append(hit)
            if walk.expired:
                pre_lo, pre_hi = path.span(*walk.rules.preclose)
                if max(start, pre_lo) < pre_hi:
                    found.append(max(start, pre_lo))
        return min(found) if found else None
