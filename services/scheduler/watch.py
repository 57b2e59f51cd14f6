"""What the scheduler watches, how far each code is from its next decision, and which codes ride
the stream. Pure functions.

See docs/ARCHITECTURE.md, 'Realtime prices on the stream'. A pick's next decision is its buy
band (``target <= price < target * band``), a position's is take profit or stop loss; the
distance is relative to the price, 0 when the rule would act now, None when the price is unknown
(the most urgent: nothing can be decided without it). A bound the rule excludes (the band's top,
the thresholds) is a tick away: a price sitting on it is not 0 away.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from shared.trading.krx_ticks import first_tick_above, last_tick_below
from shared.trading.picks import Pick
from shared.trading.rules import Thresholds, exit_reason, in_buy_band

STREAM_HYSTERESIS = 0.005
"""A code already on the stream keeps its place until another is nearer by this much (0.5 %)."""
NEAR_DECISION = 0.02
"""A code this close to its next decision (2 %, relative to its price) is *near* it: its cash is
read ahead (a pick) and, at paper's rate, the scheduler's reads yield to the order its next
tick may decide (docs/ARCHITECTURE.md, 'The cash read ahead')."""


class Watch(StrEnum):
    """Why a code is watched."""

    PICK = "pick"
    POSITION = "position"


@dataclass(frozen=True)
class Watched:
    """A code with the prices at which a rule acts.

    A pick buys at ``low <= price < high`` (target, band top). A position sells above ``high``
    (take profit) or below ``low`` (stop loss); ``average_price`` is its cost.
    """

    code: str
    name: str
    kind: Watch
    low: Decimal
    high: Decimal
    average_price: Decimal | None = None


def watched_pick(pick: Pick, band_ratio: Decimal) -> Watched:
    return Watched(pick.code, pick.name, Watch.PICK, Decimal(pick.target), pick.target * band_ratio)


def watched_position(
    code: str, name: str, average_price: Decimal, thresholds: Thresholds
) -> Watched:
    """The prices past which :func:`shared.trading.rules.exit_reason` sells (strictly)."""
    return Watched(
        code,
        name,
        Watch.POSITION,
        average_price * (100 + thresholds.stop_loss_pct) / 100,
        average_price * (100 + thresholds.take_profit_pct) / 100,
        average_price,
    )


def distance(watched: Watched, price: int | None, thresholds: Thresholds) -> float | None:
    """How far ``price`` must move, relative to itself, before the code's rule acts.

    0 when it would act at this price (the same rules the decisions use), None when unknown.
    Otherwise the move to the nearest valid price at which it acts: under the band's top, above
    the take-profit price, under the stop-loss price (each excluded by its rule).
    """
    if price is None or price <= 0:
        return None
    here = Decimal(price)
    if watched.kind is Watch.PICK:
        if in_buy_band(price, int(watched.low), thresholds.buy_band_ratio):
            return 0.0
        gap = watched.low - here if here < watched.low else here - last_tick_below(watched.high)
    else:
        assert watched.average_price is not None
        if exit_reason(watched.average_price, price, thresholds) is not None:
            return 0.0
        gap = min(first_tick_above(watched.high) - here, here - last_tick_below(watched.low))
    return float(max(gap, Decimal(0)) / here)


def next_decision(watched: Watched, price: int | None) -> str:
    """``buy`` for a pick; for a position the nearer of ``take_profit`` and ``stop_loss``."""
    if watched.kind is Watch.PICK:
        return "buy"
    if price is None:
        return "take_profit or stop_loss"
    return "take_profit" if watched.high - price <= price - watched.low else "stop_loss"


def rank(
    watched: Iterable[Watched],
    prices: Mapping[str, int],
    thresholds: Thresholds,
    streamed: Collection[str] = (),
    hysteresis: float = STREAM_HYSTERESIS,
) -> list[str]:
    """Codes nearest their next decision first: unknown prices, then by distance, then by code.

    A code in ``streamed`` counts ``hysteresis`` nearer (never nearer than 0), so two codes at
    about the same distance do not swap places at every tick. A code watched twice ranks by
    its nearer entry.
    """
    keys: dict[str, tuple[int, float, float, str]] = {}
    for w in watched:
        gap = distance(w, prices.get(w.code), thresholds)
        if gap is None:
            key = (0, 0.0, 0.0, w.code)
        else:
            favoured = max(gap - (hysteresis if w.code in streamed else 0.0), 0.0)
            key = (1, favoured, gap, w.code)
        keys[w.code] = min(key, keys.get(w.code, key))
    return sorted(keys, key=keys.__getitem__)


def choose_streamed(
    watched: Sequence[Watched],
    prices: Mapping[str, int],
    thresholds: Thresholds,
    capacity: int,
    streamed: Collection[str] = (),
    hysteresis: float = STREAM_HYSTERESIS,
) -> list[str]:
    """The ``capacity`` codes nearest a decision, nearest first: those the stream carries."""
    return rank(watched, prices, thresholds, streamed, hysteresis)[: max(capacity, 0)]


def near_decision(
    watched: Iterable[Watched],
    prices: Mapping[str, int],
    thresholds: Thresholds,
    within: float = NEAR_DECISION,
) -> list[Watched]:
    """The watched entries whose price is known and more than 0 but at most ``within`` away
    from their next decision.

    At 0 the rule acts on the price already seen (the tick that brought it has decided), so
    such a code waits for no tick; an unknown price is not near anything yet.
    """
    near = []
    for w in watched:
        gap = distance(w, prices.get(w.code), thresholds)
        if gap is not None and 0 < gap <= within:
            near.append(w)
    return near
