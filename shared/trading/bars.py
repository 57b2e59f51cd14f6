"""Price bars of KRX history and the one path a bar's prices are taken to follow inside it.

See docs/ARCHITECTURE.md, 'Backtest'. A bar is what KIS's chart endpoints return (one minute, or
one session for a daily bar) in won and shares. The backtest's fast driver and the simulator's
replay of the same bars both walk a bar through :func:`bar_path`, so the engine's rules meet the
same prices in the same order whichever driver runs them.

The path is pessimistic for what the rules hold: inside a bar the low comes before the high, so a
bar that touches both a position's stop-loss and its take-profit sells it at the stop-loss.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from shared.infra.clock import KST


class BarKind(StrEnum):
    """The length of a bar."""

    MINUTE = "minute"
    DAY = "day"


class BarError(ValueError):
    """A bar whose numbers cannot be a trade's (high under low, a price of zero, ...)."""


@dataclass(frozen=True, slots=True)
class Bar:
    """One minute (``minute`` set: the minute it starts, KST) or one session (``minute`` None)."""

    code: str
    day: date
    minute: time | None
    open: int
    high: int
    low: int
    close: int
    volume: int

    def __post_init__(self) -> None:
        problem = bar_problem(self.open, self.high, self.low, self.close, self.volume)
        if problem:
            raise BarError(f"{self.code} {self.day} {self.minute or ''}: {problem}".strip())

    @property
    def kind(self) -> BarKind:
        return BarKind.DAY if self.minute is None else BarKind.MINUTE

    @property
    def starts_kst(self) -> datetime | None:
        """The moment a minute bar starts; None for a daily bar."""
        if self.minute is None:
            return None
        return datetime.combine(self.day, self.minute, KST)


def bar_problem(open_: int, high: int, low: int, close: int, volume: int) -> str:
    """Why these numbers cannot make a bar, or "" when they can."""
    if min(open_, high, low, close) <= 0:
        return "every price must be a positive number of won"
    if high < max(open_, close, low) or low > min(open_, close):
        return f"high {high} and low {low} do not contain open {open_} and close {close}"
    if volume < 0:
        return f"volume {volume} is negative"
    return ""


PATH_STEP = timedelta(seconds=15)
"""Market time between two points of a minute bar's path (its four points fill the minute)."""


def bar_path(bar: Bar) -> tuple[int, int, int, int]:
    """The prices a bar is taken to trade at, in order: open, low, high, close.

    Low before high is the pessimistic order for a position held into the bar (its stop-loss is
    met first); the backtest's fill model (docs/ARCHITECTURE.md, 'Backtest') relies on it.
    """
    return (bar.open, bar.low, bar.high, bar.close)


def path_moments(bar: Bar) -> tuple[datetime, datetime, datetime, datetime]:
    """When each point of a minute bar's path is reached: every :data:`PATH_STEP` from its start."""
    start = bar.starts_kst
    if start is None:
        raise BarError(f"{bar.code} {bar.day}: a daily bar has no moments inside a session")
    return (start, start + PATH_STEP, start + 2 * PATH_STEP, start + 3 * PATH_STEP)
