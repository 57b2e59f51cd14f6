"""The account-value chart as SVG geometry computed on the server (no JavaScript on the page)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.api.state import EquityPoint
from shared.trading.market_calendar import Session

WIDTH = 760
"""Chart width in SVG units (it scales with the page)."""
HEIGHT = 260
"""Chart height in SVG units."""
LEFT, RIGHT, TOP, BOTTOM = 92, 20, 16, 34
"""Margins around the plot, room for the axis labels."""
Y_TICKS = 5
"""About how many value labels the y axis gets."""


@dataclass(frozen=True)
class Tick:
    """An axis label and where it goes (x or y in SVG units)."""

    position: float
    label: str


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
    low, high = _value_domain(min(values), max(values))
    left, right, top, bottom = LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM
    span = (end - start).total_seconds()

    def x(moment: datetime) -> float:
        return left + (moment - start).total_seconds() / span * (right - left)

    def y(value: float) -> float:
        return bottom - (value - low) / (high - low) * (bottom - top)

    coords = [(x(p.valued_kst), y(p.value)) for p in points]
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        left=left,
        right=right,
        top=top,
        bottom=bottom,
        points=" ".join(f"{cx:.1f},{cy:.1f}" for cx, cy in coords),
        point_count=len(coords),
        x_ticks=tuple(Tick(round(x(hour), 1), f"{hour:%H:%M}") for hour in _hours(start, end)),
        y_ticks=tuple(Tick(round(y(v), 1), f"{v:,.0f}") for v in _nice_ticks(low, high)),
        baseline_y=round(y(values[0]), 1),
        last_x=round(coords[-1][0], 1),
        last_y=round(coords[-1][1], 1),
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


def _value_domain(low: int, high: int) -> tuple[float, float]:
    if high == low:
        # A flat day: centre the line rather than divide by a zero range.
        pad = max(abs(low) * 0.005, 1000)
        return low - pad, high + pad
    pad = (high - low) * 0.08
    return low - pad, high + pad


def _nice_ticks(low: float, high: float) -> list[float]:
    raw_step = (high - low) / Y_TICKS
    magnitude = 10 ** math.floor(math.log10(raw_step))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw_step)
    first = math.ceil(low / step) * step
    ticks = []
    value = first
    while value <= high:
        ticks.append(value)
        value += step
    return ticks


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
