"""``--sweep NAME=V1,V2 ...``: the grid of threshold settings a sweep tries, checked whole.

See docs/ARCHITECTURE.md, 'Backtest' (the sweep). A name is one of the rule settings the
backtest takes from the live configuration (:data:`SWEEPABLE`); each value is checked with the
same bounds as the setting itself (shared/infra/settings.py), so a grid point is a
configuration live would accept. Anything else refuses the whole grid with one line.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from pydantic import TypeAdapter, ValidationError

from shared.backtest.market_data import BacktestInputError
from shared.infra.settings import Settings
from shared.trading.rules import Thresholds

SWEEPABLE: dict[str, str] = {
    "TAKE_PROFIT_PCT": "take_profit_pct",
    "STOP_LOSS_PCT": "stop_loss_pct",
    "BUY_BAND_RATIO": "buy_band_ratio",
    "EXPIRY_SESSIONS": "expiry_sessions",
    "BUY_CUTOFF_MINUTES": "buy_cutoff",
    "PRECLOSE_CUTOFF_MINUTES": "preclose_cutoff",
}
"""Each setting a sweep may vary, and the :class:`Thresholds` field it sets."""
MAX_POINTS = 2_000
"""The largest grid a sweep runs (each point is a whole backtest)."""


@dataclass(frozen=True)
class Axis:
    """One setting and the values to try, in the order given (as written, and checked)."""

    name: str
    values: tuple[str, ...]
    parsed: tuple[Any, ...]


Point = dict[str, str]
"""A grid point: each setting's value as written (``{"TAKE_PROFIT_PCT": "5"}``)."""


def parse_grid(specs: Sequence[str]) -> tuple[Axis, ...]:
    """The axes of ``NAME=V1,V2,...`` specs, or BacktestInputError naming the first problem."""
    if not specs:
        raise BacktestInputError(
            "--sweep needs at least one NAME=V1,V2,... (e.g. TAKE_PROFIT_PCT=3,5,7)"
        )
    axes: dict[str, Axis] = {}
    for spec in specs:
        name, equals, listed = spec.partition("=")
        name = name.strip().upper()
        if not equals or not name:
            raise BacktestInputError(
                f"--sweep {spec}: write NAME=V1,V2,... (e.g. TAKE_PROFIT_PCT=3,5,7)"
            )
        if name not in SWEEPABLE:
            raise BacktestInputError(
                f"--sweep {spec}: {name} is not a setting a sweep can vary (one of"
                f" {', '.join(SWEEPABLE)})"
            )
        if name in axes:
            raise BacktestInputError(f"--sweep {spec}: {name} is given twice")
        values = tuple(v.strip() for v in listed.split(","))
        if not all(values):
            raise BacktestInputError(f"--sweep {spec}: an empty value")
        if len(set(values)) != len(values):
            raise BacktestInputError(f"--sweep {spec}: a value is given twice")
        axes[name] = Axis(name, values, tuple(_checked(name, v) for v in values))
    size = 1
    for axis in axes.values():
        size *= len(axis.values)
    if size > MAX_POINTS:
        raise BacktestInputError(f"--sweep: {size:,} points, more than the {MAX_POINTS:,} allowed")
    return tuple(axes.values())


def grid_points(axes: Sequence[Axis]) -> list[Point]:
    """Every combination, the first axis varying slowest."""
    names = [a.name for a in axes]
    return [
        dict(zip(names, combo, strict=True))
        for combo in itertools.product(*(a.values for a in axes))
    ]


def thresholds_at(base: Thresholds, axes: Sequence[Axis], point: Mapping[str, str]) -> Thresholds:
    """``base`` with the point's settings; BacktestInputError when the point is not a
    configuration live would accept (a pre-close cut-off not under the buy cut-off)."""
    changes: dict[str, Any] = {}
    for axis in axes:
        value = axis.parsed[axis.values.index(point[axis.name])]
        field = SWEEPABLE[axis.name]
        changes[field] = timedelta(minutes=value) if field.endswith("cutoff") else value
    found = dataclasses.replace(base, **changes)
    if found.preclose_cutoff >= found.buy_cutoff:
        described = " ".join(f"{k}={v}" for k, v in point.items())
        raise BacktestInputError(
            f"--sweep: at {described} PRECLOSE_CUTOFF_MINUTES is not under BUY_CUTOFF_MINUTES"
        )
    return found


def live_point(base: Thresholds, axes: Sequence[Axis]) -> Point | None:
    """The grid point equal to the live settings, if the grid has it."""
    point: Point = {}
    for axis in axes:
        current = getattr(base, SWEEPABLE[axis.name])
        if isinstance(current, timedelta):
            current = int(current.total_seconds() // 60)
        matches = [
            v for v, parsed in zip(axis.values, axis.parsed, strict=True) if parsed == current
        ]
        if not matches:
            return None
        point[axis.name] = matches[0]
    return point


def _checked(name: str, text: str) -> Any:
    """``text`` as the setting ``name`` takes it, within the setting's bounds."""
    field = Settings.model_fields[name.lower()]
    bounded: Any = Annotated[field.annotation, *field.metadata]
    adapter: TypeAdapter[Any] = TypeAdapter(bounded)
    try:
        return adapter.validate_python(text)
    except ValidationError as e:
        message = str(e.errors(include_url=False)[0]["msg"])
        raise BacktestInputError(
            f"--sweep {name}={text}: {message[:1].lower()}{message[1:]}"
        ) from None
