"""The backtest's account: the broker's ledger with KIS's money rules, and live's order method.

See docs/ARCHITECTURE.md, 'Backtest' and 'Market orders and cash'. The account is
:class:`shared.broker.ledger.Ledger` (the simulator's own): orderable cash counts every trade at
once, the deposit moves at D+2, fees and tax are cut below one won, and a buy needs quantity x
limit plus its fee. An entry buy goes through the executor's steps (``services/executor/
placing.py``, ``Placer._send``) in their order:

1. MAX_ORDER_KRW reduces it to the shares that fit (:func:`capped_quantity`, as
   ``LimitGuard.shares``), refused when none does;
2. KIS's buyable quantity at its limit, fee included (``Placer._affordable``; the quantity
   ``inquire-psbl-order`` answers, :meth:`Fees.affordable_qty` as the simulator computes it)
   reduces it again, cancelled when not one share is allowed;
3. MAX_ORDERS_PER_DAY and MAX_OPEN_POSITIONS refuse it when full (``LimitGuard.reserve``).

Sells are market orders, never refused; they count as orders of the day. The day's loss limit
(DAILY_LOSS_LIMIT_KRW) is not applied: it reads live valuations during the session.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from shared.backtest.config import BacktestConfig
from shared.backtest.results import OrderOutcome
from shared.broker import settlement
from shared.broker.accounts import Account
from shared.broker.ledger import Ledger
from shared.broker.money import Fees
from shared.broker.orders import LIMIT, MARKET, Fill, Order
from shared.state.money_limits import capped_quantity
from shared.trading.market_calendar import KrxCalendar
from shared.trading.orders import OrderIntent

ACCOUNT_NUMBER = "00000000-01"
"""The one account of a run."""


@dataclass(frozen=True)
class Sendable:
    """What the order method makes of a buy: the shares to send (0: not sent) and why."""

    quantity: int
    status: OrderOutcome
    note: str = ""


def sendable_buy(
    intent: OrderIntent,
    *,
    orderable_cash: int,
    fees: Fees,
    config: BacktestConfig,
    orders_today: int,
    open_positions: int,
) -> Sendable:
    """The shares of an entry buy the executor would send, with the reason for any cut."""
    price = intent.limit_price or intent.price_seen
    notes = []
    allowed = capped_quantity(intent.quantity, price, config.max_order_krw)
    if allowed < intent.quantity:
        verdict = "refused" if allowed <= 0 else f"reduced to {allowed}"
        notes.append(
            f"{intent.quantity} shares at {price:,} won exceed the {config.max_order_krw:,} won"
            f" per order: {verdict}"
        )
        if allowed <= 0:
            return Sendable(0, OrderOutcome.REFUSED, notes[0])
    buyable = fees.affordable_qty(orderable_cash, price)
    quantity = min(allowed, buyable)
    if quantity <= 0:
        why = f"KIS allows no share at {price:,} won with the cash left ({orderable_cash:,} won)"
        return Sendable(0, OrderOutcome.CANCELLED, why)
    if quantity < allowed:
        notes.append(
            f"KIS allows {buyable} of {allowed} shares at {price:,} won"
            f" (orderable cash {orderable_cash:,} won)"
        )
    if orders_today >= config.max_orders_per_day:
        why = f"the limit max_orders_per_day={config.max_orders_per_day} is reached"
        return Sendable(0, OrderOutcome.REFUSED, why)
    if open_positions >= config.max_open_positions:
        why = f"the limit max_open_positions={config.max_open_positions} is reached"
        return Sendable(0, OrderOutcome.REFUSED, why)
    return Sendable(quantity, OrderOutcome.FILLED, "; ".join(notes))


class BacktestAccount:
    """One account in the broker's ledger, trading at the prices the fill model gives."""

    def __init__(self, config: BacktestConfig, calendar: KrxCalendar) -> None:
        self.fees = Fees(config.costs)
        days = config.settlement_days
        settles_on = functools.lru_cache(maxsize=None)(
            lambda day: settlement.settlement_day(calendar, day, days)
        )
        self._ledger = Ledger(config.cash, self.fees, settles_on)
        self.account: Account = self._ledger.account(ACCOUNT_NUMBER)

    def open_session(self, now: datetime) -> None:
        """Settle what is due by ``now`` (the deposit moves at D+2)."""
        self._ledger.settle(now, _no_resting_orders)

    @property
    def orderable_cash(self) -> int:
        """What KIS's inquire-psbl-order would answer as ``ord_psbl_cash``."""
        return self.account.orderable_cash

    @property
    def deposit(self) -> int:
        return self.account.cash

    @property
    def pending(self) -> int:
        """Won still to settle, net."""
        return settlement.total(self.account.pending)

    def _done(self, order: Order) -> Fill:
        """The order's fill; the filled order leaves the account's list of orders.

        The run keeps its own records of orders and fills (:mod:`shared.backtest.results`);
        the ledger's account only needs orders still working, which a run never has, and its
        cash and share checks walk that list on every order.
        """
        if order.remaining:
            raise RuntimeError(f"order {order.odno} of {order.code} did not fill whole")
        self.account.orders.remove(order)
        return order.fills[-1]

    def buy(
        self, intent: OrderIntent, quantity: int, price: int, now: datetime, lapses_kst: datetime
    ) -> Fill:
        """A limit buy at the intent's limit that fills ``quantity`` at ``price`` now."""
        limit = intent.limit_price or price
        order = self._ledger.place(
            self.account,
            code=intent.code,
            name=intent.name,
            side="buy",
            division=LIMIT,
            qty=quantity,
            limit=limit,
            reserve_unit=limit,
            fills=[(quantity, price, now)],
            now=now,
            lapses_kst=lapses_kst,
        )
        return self._done(order)

    def sell(self, intent: OrderIntent, price: int, now: datetime, lapses_kst: datetime) -> Fill:
        """A market sell of the whole intent that fills at ``price`` now."""
        order = self._ledger.place(
            self.account,
            code=intent.code,
            name=intent.name,
            side="sell",
            division=MARKET,
            qty=intent.quantity,
            limit=0,
            reserve_unit=0,
            fills=[(intent.quantity, price, now)],
            now=now,
            lapses_kst=lapses_kst,
        )
        return self._done(order)


def _no_resting_orders(order: Order, start: datetime, end: datetime) -> datetime | None:
    # Every order of a run fills when it is placed; nothing rests to be crossed later.
    return None
