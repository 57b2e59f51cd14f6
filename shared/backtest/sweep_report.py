"""A sweep's output: the lines ``kat backtest --sweep`` prints, ``sweep.json`` and
``sweep.html`` in ``DATA_DIR/backtests/sweep-<range>-<when>/``.

See docs/ARCHITECTURE.md, 'Backtest' (the sweep). The page is self-contained like
``report.html`` (shared/backtest/report_html.py): the overfitting warning first, the ranking
with out-of-sample beside each row, in-sample against out-of-sample drawn point by point, and
for a two-setting grid the grid itself, so a lone peak shows beside a broad plateau.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from shared.backtest.layout import SWEEP_HTML, SWEEP_JSON
from shared.backtest.report_html import HeatCell, environment, heat
from shared.backtest.sweep_results import Metric, RunScore, SweepResult, SweepRow, figure
from shared.infra.clock import KST
from shared.infra.svg_chart import Plot, Tick, padded
from shared.trading.bars import BarKind

PRINTED_ROWS = 20
"""Rows ``kat backtest --sweep`` prints (the page has them all)."""
SCATTER = (560, 360)
SCATTER_MARGINS = (70.0, 20.0, 14.0, 44.0)
METRIC_WORDS = {
    Metric.RETURN: "net return",
    Metric.PROFIT_FACTOR: "profit factor",
    Metric.EXPECTANCY: "expectancy",
    Metric.WIN_RATE: "win rate",
    Metric.MAX_DRAWDOWN: "max drawdown",
}


def sweep_id(result: SweepResult, now: datetime) -> str:
    """A directory name for the sweep: ``sweep-<from>-<to>-<when>``."""
    config = result.config
    return f"sweep-{config.start:%Y%m%d}-{config.end:%Y%m%d}-{now:%Y%m%dT%H%M%S}"


# Text ------------------------------------------------------------------------------------------
COLUMNS = (
    (Metric.RETURN, "return", 9),
    (Metric.MAX_DRAWDOWN, "max dd", 8),
    (None, "trades", 6),
    (Metric.WIN_RATE, "win", 7),
    (Metric.PROFIT_FACTOR, "PF", 5),
    (Metric.EXPECTANCY, "exp. won", 9),
)
"""The figures beside each point, in-sample and out-of-sample: (metric, heading, width)."""


def _cells(run: RunScore) -> str:
    return " ".join(
        f"{(str(run.trades) if metric is None else figure(run, metric)):>{width}}"
        for metric, _heading, width in COLUMNS
    )


def sweep_lines(result: SweepResult, seconds: float | None = None) -> list[str]:
    """What ``kat backtest --sweep`` prints: the grid, the split, the ranking, the warning."""
    config = result.config
    names = list(result.grid)
    rows = result.rows
    first = rows[0]
    took = f" in {seconds:.1f} s" if seconds is not None else ""
    lines = [
        f"sweep {config.start} to {config.end}: {len(rows)} points of {' x '.join(names)}"
        f" on {result.workers} processes{took}",
        f"ranked by {result.metric.value} in-sample {first.in_sample.start} to"
        f" {first.in_sample.end} ({first.in_sample.sessions} sessions); out-of-sample"
        f" {first.out_of_sample.start} to {first.out_of_sample.end}"
        f" ({first.out_of_sample.sessions} sessions) beside it",
    ]
    widths = [max(len(n), *(len(r.point[n]) for r in rows)) for n in names]
    side = " ".join(f"{heading:>{width}}" for _m, heading, width in COLUMNS)
    settings = " ".join(f"{n:>{w}}" for n, w in zip(names, widths, strict=True))
    lines.append(f"rank {settings} | in-sample: {side} | out-of-sample: {side}")
    pad = " " * len("in-sample: ")
    pad_out = " " * len("out-of-sample: ")
    for row in rows[:PRINTED_ROWS]:
        values = " ".join(f"{row.point[n]:>{w}}" for n, w in zip(names, widths, strict=True))
        mark = " (live)" if row.live else ""
        lines.append(
            f"{row.rank:>4} {values} | {pad}{_cells(row.in_sample)} |"
            f" {pad_out}{_cells(row.out_of_sample)}{mark}"
        )
    if len(rows) > PRINTED_ROWS:
        lines.append(f"... {len(rows) - PRINTED_ROWS} more points in {SWEEP_HTML}")
    if result.rank_correlation is not None:
        lines.append(
            f"in-sample and out-of-sample {result.metric.value} ranks correlate"
            f" {result.rank_correlation} (Spearman; near 1: the ranking carried over, near 0"
            " or below: it did not)"
        )
    lines.append(f"WARNING: {result.warning}")
    return lines


# Files -----------------------------------------------------------------------------------------
def write_sweep(result: SweepResult, directory: Path, written: datetime | None = None) -> Path:
    """Write ``sweep.json`` and ``sweep.html`` into ``directory`` (made if missing); the
    page's path."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / SWEEP_JSON).write_text(
        json.dumps(result.to_json(), ensure_ascii=False, indent=1) + "\n"
    )
    page = directory / SWEEP_HTML
    page.write_text(render_sweep(result, written or datetime.now(KST)), encoding="utf-8")
    return page


def read_sweep(path: Path) -> SweepResult:
    return SweepResult.from_json(json.loads(path.read_text()))


# The page --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScatterDot:
    x: float
    y: float
    tone: str
    best: bool
    title: str


@dataclass(frozen=True)
class Scatter:
    """Each point's metric in-sample (x) against out-of-sample (y)."""

    plot: Plot
    dots: tuple[ScatterDot, ...]
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    zero_x: float | None
    zero_y: float | None
    left_out: int
    """Points not drawn: a figure missing or infinite."""


@dataclass(frozen=True)
class GridTable:
    """A two-setting grid: rows of the first setting's values, columns of the second's."""

    row_name: str
    column_name: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, tuple[HeatCell, ...]], ...]


def render_sweep(result: SweepResult, written: datetime) -> str:
    config = result.config
    return (
        environment()
        .get_template("sweep.html")
        .render(
            result=result,
            config=config,
            thresholds=config.thresholds,
            first=result.rows[0],
            names=list(result.grid),
            metric_words=METRIC_WORDS[result.metric],
            figure=figure,
            Metric=Metric,
            scatter=scatter(result),
            grid=grid_table(result),
            coarse=config.bars is BarKind.DAY,
            bars="daily bars only (the coarse model)"
            if config.bars is BarKind.DAY
            else "minute bars (daily bars where a session has none)",
            written=f"{written:%Y-%m-%d %H:%M} KST",
        )
    )


def _goodness(metric: Metric, run: RunScore) -> Decimal | None:
    """How good ``run`` is by ``metric``, centred on 0 (red above, blue below)."""
    value = run.value(metric)
    if value is None:
        return None
    centre = {Metric.PROFIT_FACTOR: Decimal(1), Metric.WIN_RATE: Decimal(50)}.get(metric, 0)
    return -value if metric is Metric.MAX_DRAWDOWN else value - centre


def grid_table(result: SweepResult) -> GridTable | None:
    """The grid as a table when it has exactly two settings (else None)."""
    if len(result.grid) != 2:
        return None
    (row_name, row_values), (column_name, column_values) = result.grid.items()
    by_point = {(r.point[row_name], r.point[column_name]): r for r in result.rows}
    goodness = [g for r in result.rows if (g := _goodness(result.metric, r.in_sample)) is not None]
    scale = max((abs(g) for g in goodness), default=Decimal(1)) or Decimal(1)
    rows = []
    for value in row_values:
        cells = []
        for column in column_values:
            row = by_point[(value, column)]
            good = _goodness(result.metric, row.in_sample)
            inside = figure(row.in_sample, result.metric)
            text = f"{inside} / {figure(row.out_of_sample, result.metric)}"
            cells.append(
                HeatCell(
                    text,
                    heat(good if good is not None else Decimal(0), scale),
                    f"rank {row.rank}: {row_name}={value} {column_name}={column}",
                )
            )
        rows.append((value, tuple(cells)))
    return GridTable(row_name, column_name, tuple(column_values), tuple(rows))


def scatter(result: SweepResult) -> Scatter | None:
    """In-sample against out-of-sample by the ranking metric (None: fewer than two to draw)."""
    metric = result.metric
    pairs: list[tuple[float, float, SweepRow]] = []
    for row in result.rows:
        x, y = row.in_sample.value(metric), row.out_of_sample.value(metric)
        if x is not None and y is not None:
            pairs.append((float(x), float(y), row))
    if len(pairs) < 2:
        return None
    xs = [p[0] for p in pairs]
    ys = [p[1] for p in pairs]
    plot = Plot.of(
        SCATTER, SCATTER_MARGINS, padded(min(xs), max(xs), 0.5), padded(min(ys), max(ys), 0.5)
    )
    dots = tuple(
        ScatterDot(
            round(plot.x(x), 1),
            round(plot.y(y), 1),
            _dot_tone(row.out_of_sample, metric),
            row.rank == 1,
            f"rank {row.rank}: "
            + " ".join(f"{k}={v}" for k, v in row.point.items())
            + f"; in-sample {figure(row.in_sample, metric)},"
            f" out-of-sample {figure(row.out_of_sample, metric)}",
        )
        for x, y, row in pairs
    )
    label = _axis_label(metric)
    return Scatter(
        plot=plot,
        dots=dots,
        x_ticks=plot.x_ticks(label),
        y_ticks=plot.y_ticks(label),
        zero_x=round(plot.x(0), 1) if plot.x_low < 0 < plot.x_high else None,
        zero_y=round(plot.y(0), 1) if plot.y_low < 0 < plot.y_high else None,
        left_out=len(result.rows) - len(pairs),
    )


def _axis_label(metric: Metric) -> Callable[[float], str]:
    if metric in (Metric.RETURN, Metric.WIN_RATE, Metric.MAX_DRAWDOWN):
        return lambda v: f"{v:g} %"
    if metric is Metric.EXPECTANCY:
        return lambda v: f"{v:,.0f}"
    return lambda v: f"{v:g}"


def _dot_tone(run: RunScore, metric: Metric) -> str:
    good = _goodness(metric, run)
    if good is None or good == 0:
        return ""
    return "up" if good > 0 else "down"
