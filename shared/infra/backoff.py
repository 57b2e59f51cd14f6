"""Capped exponential backoff: the one formula every retry loop of the system waits by.

The KIS transport's reads, the executor's resends of an order, the notifier's posts to Discord and
the stream's reconnects each call :func:`backoff_delay` with their own first wait and cap. The
delays are real seconds: a backoff measures machines, not the market (docs/ARCHITECTURE.md, 'The
clock').
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

Uniform = Callable[[float, float], float]
"""A random source: a number between its two arguments (``random.uniform``'s signature)."""
MAX_DOUBLINGS = 1000
"""Doublings past which the wait no longer grows (``2.0 ** 1024`` overflows a float)."""


def backoff_delay(
    attempt: int,
    first: float,
    cap: float = math.inf,
    *,
    jitter: float = 0.0,
    uniform: Uniform = random.uniform,
) -> float:
    """Seconds to wait after the ``attempt``-th failure in a row: ``first``, doubled per
    further failure, at most ``cap``; an ``attempt`` below 1 waits ``first``.

    ``jitter`` spreads the wait by that fraction either way (0.25: 75 % to 125 % of it, so many
    clients do not come back together); ``uniform`` draws the factor, for tests to pin it.
    """
    if not 0 <= jitter < 1:
        raise ValueError(f"jitter must be in [0, 1), got {jitter}")
    # The exponent stops growing where a float would overflow: a stream down for hours keeps
    # counting failures long after the cap is reached.
    delay = min(cap, first * 2.0 ** min(max(0, attempt - 1), MAX_DOUBLINGS))
    if jitter:
        delay *= uniform(1 - jitter, 1 + jitter)
    return delay
