"""KRX's volatility interruptions (VI, 변동성완화장치) when ``SIM_VI=on``
(services/kis_sim/README.md, 'Volatility interruptions').

A trade that would move the price 10 % or more from the static reference (the last single-price
auction's price: the open, or the previous VI's) triggers a static VI; one that would move it
3 % (KOSPI 200 members) or 6 % (others) or more from the last trade triggers a dynamic VI. Either
stops continuous trading for two minutes plus a seeded random extension of up to 30 seconds; the
trade does not happen (the price stands at the last one), orders are taken unfilled, and at the
end one single-price auction fills what its price crosses. That price is the new static
reference. Pure: a session's price events in, its VI windows out.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

VI_SECONDS = 120
"""The single-price auction of a VI lasts two minutes ..."""
MAX_EXTENSION_SECONDS = 30
"""... plus a random extension of up to 30 seconds (임의연장)."""
STATIC_RATE = 0.10
"""Static VI: ±10 % from the static reference, every stock."""
DYNAMIC_RATE_KOSPI200 = 0.03
"""Dynamic VI in continuous trading, KOSPI 200 members."""
DYNAMIC_RATE_OTHERS = 0.06
"""Dynamic VI in continuous trading, other KOSPI and KOSDAQ stocks."""

ViKind = Literal["static", "dynamic"]


@dataclass(frozen=True)
class ViWindow:
    """One VI: no continuous trading in ``[start, end)``; ``held`` is the price that stands
    during it, ``reference`` the price it was measured from."""

    start: datetime
    end: datetime
    kind: ViKind
    held: int
    reference: int

    def covers(self, moment: datetime) -> bool:
        """Whether ``moment`` is inside the window."""
        return self.start <= moment < self.end


def vi_windows(
    events: Sequence[tuple[datetime, int]],
    dynamic_rate: float,
    until: datetime,
    seed: str,
) -> tuple[ViWindow, ...]:
    """The VIs of a session whose continuous trading is ``events`` (moment, price), the first
    the opening price, up to ``until`` (the closing call's start); ``seed`` picks the
    extensions."""
    if not events:
        return ()
    rng = random.Random(seed)  # noqa: S311 - a simulation, not cryptography
    windows: list[ViWindow] = []
    static_ref = last = events[0][1]
    window_end: datetime | None = None
    for moment, price in events[1:]:
        if moment >= until:
            break
        if window_end is not None:
            if moment < window_end:
                continue
            # The VI's single-price auction: the path's price at its end.
            static_ref = last = _price_at(events, window_end)
            window_end = None
        kind: ViKind | None = None
        if abs(price - static_ref) >= static_ref * STATIC_RATE:
            kind, reference = "static", static_ref
        elif abs(price - last) >= last * dynamic_rate:
            kind, reference = "dynamic", last
        if kind is None:
            last = price
            continue
        length = timedelta(seconds=VI_SECONDS + rng.uniform(0, MAX_EXTENSION_SECONDS))
        end = min(moment + length, until)
        windows.append(ViWindow(moment, end, kind, last, reference))
        window_end = end
    return tuple(windows)


def _price_at(events: Sequence[tuple[datetime, int]], moment: datetime) -> int:
    price = events[0][1]
    for at, value in events:
        if at > moment:
            break
        price = value
    return price
