"""The account-value chart as SVG geometry computed on the server (no JavaScript on the page).

The geometry (scales, ticks, polylines) is shared with the backtest's report:
shared/infra/svg_chart.py. This module chooses what the status page plots: the day's readings
over the session's hours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.api.state import EquityPoint
from shared.infra.svg_chart import Plot, Tick, padded
from shared.trading.market_calendar import Session

WIDTH = 760
"""Chart width in SVG units (it scales with the page)."""
HEIGHT = 260
"""Chart height in SVG units."""
LEFT, RIGHT, TOP, BOTTOM = 92, 20, 16, 34
"""Margins around the plot, room for the axis labels."""


@dataclass(frozen=True)
class Chart:
    """Everything the template draws; ``points`` is the polyline's ``points`` attribute."""

    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    points: str
    point_count: int
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    baseline_y: float
    last_x: float
    last_y: float
    first_value: int
    last_value: int
    low: int
    high: int

    @property
    def change(self) -> int:
        return self.last_value - self.first_value

    @property
    def direction(self) -> str:
        """``up`` or ``down`` against the day's first reading (KRX colours: red up, blue down)."""
        return "down" if self.change < 0 else "up"


def build(points: Sequence[EquityPoint], session: Session | None) -> Chart | None:
    """The chart of ``points`` over the session's hours; None when there is nothing to draw."""
    if not points:
        return None
    start, end = _time_domain(points, session)
    values = [p.value for p in points]
    plot = Plot.of(
        (WIDTH, HEIGHT),
        (LEFT, RIGHT, TOP, BOTTOM),
        (0, (end - start).total_seconds()),
        padded(min(values), max(values)),
    )

    def seconds(moment: datetime) -> float:
        return (moment - start).total_seconds()

    xs = [seconds(p.valued_kst) for p in points]
    last_x, last_y = plot.coordinates(xs[-1:], values[-1:])[0]
    return Chart(
        width=plot.width,
        height=plot.height,
        left=plot.left,
        right=plot.right,
        top=plot.top,
        bottom=plot.bottom,
        points=plot.points(xs, values),
        point_count=len(xs),
        x_ticks=tuple(plot.x_tick(seconds(hour), f"{hour:%H:%M}") for hour in _hours(start, end)),
        y_ticks=plot.y_ticks(lambda v: f"{v:,.0f}"),
        baseline_y=round(plot.y(values[0]), 1),
        last_x=round(last_x, 1),
        last_y=round(last_y, 1),
        first_value=values[0],
        last_value=values[-1],
        low=min(values),
        high=max(values),
    )


def _time_domain(
    points: Sequence[EquityPoint], session: Session | None
) -> tuple[datetime, datetime]:
    first, last = points[0].valued_kst, points[-1].valued_kst
    if session is not None:
        # The whole session, so the line's length says how far through the day we are.
        return min(first, session.opens), max(last, session.closes)
    if last - first < timedelta(minutes=30):
        middle = first + (last - first) / 2
        return middle - timedelta(minutes=15), middle + timedelta(minutes=15)
    return first, last


def _hours(start: datetime, end: datetime) -> list[datetime]:
    """Every whole hour from ``start`` to ``end`` (about 7 labels a session)."""
    step = timedelta(hours=1)
    if end - start > timedelta(hours=12):
        step = timedelta(hours=3)
    tick = start.replace(minute=0, second=0, microsecond=0)
    if tick < start:
        tick += timedelta(hours=1)
    ticks = []
    while tick <= end:
        ticks.append(tick)
        tick += step
    return ticks
