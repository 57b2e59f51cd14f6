"""The figures a run is judged by first, and where its report is written.

See docs/ARCHITECTURE.md, 'Backtest'. ``kat backtest`` prints :func:`headline_lines` and writes
``report.json`` (the whole :class:`BacktestResult` and its figures) and ``report.html`` (the page,
:mod:`shared.backtest.report_html`) into ``DATA_DIR/backtests/<run id>/``.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from shared.backtest.figures import ReportFigures
from shared.backtest.figures import figures as report_figures
from shared.backtest.layout import REPORT_HTML, REPORT_JSON
from shared.backtest.report_html import render
from shared.backtest.results import BacktestResult
from shared.infra.clock import KST
from shared.trading.bars import BarKind
from shared.trading.metrics import max_drawdown, return_pct
from shared.trading.trade_figures import TradeFigures


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
    trades = result.trades
    return Headline(
        sessions=len(result.sessions),
        start_cash=start,
        final_value=result.final_value,
        return_pct=return_pct(start, result.final_value),
        max_drawdown_pct=max_drawdown(start, [p.value for p in result.equity]).pct,
        orders=len(result.orders),
        trades=len(trades),
        wins=sum(1 for t in trades if t.net > 0),
        net_profit=sum(t.net for t in trades),
        costs=sum(t.fees + t.tax for t in trades),
        open_positions=len(result.open_positions),
        problems=len(result.problems),
    )


def headline_lines(result: BacktestResult, figures: ReportFigures | None = None) -> list[str]:
    """What ``kat backtest`` prints: the range, the money, the trades, the data problems, then
    the trades' figures and buy-and-hold of the picks beside them."""
    h = headline(result)
    f = figures or report_figures(result)
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
        f"profit factor {_factor(f.trades)}, expectancy {_won(f.trades.expectancy)} won a trade,"
        f" exposure {_rate(f.exposure_pct)}, average hold {_number(f.trades.average_hold)}"
        f" sessions; buy-and-hold of the picks {f.buy_and_hold.return_pct:+} %",
    ]


def run_id(result: BacktestResult, now: datetime) -> str:
    """A directory name for the run: its range and when it ran."""
    config = result.config
    return f"{config.start:%Y%m%d}-{config.end:%Y%m%d}-{now:%Y%m%dT%H%M%S}"


def write_report(result: BacktestResult, directory: Path, written: datetime | None = None) -> Path:
    """Write ``report.json`` (the result and its ``metrics``) and ``report.html`` into
    ``directory`` (made if missing); the JSON's path."""
    directory.mkdir(parents=True, exist_ok=True)
    figures = report_figures(result)
    path = directory / REPORT_JSON
    data = {**result.to_json(), "metrics": figures.to_json()}
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n")
    page = render(result, figures, written or datetime.now(KST))
    (directory / REPORT_HTML).write_text(page, encoding="utf-8")
    return path


def read_figures(path: Path) -> ReportFigures:
    """The ``metrics`` of a ``report.json``."""
    return ReportFigures.from_json(json.loads(path.read_text())["metrics"])


def _factor(trades: TradeFigures) -> str:
    if trades.profit_factor is not None:
        return f"{trades.profit_factor}"
    return "inf" if trades.gross_profit > 0 else "-"


def _won(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:+,.0f}"


def _rate(value: Decimal | None) -> str:
    return "-" if value is None else f"{value} %"


def _number(value: Decimal | None) -> str:
    return "-" if value is None else f"{value}"
