"""Chart geometry for SVG drawn on the server: a plot area, its scales, ticks and polylines.

Pure arithmetic, no drawing: a page's template writes the ``<svg>`` from these numbers, so
neither the status page (services/api/chart.py) nor the backtest's report
(shared/backtest/report_html.py) needs JavaScript. One copy of the geometry for both.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

DEFAULT_Y_TICKS = 5
"""About how many value labels a y axis gets."""
PAD_RATIO = 0.08
"""Room left above the highest and under the lowest value, as a share of their range."""


@dataclass(frozen=True)
class Tick:
    """An axis label and where it goes (x or y in SVG units)."""

    position: float
    label: str


@dataclass(frozen=True)
class Plot:
    """A plot area (``left``..``right``, ``top``..``bottom`` in SVG units, ``width`` by
    ``height`` with the margins) mapping ``x_low..x_high`` left to right and ``y_low..y_high``
    bottom to top."""

    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    x_low: float
    x_high: float
    y_low: float
    y_high: float

    @classmethod
    def of(
        cls,
        size: tuple[int, int],
        margins: tuple[float, float, float, float],
        x_domain: tuple[float, float],
        y_domain: tuple[float, float],
    ) -> Plot:
        """A plot of ``size`` (width, height) with ``margins`` (left, right, top, bottom)."""
        width, height = size
        left, right, top, bottom = margins
        if x_domain[1] <= x_domain[0] or y_domain[1] <= y_domain[0]:
            raise ValueError(f"an empty domain: x {x_domain}, y {y_domain}")
        return cls(width, height, left, width - right, top, height - bottom, *x_domain, *y_domain)

    def x(self, value: float) -> float:
        return self.left + (value - self.x_low) / (self.x_high - self.x_low) * (
            self.right - self.left
        )

    def y(self, value: float) -> float:
        return self.bottom - (value - self.y_low) / (self.y_high - self.y_low) * (
            self.bottom - self.top
        )

    def coordinates(self, xs: Sequence[float], ys: Sequence[float]) -> list[tuple[float, float]]:
        return [(self.x(x), self.y(y)) for x, y in zip(xs, ys, strict=True)]

    def points(self, xs: Sequence[float], ys: Sequence[float]) -> str:
        """A polyline's ``points`` attribute: ``x,y x,y ...`` to 0.1 unit."""
        return polyline(self.coordinates(xs, ys))

    def area(self, xs: Sequence[float], ys: Sequence[float], base: float) -> str:
        """A polygon's ``points`` filling from the line of ``ys`` to the value ``base``."""
        if not xs:
            return ""
        line = self.coordinates(xs, ys)
        floor = self.y(base)
        return polyline([(line[0][0], floor), *line, (line[-1][0], floor)])

    def y_ticks(
        self, label: Callable[[float], str], count: int = DEFAULT_Y_TICKS
    ) -> tuple[Tick, ...]:
        """Round values inside the y domain, placed and labelled."""
        return tuple(
            Tick(round(self.y(v), 1), label(v)) for v in nice_ticks(self.y_low, self.y_high, count)
        )

    def x_ticks(
        self, label: Callable[[float], str], count: int = DEFAULT_Y_TICKS
    ) -> tuple[Tick, ...]:
        """Round values inside the x domain, placed and labelled."""
        return tuple(
            Tick(round(self.x(v), 1), label(v)) for v in nice_ticks(self.x_low, self.x_high, count)
        )

    def x_tick(self, value: float, label: str) -> Tick:
        return Tick(round(self.x(value), 1), label)


def polyline(coordinates: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in coordinates)


def padded(low: float, high: float, flat_pad: float = 1000.0) -> tuple[float, float]:
    """A value domain around ``low..high`` with room at both ends; a flat series (``low ==
    high``) is centred with ``max(0.5 % of the value, flat_pad)`` either side, not divided by
    a zero range."""
    if high == low:
        pad = max(abs(low) * 0.005, flat_pad)
        return low - pad, high + pad
    pad = (high - low) * PAD_RATIO
    return low - pad, high + pad


def nice_ticks(low: float, high: float, count: int = DEFAULT_Y_TICKS) -> list[float]:
    """About ``count`` round values (steps of 1, 2, 2.5 or 5 times a power of ten) within
    ``low..high``."""
    if high <= low:
        return [low]
    raw_step = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw_step))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw_step)
    ticks = []
    index = math.ceil(low / step)
    while index * step <= high:
        ticks.append(index * step)
        index += 1
    return ticks
