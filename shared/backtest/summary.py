"""The figures a run is judged by first, and where its report is written.

See docs/ARCHITECTURE.md, 'Backtest'. ``kat backtest`` prints :func:`headline_lines` and writes
``report.json`` (the whole :class:`BacktestResult`) into ``DATA_DIR/backtests/<run id>/``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from shared.backtest.results import BacktestResult
from shared.trading.bars import BarKind

REPORT_JSON = "report.json"
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Headline:
    """The run in a few numbers (percentages rounded to 0.01)."""

    sessions: int
    start_cash: int
    final_value: int
    return_pct: Decimal
    max_drawdown_pct: Decimal
    """The largest fall of the close-to-close value from its running peak."""
    orders: int
    trades: int
    wins: int
    net_profit: int
    """Closed trades' profit after fees and tax."""
    costs: int
    """Fees and tax of the closed trades."""
    open_positions: int
    problems: int


def headline(result: BacktestResult) -> Headline:
    start = result.config.cash
    peak = start
    drawdown = Decimal(0)
    for point in result.equity:
        peak = max(peak, point.value)
        if peak > 0:
            drawdown = max(drawdown, Decimal(peak - point.value) / peak * 100)
    trades = result.trades
    return Headline(
        sessions=len(result.sessions),
        start_cash=start,
        final_value=result.final_value,
        return_pct=_pct(Decimal(result.final_value - start) / start * 100),
        max_drawdown_pct=_pct(drawdown),
        orders=len(result.orders),
        trades=len(trades),
        wins=sum(1 for t in trades if t.net > 0),
        net_profit=sum(t.net for t in trades),
        costs=sum(t.fees + t.tax for t in trades),
        open_positions=len(result.open_positions),
        problems=len(result.problems),
    )


def headline_lines(result: BacktestResult) -> list[str]:
    """What ``kat backtest`` prints: the range, the money, the trades, the data problems."""
    h = headline(result)
    config = result.config
    win_rate = f"{Decimal(h.wins) / h.trades * 100:.1f} %" if h.trades else "-"
    bars = "daily" if config.bars is BarKind.DAY else "minute"
    kinds = Counter(p.kind.value for p in result.problems)
    problems = ", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items())) or "none"
    return [
        f"backtest {config.start} to {config.end}: {h.sessions} sessions, {bars} bars,"
        f" picks {config.picks or '-'}",
        f"value {h.start_cash:,} -> {h.final_value:,} won ({h.return_pct:+} %),"
        f" max drawdown {h.max_drawdown_pct} %",
        f"orders {h.orders}, closed trades {h.trades} (won {h.wins}, win rate {win_rate}),"
        f" net {h.net_profit:+,} won after {h.costs:,} won of fees and tax;"
        f" {h.open_positions} still open",
        f"data problems: {problems}",
    ]


def run_id(result: BacktestResult, now: datetime) -> str:
    """A directory name for the run: its range and when it ran."""
    config = result.config
    return f"{config.start:%Y%m%d}-{config.end:%Y%m%d}-{now:%Y%m%dT%H%M%S}"


def write_report(result: BacktestResult, directory: Path) -> Path:
    """Write ``report.json`` into ``directory`` (made if missing); its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / REPORT_JSON
    result.write(path)
    return path


def _pct(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)
