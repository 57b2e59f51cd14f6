"""What a sweep produced: each grid point's figures in-sample and out-of-sample, ranked, as
``sweep.json`` keeps them; and the metrics a sweep ranks by.

See docs/ARCHITECTURE.md, 'Backtest' (the sweep). Plain data (the runs are in
:mod:`shared.backtest.sweep`), read by the status API too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from shared.backtest.config import BacktestConfig
from shared.backtest.figures import ReportFigures
from shared.messaging.typed_json import decode_object, encode_object

OVERFITTING_WARNING = (
    "Overfitting: the best of {points} settings tried on the same past prices always looks"
    " better than it will trade. The in-sample ranking rewards whatever fitted this period's"
    " noise; only the out-of-sample columns, sessions the ranking never saw, hint at what"
    " carries forward, and they are one short period too. Prefer a setting whose neighbours"
    " do about as well and whose out-of-sample figures hold up, and do not trade the top row"
    " because it is the top row."
)
"""Printed with every sweep and shown at the top of its page."""


class Metric(StrEnum):
    """What a sweep ranks by (docs/ARCHITECTURE.md, 'Backtest': each is defined there)."""

    RETURN = "return"
    """Net return, %: higher first."""
    PROFIT_FACTOR = "profit_factor"
    """Gross profit over gross loss of the closed trades: higher first (no loss: first)."""
    EXPECTANCY = "expectancy"
    """The average net of a closed trade, in won: higher first."""
    WIN_RATE = "win_rate"
    """Closed trades won, %: higher first."""
    MAX_DRAWDOWN = "max_drawdown"
    """The deepest fall from a peak, %: lower first."""


@dataclass(frozen=True)
class RunScore:
    """One run's figures, as a sweep compares them."""

    start: date
    end: date
    sessions: int
    final_value: int
    return_pct: Decimal
    max_drawdown_pct: Decimal
    trades: int
    win_rate_pct: Decimal | None
    profit_factor: Decimal | None
    gross_profit: int
    expectancy: Decimal | None
    exposure_pct: Decimal | None
    buy_and_hold_return_pct: Decimal

    @classmethod
    def of(cls, config: BacktestConfig, found: ReportFigures) -> RunScore:
        return cls(
            start=config.start,
            end=config.end,
            sessions=found.sessions,
            final_value=found.final_value,
            return_pct=found.return_pct,
            max_drawdown_pct=found.max_drawdown_pct,
            trades=found.trades.trades,
            win_rate_pct=found.trades.win_rate_pct,
            profit_factor=found.trades.profit_factor,
            gross_profit=found.trades.gross_profit,
            expectancy=found.trades.expectancy,
            exposure_pct=found.exposure_pct,
            buy_and_hold_return_pct=found.buy_and_hold.return_pct,
        )

    def value(self, metric: Metric) -> Decimal | None:
        """The figure ``metric`` names (None: it has none, such as a win rate without trades;
        a profit factor without a losing trade is None too: see :func:`score`)."""
        return {
            Metric.RETURN: self.return_pct,
            Metric.PROFIT_FACTOR: self.profit_factor,
            Metric.EXPECTANCY: self.expectancy,
            Metric.WIN_RATE: self.win_rate_pct,
            Metric.MAX_DRAWDOWN: self.max_drawdown_pct,
        }[metric]


def score(run: RunScore, metric: Metric) -> float:
    """``run``'s figure as a number where higher is better: a profit factor without a losing
    trade is +inf (-inf without any trade), a missing figure -inf, a drawdown negated."""
    value = run.value(metric)
    if metric is Metric.PROFIT_FACTOR and value is None:
        return math.inf if run.gross_profit > 0 else -math.inf
    if value is None:
        return -math.inf
    return -float(value) if metric is Metric.MAX_DRAWDOWN else float(value)


def figure(run: RunScore, metric: Metric) -> str:
    """``run``'s figure for ``metric`` as the table writes it."""
    value = run.value(metric)
    if metric is Metric.PROFIT_FACTOR and value is None:
        return "inf" if run.gross_profit > 0 else "-"
    if value is None:
        return "-"
    if metric is Metric.RETURN:
        return f"{value:+.2f} %"
    if metric is Metric.EXPECTANCY:
        return f"{value:+,.0f}"
    if metric is Metric.MAX_DRAWDOWN:
        return f"{value:.2f} %"
    return f"{value:.1f} %" if metric is Metric.WIN_RATE else f"{value:.2f}"


@dataclass(frozen=True)
class SweepRow:
    """A grid point's runs, and its place in the in-sample ranking (1 is the best)."""

    rank: int
    point: dict[str, str]
    in_sample: RunScore
    out_of_sample: RunScore
    live: bool
    """The point is the live configuration."""


@dataclass(frozen=True)
class SweepResult:
    """A whole sweep, as ``sweep.json`` keeps it."""

    config: BacktestConfig
    """The base run: range, cash, bars, picks, and the live settings not swept."""
    grid: dict[str, tuple[str, ...]]
    metric: Metric
    split: Decimal
    in_sample: tuple[date, date]
    out_of_sample: tuple[date, date]
    rows: tuple[SweepRow, ...]
    """Ranked: the best in-sample first."""
    rank_correlation: Decimal | None
    """Spearman's correlation of the metric in-sample and out-of-sample over the grid: near 1,
    the ranking carried over; near 0 or below, it did not."""
    workers: int
    warning: str

    def to_json(self) -> dict[str, Any]:
        return encode_object(self, "sweep")

    @classmethod
    def from_json(cls, data: Any) -> SweepResult:
        found: SweepResult = decode_object(data, cls, "sweep")
        return found
