"""The trading rules as pure functions: data in, order intents out, no I/O.

See docs/ARCHITECTURE.md, 'Phases of the day'. Comparisons are strict exactly as written: buy when
``target <= price < target * band``; sell when the profit rate is ``> take_profit`` or
``< stop_loss``; sell at pre-close what has been held ``expiry`` sessions or more.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from shared.infra.settings import Settings
from shared.kis.models import Side
from shared.trading.krx_ticks import last_tick_below
from shared.trading.market_calendar import KrxCalendar, Session
from shared.trading.orders import OrderIntent, Reason
from shared.trading.picks import Pick

PREMARKET_LEAD = timedelta(minutes=30)
"""How long before the open the pre-market phase starts (plan the day, load picks)."""


class Phase(StrEnum):
    """Where in the trading day a moment is."""

    CLOSED = "closed"
    OVERNIGHT = "overnight"
    PREMARKET = "premarket"
    INTRADAY = "intraday"
    PRECLOSE = "preclose"
    POSTMARKET = "postmarket"


@dataclass(frozen=True)
class Thresholds:
    """The rule settings, with the seed's values as defaults."""

    take_profit_pct: Decimal = Decimal(5)
    stop_loss_pct: Decimal = Decimal(-3)
    buy_band_ratio: Decimal = Decimal("1.05")
    expiry_sessions: int = 5
    buy_cutoff: timedelta = timedelta(minutes=15)
    preclose_cutoff: timedelta = timedelta(minutes=10)

    @classmethod
    def from_settings(cls, settings: Settings) -> Thresholds:
        return cls(
            take_profit_pct=settings.take_profit_pct,
            stop_loss_pct=settings.stop_loss_pct,
            buy_band_ratio=settings.buy_band_ratio,
            expiry_sessions=settings.expiry_sessions,
            buy_cutoff=timedelta(minutes=settings.buy_cutoff_minutes),
            preclose_cutoff=timedelta(minutes=settings.preclose_cutoff_minutes),
        )


# Phases --------------------------------------------------------------------------------------
def phase_at(now: datetime, session: Session | None, thresholds: Thresholds) -> Phase:
    """The phase of ``now`` on a day whose session is ``session`` (None: a closed day)."""
    if session is None:
        return Phase.CLOSED
    if now < session.opens - PREMARKET_LEAD:
        return Phase.OVERNIGHT
    if now < session.opens:
        return Phase.PREMARKET
    if now < session.closes - thresholds.buy_cutoff:
        return Phase.INTRADAY
    if now < session.closes - thresholds.preclose_cutoff:
        return Phase.PRECLOSE
    return Phase.POSTMARKET


# The day plan ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class DayPlan:
    """Pre-market's decisions: which picks to watch and how much to spend on each."""

    session: date
    cash: int
    buy_amount: int
    picks: tuple[Pick, ...]
    held_picks: tuple[str, ...]


def plan_day(session: date, picks: Sequence[Pick], held: Iterable[str], cash: int) -> DayPlan:
    """Drop picks already held; split the cash evenly over the rest (nothing when none are left)."""
    held_codes = set(held)
    remaining = tuple(p for p in picks if p.code not in held_codes)
    dropped = tuple(sorted(p.code for p in picks if p.code in held_codes))
    amount = cash // len(remaining) if remaining and cash > 0 else 0
    return DayPlan(session, cash, amount, remaining, dropped)


# Buying ----------------------------------------------------------------------------------------
def in_buy_band(price: int, target: int, band_ratio: Decimal) -> bool:
    """``target <= price < target * band_ratio``: at or above the target, under the band's top."""
    return target <= price < Decimal(target) * band_ratio


def buy_quantity(price: int, target: int, buy_amount: int, band_ratio: Decimal) -> int:
    """Shares to buy now: ``buy_amount // price`` inside the band, else 0."""
    if price <= 0 or not in_buy_band(price, target, band_ratio):
        return 0
    return buy_amount // price


def buy_limit_price(target: int, band_ratio: Decimal) -> int:
    """The band's last tick: the highest KRX price strictly below ``target * band_ratio``.

    Entry buys are limit orders at this price (docs/ARCHITECTURE.md, 'Market orders and cash'):
    marketable while the price is in the band, they cannot fill above it, and KIS checks the
    cash against this price instead of the day's upper limit.
    """
    return last_tick_below(Decimal(target) * band_ratio)


def entry_buys(
    session: date,
    picks: Iterable[Pick],
    prices: Mapping[str, int],
    buy_amount: int,
    band_ratio: Decimal,
) -> list[OrderIntent]:
    """An entry buy for each pick whose price is in its band and affords at least one share."""
    intents = []
    for pick in picks:
        price = prices.get(pick.code)
        if price is None:
            continue
        quantity = buy_quantity(price, pick.target, buy_amount, band_ratio)
        if quantity > 0:
            limit = buy_limit_price(pick.target, band_ratio)
            intents.append(
                OrderIntent(
                    session,
                    pick.code,
                    pick.name,
                    Side.BUY,
                    Reason.ENTRY,
                    quantity,
                    price,
                    limit,
                    floor_price=pick.target,
                )
            )
    return intents


# Selling ---------------------------------------------------------------------------------------
def profit_rate(average_price: Decimal, price: int) -> Decimal:
    """Percent gain of ``price`` over the average purchase price."""
    if average_price <= 0:
        return Decimal(0)
    return (Decimal(price) - average_price) / average_price * 100


def exit_reason(average_price: Decimal, price: int, thresholds: Thresholds) -> Reason | None:
    """Take profit above ``+take_profit``, stop loss below ``stop_loss``, otherwise hold."""
    rate = profit_rate(average_price, price)
    if rate > thresholds.take_profit_pct:
        return Reason.TAKE_PROFIT
    if rate < thresholds.stop_loss_pct:
        return Reason.STOP_LOSS
    return None


def held_sessions(calendar: KrxCalendar, buy_session: date, today: date) -> int:
    """KRX sessions from the buy session to today: bought at T, today is T+n."""
    return calendar.sessions_between(buy_session, today)


def is_expired(
    calendar: KrxCalendar, buy_session: date, today: date, thresholds: Thresholds
) -> bool:
    """Held ``expiry_sessions`` sessions or more (bought at T, sold at the pre-close of T+5)."""
    return held_sessions(calendar, buy_session, today) >= thresholds.expiry_sessions


@dataclass(frozen=True)
class PricedPosition:
    """A position the rules may sell: quantity, cost, the current price, when it was bought."""

    code: str
    name: str
    quantity: int
    average_price: Decimal
    price: int
    buy_session: date | None


def exit_sell(session: date, position: PricedPosition, reason: Reason) -> OrderIntent:
    """Sell the whole position for ``reason``."""
    return OrderIntent(
        session,
        position.code,
        position.name,
        Side.SELL,
        reason,
        position.quantity,
        position.price,
    )


def intraday_sells(
    session: date, positions: Iterable[PricedPosition], thresholds: Thresholds
) -> list[OrderIntent]:
    """Take-profit and stop-loss sells of whole positions."""
    intents = []
    for position in positions:
        if position.quantity <= 0:
            continue
        reason = exit_reason(position.average_price, position.price, thresholds)
        if reason is not None:
            intents.append(exit_sell(session, position, reason))
    return intents


def expiry_sells(
    session: date,
    positions: Iterable[PricedPosition],
    calendar: KrxCalendar,
    thresholds: Thresholds,
) -> list[OrderIntent]:
    """Pre-close sells of positions held ``expiry_sessions`` or more (unknown buy date: kept)."""
    return [
        exit_sell(session, position, Reason.EXPIRY)
        for position in positions
        if position.quantity > 0
        and position.buy_session is not None
        and is_expired(calendar, position.buy_session, session, thresholds)
    ]


def in_scope(codes: Iterable[str], bot_codes: Mapping[str, object], sell_scope: str) -> list[str]:
    """Codes the rules may sell: the system's own positions (``bot``) or every holding (``all``)."""
    return [c for c in codes if sell_scope == "all" or c in bot_codes]
