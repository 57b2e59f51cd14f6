"""KRX tick sizes (호가가격단위, unified 2023-01-25) and the ±30 % daily price limits.

Shared by the engine (limit prices of buys) and the simulator (valid prices, price limits). See
docs/ARCHITECTURE.md, 'Market orders and cash'.
"""

from __future__ import annotations

import math
from decimal import Decimal

TICK_TABLE: tuple[tuple[int, int], ...] = (
    (2_000, 1),
    (5_000, 5),
    (20_000, 10),
    (50_000, 50),
    (200_000, 100),
    (500_000, 500),
)
"""(upper bound exclusive, tick) in won; 1,000 won at and above the last bound."""
TOP_TICK = 1_000
"""Tick in won for prices of 500,000 and more."""
LIMIT_PERCENT = 30
"""Daily price limit (가격제한폭) in percent of the base price."""


def tick_size(price: int | float) -> int:
    """The tick in won for a price in won."""
    for bound, tick in TICK_TABLE:
        if price < bound:
            return tick
    return TOP_TICK


def round_to_tick(price: float) -> int:
    """The nearest valid price (at least one tick)."""
    tick = tick_size(price)
    return max(tick, round(price / tick) * tick)


def is_on_tick(price: int) -> bool:
    """Whether ``price`` is a valid order price."""
    return price > 0 and price % tick_size(price) == 0


def upper_limit(base: int) -> int:
    """상한가: base + 30 %, rounded down to its tick (integer arithmetic: no float error)."""
    raw = base * (100 + LIMIT_PERCENT) // 100
    return raw - raw % tick_size(raw)


def lower_limit(base: int) -> int:
    """하한가: base - 30 %, rounded up to its tick."""
    raw = -(-base * (100 - LIMIT_PERCENT) // 100)
    tick = tick_size(raw)
    return max(tick, -(-raw // tick) * tick)


def last_tick_below(bound: Decimal) -> int:
    """The highest valid order price strictly below ``bound`` won (0 when there is none).

    Rounding down inside its own tick bracket is enough: each bracket starts on a multiple of
    its tick, so no valid price lies between the result and ``bound``.
    """
    below = math.ceil(bound) - 1
    if below <= 0:
        return 0
    return below - below % tick_size(below)


def first_tick_above(bound: Decimal) -> int:
    """The lowest valid order price strictly above ``bound`` won.

    Rounding up inside its own tick bracket is enough: each bracket starts on a multiple of its
    tick, so a price rounded up past a bracket's end lands on the next bracket's first price.
    """
    above = max(math.floor(bound) + 1, 1)
    tick = tick_size(above)
    return -(-above // tick) * tick
