"""``report.html``: one self-contained page a trader reads, beside ``report.json``.

See docs/ARCHITECTURE.md, 'Backtest' (the report). Inline CSS and SVG drawn here on the server
(geometry: shared/infra/svg_chart.py, as the status page's chart): no script, no stylesheet or
font or image from anywhere, so the file opens offline from a ``file://`` URL. KRX colours: red
is a gain, blue a loss.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from shared.backtest.figures import ReportFigures
from shared.backtest.results import BacktestResult, ProblemKind
from shared.infra.svg_chart import Plot, Tick, padded
from shared.kis.models import Side
from shared.trading.bars import BarKind
from shared.trading.metrics import MonthReturn, drawdowns_pct, pct
from shared.trading.orders import Reason

TEMPLATES = Path(__file__).parent / "templates"
WIDTH = 960
"""The charts' width in SVG units (they scale with the page)."""
EQUITY_HEIGHT, DRAWDOWN_HEIGHT = 300, 150
MARGINS = (96.0, 20.0, 14.0, 30.0)
"""Left, right, top, bottom: room for the axis labels."""
MAX_X_LABELS = 12
SHORT_RANGE_SESSIONS = 66
"""Up to about three months, the x axis is labelled by day; beyond, by month."""
OPEN_TRADES_TABLE = 300
"""The trades' table is shown unfolded up to this many trades (folded beyond: a <details>)."""
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
UP_RGB, DOWN_RGB = (214, 45, 45), (31, 95, 209)
"""KRX colours: red up, blue down (the status page's)."""


@dataclass(frozen=True)
class EquityChart:
    """The equity curve (the rules' and buy-and-hold's) and the drawdown under it."""

    equity: Plot
    drawdown: Plot
    rules: str
    buy_and_hold: str
    baseline_y: float
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    drawdown_x_ticks: tuple[Tick, ...]
    drawdown_y_ticks: tuple[Tick, ...]
    drawdown_area: str
    direction: str
    """``up`` or ``down``: the rules' value at the end against the starting cash."""


@dataclass(frozen=True)
class FillCounts:
    """The rules' fills, beside buy-and-hold's: how many of each side, and every fee and tax."""

    buys: int
    sells: int
    costs: int


@dataclass(frozen=True)
class HeatCell:
    text: str
    style: str
    title: str


@dataclass(frozen=True)
class YearRow:
    year: int
    cells: tuple[HeatCell | None, ...]
    """January to December (None: outside the run)."""
    total: HeatCell


def render(result: BacktestResult, figures: ReportFigures, written: datetime) -> str:
    """The page of ``result``, with ``figures`` computed from it, written at ``written``."""
    trades = result.trades
    return (
        environment()
        .get_template("report.html")
        .render(
            result=result,
            config=result.config,
            thresholds=result.config.thresholds,
            figures=figures,
            chart=equity_chart(result, figures),
            years=month_grid(figures.months),
            months=MONTHS,
            trades=trades,
            trades_unfolded=len(trades) <= OPEN_TRADES_TABLE,
            reasons=reason_labels(result),
            bars="daily bars only (the coarse model)"
            if result.config.bars is BarKind.DAY
            else "minute bars (daily bars where a session has none)",
            coarse=result.config.bars is BarKind.DAY
            or ProblemKind.DAILY_ONLY.value in figures.problems,
            written=f"{written:%Y-%m-%d %H:%M} KST",
            trade_pct=trade_pct,
            fills=FillCounts(
                buys=sum(1 for f in result.fills if f.side is Side.BUY),
                sells=sum(1 for f in result.fills if f.side is Side.SELL),
                costs=sum(f.fee + f.tax for f in result.fills),
            ),
        )
    )


def environment() -> Environment:
    """The pages' templates (``shared/backtest/templates``), HTML escaped, with the filters."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(won=won, signed=signed, rate=rate, tone=tone, decimal=decimal, whole=whole)
    return env


# The charts ------------------------------------------------------------------------------------
def equity_chart(result: BacktestResult, figures: ReportFigures) -> EquityChart | None:
    """The curves by session (None without a session to draw)."""
    values = [p.value for p in result.equity]
    if not values:
        return None
    days = [p.session for p in result.equity]
    hold = list(figures.buy_and_hold.values)
    start = result.config.cash
    low, high = padded(min([*values, *hold, start]), max([*values, *hold, start]))
    xs = list(range(len(values)))
    x_domain = (-0.5, len(values) - 0.5)
    equity = Plot.of((WIDTH, EQUITY_HEIGHT), MARGINS, x_domain, (low, high))
    falls = [float(f) for f in drawdowns_pct(start, values)]
    deepest = max([*falls, 1.0])
    drawdown = Plot.of((WIDTH, DRAWDOWN_HEIGHT), MARGINS, x_domain, (-deepest * 1.1, 0.0))
    labels = x_labels(days)
    return EquityChart(
        equity=equity,
        drawdown=drawdown,
        rules=equity.points(xs, values),
        buy_and_hold=equity.points(xs, hold) if len(hold) == len(values) else "",
        baseline_y=round(equity.y(start), 1),
        x_ticks=tuple(equity.x_tick(i, label) for i, label in labels),
        y_ticks=equity.y_ticks(lambda v: f"{v:,.0f}"),
        drawdown_x_ticks=tuple(drawdown.x_tick(i, label) for i, label in labels),
        drawdown_y_ticks=drawdown.y_ticks(lambda v: f"{v:.0f} %" if v else "0 %", count=3),
        drawdown_area=drawdown.area(xs, [-f for f in falls], 0.0),
        direction="down" if values[-1] < start else "up",
    )


def x_labels(days: Sequence[date]) -> list[tuple[int, str]]:
    """Where the x axis is labelled: every few sessions by day for a short range, else at the
    first session of a month (every k-th month, at most :data:`MAX_X_LABELS`)."""
    if len(days) <= SHORT_RANGE_SESSIONS:
        step = max(1, math.ceil(len(days) / 8))
        return [(i, f"{days[i]:%m-%d}") for i in range(0, len(days), step)]
    firsts = [
        i
        for i, d in enumerate(days)
        if i == 0 or (d.year, d.month) != (days[i - 1].year, days[i - 1].month)
    ]
    step = max(1, math.ceil(len(firsts) / MAX_X_LABELS))
    return [(i, f"{days[i]:%Y-%m}") for i in firsts[::step]]


# Monthly returns -------------------------------------------------------------------------------
def heat(value: Decimal, scale: Decimal) -> str:
    """A cell's background for a return: red up, blue down, deeper the further from 0."""
    if value == 0 or scale == 0:
        return "background: #f3f4f6"
    strength = min(Decimal(1), abs(value) / scale)
    alpha = float(Decimal("0.12") + strength * Decimal("0.78"))
    red, green, blue = UP_RGB if value > 0 else DOWN_RGB
    ink = "#fff" if alpha > 0.5 else "#1d2330"
    return f"background: rgba({red}, {green}, {blue}, {alpha:.2f}); color: {ink}"


def month_grid(months: Sequence[MonthReturn]) -> list[YearRow]:
    """The monthly returns as a year by month table; each year's total compounds its months."""
    if not months:
        return []
    scale = max(abs(m.return_pct) for m in months) or Decimal(1)
    years: dict[int, list[MonthReturn]] = {}
    for month in months:
        years.setdefault(int(month.month[:4]), []).append(month)
    rows = []
    for year, members in years.items():
        cells: list[HeatCell | None] = [None] * 12
        for m in members:
            cells[int(m.month[5:]) - 1] = _cell(m.return_pct, scale, m)
        total = pct(members[-1].end_value - members[0].start_value, members[0].start_value)
        rows.append(
            YearRow(
                year,
                tuple(cells),
                HeatCell(
                    rate(total),
                    heat(total, scale),
                    f"{year}: {members[0].start_value:,} -> {members[-1].end_value:,} won",
                ),
            )
        )
    return rows


def _cell(value: Decimal, scale: Decimal, month: MonthReturn) -> HeatCell:
    title = f"{month.month}: {month.start_value:,} -> {month.end_value:,} won"
    return HeatCell(rate(value), heat(value, scale), title)


# Words and numbers -----------------------------------------------------------------------------
def reason_labels(result: BacktestResult) -> dict[str, str]:
    """Each exit reason in plain words, with the run's threshold."""
    t = result.config.thresholds
    return {
        Reason.TAKE_PROFIT.value: f"take-profit (above {t.take_profit_pct:+} %)",
        Reason.STOP_LOSS.value: f"stop-loss (below {t.stop_loss_pct:+} %)",
        Reason.EXPIRY.value: f"expiry ({t.expiry_sessions} sessions)",
    }


def trade_pct(net: int, price: int, quantity: int) -> Decimal | None:
    cost = price * quantity
    return pct(net, cost) if cost else None


def won(value: int | None) -> str:
    """``1234567`` -> ``1,234,567``; None -> an en dash."""
    return "–" if value is None else f"{value:,}"


def signed(value: int | Decimal | None) -> str:
    """``1234`` -> ``+1,234``, ``-1234`` -> ``\u22121,234`` (a minus sign); None -> an en dash."""
    if value is None:
        return "–"
    text = f"{abs(value):,.2f}" if isinstance(value, Decimal) else f"{abs(value):,}"
    return ("+" if value > 0 else "−" if value < 0 else "") + text


def rate(value: Decimal | None) -> str:
    """A percentage with its sign: ``+8.82 %``; None -> an en dash."""
    return "–" if value is None else f"{signed(value)} %"


def whole(value: Decimal | None) -> int | None:
    """A decimal number of won to the nearest won (half up)."""
    return None if value is None else int(value.quantize(Decimal(1), ROUND_HALF_UP))


def decimal(value: Decimal | None, places: int = 2) -> str:
    return "–" if value is None else f"{value:,.{places}f}"


def tone(value: int | Decimal | None) -> str:
    """CSS class of a gain or a loss (KRX colours: red up, blue down)."""
    if value is None or value == 0:
        return ""
    return "up" if value > 0 else "down"
