"""Synthetic KRX-like bars from a seeded model: the demo's data, the benchmark's year, tests.

Not market data. Each code starts at a seeded price; each session opens with a small gap from
the previous close and moves in four sub-steps a minute (a random walk in log price), so a
minute bar's open, low, high and close come from the same path. Prices are on KRX ticks and
inside the day's ±30 % limits; minutes cover the continuous session, open to close - 10 min.
The same seed gives the same bars on every machine (numpy's PCG64).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from shared.backtest.bar_source import DAILY_MINUTE, BarArrays, IntArray
from shared.backtest.data_problems import expected_minutes
from shared.trading.krx_ticks import TICK_TABLE, TOP_TICK, lower_limit, upper_limit
from shared.trading.market_calendar import Session

FloatArray = npt.NDArray[np.float64]

SUB_STEPS = 4
"""Steps of the walk inside one minute."""


@dataclass(frozen=True)
class Model:
    """How the synthetic prices move (log-price standard deviations)."""

    minute_sigma: float = 0.0016
    gap_sigma: float = 0.01
    drift_sigma: float = 0.00003
    """Per-minute drift of a session, drawn once per session (trending days)."""
    mean_volume: int = 2_000


def tick_sizes(prices: FloatArray) -> IntArray:
    """The KRX tick of each price (vectorised :func:`shared.trading.krx_ticks.tick_size`)."""
    bounds = [bound for bound, _ in TICK_TABLE]
    ticks = np.array([tick for _, tick in TICK_TABLE] + [TOP_TICK], dtype=np.int64)
    result: IntArray = ticks[np.searchsorted(bounds, prices, side="right")]
    return result


def on_ticks(prices: FloatArray) -> IntArray:
    """Each price rounded to its tick (at least one tick)."""
    ticks = tick_sizes(prices)
    rounded: IntArray = np.maximum(ticks, np.rint(prices / ticks).astype(np.int64) * ticks)
    return rounded


def session_bars(
    rng: np.random.Generator, previous_close: int, session: Session, model: Model
) -> BarArrays:
    """One session's minute bars from ``previous_close``."""
    start, end = expected_minutes(session)
    n = end - start
    drift = rng.normal(0.0, model.drift_sigma)
    steps = rng.normal(drift / SUB_STEPS, model.minute_sigma / 2, size=n * SUB_STEPS)
    steps[0] += rng.normal(0.0, model.gap_sigma)
    path = np.exp(math.log(previous_close) + np.cumsum(steps)).reshape(n, SUB_STEPS)
    low_limit, high_limit = lower_limit(previous_close), upper_limit(previous_close)
    prices = np.clip(on_ticks(path), low_limit, high_limit)
    volume = rng.geometric(1.0 / model.mean_volume, size=n).astype(np.int64)
    return BarArrays(
        minute=np.arange(start, end, dtype=np.int64),
        open=np.ascontiguousarray(prices[:, 0]),
        high=prices.max(axis=1),
        low=prices.min(axis=1),
        close=np.ascontiguousarray(prices[:, -1]),
        volume=volume,
    )


def daily_bar(minutes: BarArrays) -> BarArrays:
    """The session's daily bar from its minute bars."""
    return BarArrays.of_rows(
        [
            (
                DAILY_MINUTE,
                int(minutes.open[0]),
                int(minutes.high.max()),
                int(minutes.low.min()),
                int(minutes.close[-1]),
                int(minutes.volume.sum()),
            )
        ]
    )


def first_prices(
    seed: int, codes: Sequence[str], low: int = 5_000, high: int = 150_000
) -> dict[str, int]:
    """Each code's price before the first session: seeded, log-uniform in ``[low, high]``."""
    rng = np.random.default_rng([seed, 0])
    levels = np.exp(rng.uniform(math.log(low), math.log(high), size=len(codes)))
    return dict(zip(codes, (int(p) for p in on_ticks(levels)), strict=True))


def history(
    seed: int,
    codes: Sequence[str],
    sessions: Iterable[Session],
    model: Model | None = None,
) -> tuple[dict[tuple[str, date], BarArrays], dict[tuple[str, date], BarArrays]]:
    """Minute and daily bars of ``codes`` over ``sessions``: the same seed, the same bars."""
    model = model or Model()
    closes = first_prices(seed, codes)
    minute: dict[tuple[str, date], BarArrays] = {}
    daily: dict[tuple[str, date], BarArrays] = {}
    for number, session in enumerate(sessions, start=1):
        for index, code in enumerate(codes):
            rng = np.random.default_rng([seed, number, index])
            bars = session_bars(rng, closes[code], session, model)
            minute[(code, session.day)] = bars
            daily[(code, session.day)] = daily_bar(bars)
            closes[code] = int(bars.close[-1])
    return minute, daily
