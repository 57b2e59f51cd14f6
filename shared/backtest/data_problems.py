"""Bad data, found and named: gaps, halted days, missing bars, splits. Pure functions.

See docs/ARCHITECTURE.md, 'Backtest'. Nothing here fills or mends a bar: the driver walks the
bars that are there, and the report names what is missing or suspicious.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from shared.backtest.bar_source import BarArrays
from shared.backtest.results import DataProblem, ProblemKind
from shared.trading.krx_ticks import lower_limit, upper_limit
from shared.trading.market_calendar import Session

CLOSING_AUCTION = timedelta(minutes=10)
"""KRX's closing single-price auction (15:20-15:30 on a regular day): no minute trades in it,
so its minutes are not expected in the minute bars."""
RUNS_SHOWN = 3
"""Runs of missing minutes a gap's detail lists."""


def expected_minutes(session: Session) -> tuple[int, int]:
    """Minutes after midnight of the continuous trading, ``[open, close - CLOSING_AUCTION)``."""
    opens = session.opens.hour * 60 + session.opens.minute
    last = session.closes - CLOSING_AUCTION
    return opens, last.hour * 60 + last.minute


def gap(code: str, session: Session, bars: BarArrays) -> DataProblem | None:
    """Minutes of the continuous session without a bar, or None when every one is there."""
    start, end = expected_minutes(session)
    # Minutes are ascending and unique (one bar per minute): counting those inside is enough.
    first, last = np.searchsorted(bars.minute, (start, end))
    if last - first == end - start:
        return None
    present = bars.minute[first:last]
    missing = np.setdiff1d(np.arange(start, end), present)
    breaks = np.flatnonzero(np.diff(missing) != 1)
    run_starts = np.concatenate(([missing[0]], missing[breaks + 1]))
    run_ends = np.concatenate((missing[breaks], [missing[-1]]))
    runs = [
        _clock(int(a)) if a == b else f"{_clock(int(a))}-{_clock(int(b))}"
        for a, b in zip(run_starts[:RUNS_SHOWN], run_ends[:RUNS_SHOWN], strict=True)
    ]
    more = f" and {len(run_starts) - RUNS_SHOWN} more" if len(run_starts) > RUNS_SHOWN else ""
    detail = (
        f"{len(missing)} of {end - start} minutes without a bar ({', '.join(runs)}{more}):"
        " not walked, never filled"
    )
    return DataProblem(ProblemKind.GAP, session.day, code, detail)


def halted(code: str, day: date, why: str) -> DataProblem:
    """A session the code should trade, known to have had no trade."""
    return DataProblem(ProblemKind.HALTED, day, code, f"{why}: a halted day, nothing traded")


def no_bars(code: str, day: date, role: str) -> DataProblem:
    """A pick or a position with no bar at all for the session."""
    return DataProblem(
        ProblemKind.NO_BARS,
        day,
        code,
        f"a {role} without bars for the session (not fetched or imported): nothing traded",
    )


def daily_only(code: str, day: date) -> DataProblem:
    return DataProblem(
        ProblemKind.DAILY_ONLY,
        day,
        code,
        "no minute bars: the daily bar was walked (open, low, high, close; the coarse model)",
    )


def split(code: str, day: date, previous_close: int, bars: BarArrays) -> DataProblem | None:
    """Prices outside KRX's daily limits around the previous close: a split or an adjustment."""
    low, high = int(bars.low.min()), int(bars.high.max())
    floor, ceiling = lower_limit(previous_close), upper_limit(previous_close)
    if floor <= low and high <= ceiling:
        return None
    seen = low if low < floor else high
    return DataProblem(
        ProblemKind.SPLIT,
        day,
        code,
        f"price {seen:,} is beyond KRX's ±30 % of the previous close {previous_close:,} "
        f"({floor:,} to {ceiling:,}): a split or an adjustment? prices not adjusted",
    )


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"
