"""The seeded random walk: a deterministic price for any code at any minute, cheap to compute.

Each session's close is a bounded function of (seed, code, day) alone, so no history has to be
replayed: ``base * exp(0.12 * tanh(noise))`` keeps every close within ±12.7 % of the code's base
price, hence any two closes within the ±30 % limit of each other. Inside a session the price
follows a Brownian bridge of per-minute steps from the previous close (plus an opening gap) to
that day's close, rounded to the tick and clamped to the day's limits; the whole day is computed
at once and cached.
"""

from __future__ import annotations

import functools
import hashlib
import math
import random
from dataclasses import dataclass
from statistics import NormalDist

from shared.trading.krx_ticks import lower_limit, round_to_tick, upper_limit

BASE_LOW = 1_000
"""Lowest base price in won."""
BASE_HIGH = 200_000
"""Highest base price in won."""
DRIFT_RANGE = 0.12
"""Bound of the log distance of any close from the base price."""
MINUTE_SIGMA = 0.002
"""Standard deviation of one minute's log step (0.2 %)."""
OPENING_GAP_SIGMA = 0.005
"""Standard deviation of the log gap between the previous close and the open."""
TURNOVER_PER_MINUTE = 300_000_000
"""Average traded value per minute in won, for the simulated volume."""
DAY_CACHE_SIZE = 4_096
"""(code, day) paths kept in memory."""

_NORMAL = NormalDist()


def _uniform(*parts: object) -> float:
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    # +0.5 keeps the value strictly inside (0, 1), which inv_cdf needs.
    return (int.from_bytes(digest[:8], "big") + 0.5) / 2**64


def _normal(*parts: object) -> float:
    return _NORMAL.inv_cdf(_uniform(*parts))


def base_price(seed: int, code: str) -> float:
    """The code's long-run price level, log-uniform between BASE_LOW and BASE_HIGH."""
    low, high = math.log(BASE_LOW), math.log(BASE_HIGH)
    return math.exp(low + _uniform(seed, code, "base") * (high - low))


def _smooth_noise(seed: int, code: str, ordinal: int, period: int) -> float:
    # Value noise: independent normals at every ``period`` days, linear in between, so the
    # level drifts instead of jumping from one day to the next.
    knot, offset = divmod(ordinal, period)
    a = _normal(seed, code, "knot", period, knot)
    b = _normal(seed, code, "knot", period, knot + 1)
    return a + (b - a) * offset / period


def session_close(seed: int, code: str, ordinal: int, level: float | None = None) -> int:
    """The close in won of ``code`` on the session whose date has ``ordinal``, around ``level``
    (default: the seeded :func:`base_price`)."""
    noise = (
        0.8 * _smooth_noise(seed, code, ordinal, 40)
        + 0.4 * _smooth_noise(seed, code, ordinal, 7)
        + 0.12 * _normal(seed, code, "day", ordinal)
    )
    centre = base_price(seed, code) if level is None else level
    return round_to_tick(centre * math.exp(DRIFT_RANGE * math.tanh(noise)))


@dataclass(frozen=True)
class DayPath:
    """One session, minute by minute: index ``m`` covers ``[open + m min, open + m+1 min)``;
    the last index is the close. ``highs``/``lows``/``volumes`` are running values."""

    base: int
    prices: tuple[int, ...]
    highs: tuple[int, ...]
    lows: tuple[int, ...]
    volumes: tuple[int, ...]


@functools.lru_cache(maxsize=DAY_CACHE_SIZE)
def day_path(seed: int, code: str, ordinal: int, base: int, close: int, minutes: int) -> DayPath:
    """The session of ``code`` on day ``ordinal`` from previous close ``base`` to ``close``."""
    rng = random.Random(f"{seed}:{code}:{ordinal}:intraday")  # noqa: S311 - not cryptographic
    steps = max(1, minutes)
    walk = [rng.gauss(0.0, OPENING_GAP_SIGMA)]
    for _ in range(steps):
        walk.append(walk[-1] + rng.gauss(0.0, MINUTE_SIGMA))
    start, end = math.log(base), math.log(close)
    low, high = lower_limit(base), upper_limit(base)
    prices: list[int] = []
    for m in range(steps + 1):
        share = m / steps
        level = start + share * (end - start) + walk[m] - share * walk[steps]
        prices.append(min(high, max(low, round_to_tick(math.exp(level)))))
    mean_volume = max(1.0, TURNOVER_PER_MINUTE / close)
    highs, lows, volumes = [prices[0]], [prices[0]], [0]
    for m in range(1, steps + 1):
        highs.append(max(highs[-1], prices[m]))
        lows.append(min(lows[-1], prices[m]))
        volumes.append(volumes[-1] + int(rng.expovariate(1.0) * mean_volume))
    return DayPath(base, tuple(prices), tuple(highs), tuple(lows), tuple(volumes))
