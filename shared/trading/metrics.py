"""The figures a trader judges a run by, as pure functions of numbers.

See docs/ARCHITECTURE.md, 'Backtest' (the report), where each is defined, and 'Track record'
(the live trades' figures, which use the same functions). Money is whole won,
rates are :class:`Decimal` percentages rounded to 0.01 (half up); a figure that has no value
(a win rate without a trade, a profit factor without a losing trade) is ``None``, never 0.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def pct(part: Decimal | int, whole: Decimal | int) -> Decimal:
    """``part / whole`` in percent, rounded to 0.01 (``whole`` must not be 0)."""
    return (Decimal(part) * 100 / Decimal(whole)).quantize(CENT, ROUND_HALF_UP)


def rounded(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def return_pct(start: int, end: int) -> Decimal:
    """The change from ``start`` to ``end`` in percent of ``start``."""
    return pct(end - start, start)


# Closed trades ---------------------------------------------------------------------------------
def win_rate_pct(nets: Sequence[int]) -> Decimal | None:
    """Share of trades whose net (after fees and tax) is above 0; None without a trade."""
    if not nets:
        return None
    return pct(sum(1 for n in nets if n > 0), len(nets))


def gross_profit(nets: Sequence[int]) -> int:
    """The winning trades' net, summed."""
    return sum(n for n in nets if n > 0)


def gross_loss(nets: Sequence[int]) -> int:
    """The losing trades' net, summed, as a positive number of won."""
    return -sum(n for n in nets if n < 0)


def profit_factor(nets: Sequence[int]) -> Decimal | None:
    """Gross profit / gross loss, both after costs; None when no trade lost (the factor is
    infinite if one won, undefined if none did: :func:`gross_profit` tells them apart)."""
    loss = gross_loss(nets)
    if loss == 0:
        return None
    return rounded(Decimal(gross_profit(nets)) / loss)


def expectancy(nets: Sequence[int]) -> Decimal | None:
    """The average net of a trade in won (win rate x average win - loss rate x average loss);
    None without a trade."""
    if not nets:
        return None
    return rounded(Decimal(sum(nets)) / len(nets))


def expectancy_pct(nets: Sequence[int], costs: Sequence[int]) -> Decimal | None:
    """The average of each trade's net in percent of what it cost to buy; None without one."""
    if not nets:
        return None
    total = sum((Decimal(n) * 100 / c for n, c in zip(nets, costs, strict=True)), Decimal(0))
    return rounded(total / len(nets))


def average(values: Sequence[int]) -> Decimal | None:
    """The mean (sessions held, for instance); None of nothing."""
    if not values:
        return None
    return rounded(Decimal(sum(values)) / len(values))


# The equity curve ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Drawdown:
    """The largest fall of the value from a running peak (the starting cash is the first)."""

    pct: Decimal
    won: int
    peak: int | None
    """Index of the value the fall started from (None: the starting cash)."""
    trough: int | None
    """Index of the lowest value of that fall (None: no fall)."""


def drawdowns_pct(start: int, values: Sequence[int]) -> list[Decimal]:
    """Each value's fall from the highest value up to it (``start`` included), in percent."""
    peak = start
    falls = []
    for value in values:
        peak = max(peak, value)
        falls.append(pct(peak - value, peak) if peak > 0 else Decimal(0))
    return falls


def max_drawdown(start: int, values: Sequence[int]) -> Drawdown:
    """The deepest fall, in percent of its peak, of ``values`` after ``start``."""
    peak, peak_at = start, None
    worst = Drawdown(Decimal("0.00"), 0, None, None)
    worst_ratio = Decimal(0)
    for i, value in enumerate(values):
        if value > peak:
            peak, peak_at = value, i
            continue
        if peak <= 0 or value == peak:
            continue
        ratio = Decimal(peak - value) / peak
        if ratio > worst_ratio:
            worst_ratio = ratio
            worst = Drawdown(rounded(ratio * 100), peak - value, peak_at, i)
    return worst


def exposure_pct(holdings: Sequence[int], values: Sequence[int]) -> Decimal | None:
    """Capital at risk: the mean over sessions of the share of the account's value held in
    stocks at the close; None without a session."""
    shares = [Decimal(h) / v for h, v in zip(holdings, values, strict=True) if v > 0]
    if not shares:
        return None
    return rounded(sum(shares, Decimal(0)) * 100 / len(shares))


def time_in_market_pct(
    sessions: Sequence[date], held: Sequence[tuple[date, date]]
) -> Decimal | None:
    """Share of ``sessions`` (in order) on which a position was held at some moment: each
    ``(bought, sold)`` pair covers the sessions from its buy to its sell, both included (sold:
    the last session for a position still open). None without a session."""
    if not sessions:
        return None
    covered = [False] * len(sessions)
    for start, end in held:
        for i in range(bisect.bisect_left(sessions, start), bisect.bisect_right(sessions, end)):
            covered[i] = True
    return pct(sum(covered), len(sessions))


@dataclass(frozen=True)
class MonthReturn:
    """A calendar month: the value at its last session's close against the month before's."""

    month: str
    """``YYYY-MM``."""
    start_value: int
    """The previous month's last close (the starting cash for the run's first month)."""
    end_value: int
    return_pct: Decimal


def monthly_returns(start: int, days: Sequence[date], values: Sequence[int]) -> list[MonthReturn]:
    """The net return of each month the run covers, compounding to the run's return."""
    months: list[MonthReturn] = []
    before = start
    for i, day in enumerate(days):
        last_of_month = i + 1 == len(days) or (days[i + 1].year, days[i + 1].month) != (
            day.year,
            day.month,
        )
        if last_of_month:
            value = values[i]
            months.append(MonthReturn(f"{day:%Y-%m}", before, value, return_pct(before, value)))
            before = value
    return months


# Sweeps ----------------------------------------------------------------------------------------
def ranks(values: Sequence[float]) -> list[Decimal]:
    """Each value's rank from 1 (the smallest); tied values share their ranks' average."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    found = [Decimal(0)] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            found[order[k]] = Decimal(i + j + 2) / 2
        i = j + 1
    return found


def rank_correlation(xs: Sequence[float], ys: Sequence[float]) -> Decimal | None:
    """Spearman's rank correlation of ``xs`` and ``ys`` (-1 to 1, to 0.01); None for fewer
    than three pairs or when either side has a single value throughout."""
    if len(xs) != len(ys):
        raise ValueError(f"{len(xs)} values against {len(ys)}")
    if len(xs) < 3:
        return None
    rx, ry = ranks(xs), ranks(ys)
    mean = (Decimal(len(xs)) + 1) / 2
    dx = [r - mean for r in rx]
    dy = [r - mean for r in ry]
    sxx = sum((d * d for d in dx), Decimal(0))
    syy = sum((d * d for d in dy), Decimal(0))
    if sxx == 0 or syy == 0:
        return None
    sxy = sum((a * b for a, b in zip(dx, dy, strict=True)), Decimal(0))
    return rounded(sxy / (sxx * syy).sqrt())
