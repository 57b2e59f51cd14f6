"""Simulated trades: when a code trades inside a minute and how many shares each trade moves.

KIS streams one H0STCNT0 record per trade (services/kis_sim/README.md, 'WebSocket'). With
``SIM_TRADES_PER_MINUTE`` set, each code trades about that many times a clock minute during the
session: the moments are a seeded Poisson process (deterministic for seed, code and minute),
and the minute's volume (the walk's, the same the quotes count) is split among them. Pure: the
caller gives the minute's volume.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

from shared.trading.market_calendar import Session

MINUTE = timedelta(minutes=1)
MAX_TRADES_PER_MINUTE = 600.0
"""Highest rate accepted (ten a second per code)."""


def minute_trades(
    seed: int, code: str, minute_start: datetime, per_minute: float, volume: int
) -> list[tuple[datetime, int]]:
    """The trades of ``code`` in the minute from ``minute_start``: (moment, shares), in time
    order; their shares add up to ``volume`` (at least one share each)."""
    if per_minute <= 0:
        return []
    key = f"{seed}:{code}:{int(minute_start.timestamp())}:trades"
    rng = random.Random(key)  # noqa: S311 - a simulation, not cryptography
    offsets: list[float] = []
    elapsed = rng.expovariate(per_minute / 60.0)
    while elapsed < 60.0:
        offsets.append(elapsed)
        elapsed += rng.expovariate(per_minute / 60.0)
    if not offsets:
        return []
    weights = [rng.expovariate(1.0) for _ in offsets]
    total = sum(weights)
    shares = [max(1, int(volume * w / total)) for w in weights]
    shares[-1] = max(1, shares[-1] + volume - sum(shares))
    return [
        (minute_start + timedelta(seconds=offset), qty)
        for offset, qty in zip(offsets, shares, strict=True)
    ]


def trades_between(
    seed: int,
    code: str,
    session: Session,
    start: datetime,
    end: datetime,
    per_minute: float,
    minute_volume: Callable[[int], int],
) -> list[tuple[datetime, int]]:
    """The trades of ``code`` in ``(start, end]`` within ``session``'s hours; ``minute_volume(m)``
    is the volume of the session's minute ``m``."""
    if per_minute <= 0:
        return []
    low, high = max(start, session.opens), min(end, session.closes)
    if low >= high:
        return []
    first = int((low - session.opens) // MINUTE)
    last = int((high - session.opens) // MINUTE)
    found: list[tuple[datetime, int]] = []
    for m in range(first, last + 1):
        minute_start = session.opens + m * MINUTE
        if minute_start >= session.closes:
            break
        for moment, qty in minute_trades(seed, code, minute_start, per_minute, minute_volume(m)):
            if start < moment <= end:
                found.append((moment, qty))
    return found
