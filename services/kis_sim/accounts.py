"""Accounts in integer won: cash, holdings, orders and their fills (no fees, no taxes).

Settlement is immediate (KIS settles on D+2): a fill moves cash at once, so the deposit and the
D+1/D+2 figures of the balance are equal. Resting limit buys reserve ``remaining * limit`` of the
cash and resting sells reserve their shares; market orders fill at once. Unfilled quantity lapses
at the session's close, as KRX day orders do.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

Side = Literal["buy", "sell"]
LIMIT = "00"
"""ORD_DVSN of a limit order."""
MARKET = "01"
"""ORD_DVSN of a market order."""


class LedgerError(Exception):
    """A business reason the ledger refuses an order; the caller maps it to a KIS code."""

    def __init__(self, reason: Literal["cash", "qty"]) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Fill:
    """One execution."""

    qty: int
    price: int
    at: datetime


@dataclass
class Order:
    """A cash order, or (with ``origin`` set) the cancel order that withdrew part of one."""

    odno: str
    account: str
    code: str
    name: str
    side: Side
    division: str
    qty: int
    price: int
    """Limit price in won; 0 for a market order."""
    placed_at: datetime
    lapses_at: datetime
    """The session's close: unfilled quantity lapses then."""
    origin: str = ""
    fills: list[Fill] = field(default_factory=list)
    cancelled: int = 0
    lapsed: bool = False
    checked_until: datetime | None = None
    received_at: float = field(default_factory=time.time)
    """Real unix time the order arrived (for latency benchmarks; the clock may be simulated)."""
    """How far the price path has been searched for a cross (resting limit orders)."""

    @property
    def is_cancel(self) -> bool:
        """Whether this is a cancel order."""
        return bool(self.origin)

    @property
    def filled_qty(self) -> int:
        """Shares executed."""
        return sum(f.qty for f in self.fills)

    @property
    def filled_amount(self) -> int:
        """Won executed."""
        return sum(f.qty * f.price for f in self.fills)

    @property
    def remaining(self) -> int:
        """Shares still working (0 for cancel orders and lapsed orders)."""
        if self.is_cancel or self.lapsed:
            return 0
        return self.qty - self.filled_qty - self.cancelled


@dataclass
class Holding:
    """Shares of one code and what they cost (``cost`` is the purchase amount of ``qty``)."""

    code: str
    name: str
    qty: int = 0
    cost: int = 0


@dataclass
class Account:
    """One account ``12345678-01``."""

    number: str
    cash: int
    holdings: dict[str, Holding] = field(default_factory=dict)
    orders: list[Order] = field(default_factory=list)

    def live_orders(self) -> Iterator[Order]:
        """Orders with quantity still working."""
        return (o for o in self.orders if o.remaining > 0)

    @property
    def reserved_cash(self) -> int:
        """Won held back by resting buys."""
        return sum(o.remaining * o.price for o in self.live_orders() if o.side == "buy")

    @property
    def orderable_cash(self) -> int:
        """Won a new buy may use."""
        return self.cash - self.reserved_cash

    def orderable_qty(self, code: str) -> int:
        """Shares of ``code`` a new sell may use."""
        held = self.holdings[code].qty if code in self.holdings else 0
        resting = sum(
            o.remaining for o in self.live_orders() if o.side == "sell" and o.code == code
        )
        return held - resting

    def traded(self, side: Side, day: date, code: str | None = None) -> tuple[int, int]:
        """(shares, won) executed on ``day`` on ``side``, for one code or all."""
        qty = amount = 0
        for order in self.orders:
            if order.side != side or order.is_cancel or (code and order.code != code):
                continue
            for fill in order.fills:
                if fill.at.date() == day:
                    qty += fill.qty
                    amount += fill.qty * fill.price
        return qty, amount


Crossing = Callable[[Order, datetime, datetime], datetime | None]
"""(order, from, to) → the first moment a resting order's limit is reached, or None."""


class Ledger:
    """Every account; order numbers are shared and only increase."""

    def __init__(self, initial_cash: int) -> None:
        self._initial_cash = initial_cash
        self._accounts: dict[str, Account] = {}
        self._last_odno = 0

    def account(self, number: str) -> Account:
        """The account, created with the initial cash on first use."""
        if number not in self._accounts:
            self._accounts[number] = Account(number, self._initial_cash)
        return self._accounts[number]

    def replace(self, number: str, cash: int, holdings: list[Holding]) -> Account:
        """A fresh account with this cash and these holdings (its orders are forgotten)."""
        account = Account(number, cash, {h.code: h for h in holdings})
        self._accounts[number] = account
        return account

    def place(
        self,
        account: Account,
        *,
        code: str,
        name: str,
        side: Side,
        division: str,
        qty: int,
        limit: int,
        current: int,
        now: datetime,
        lapses_at: datetime,
    ) -> Order:
        """Accept an order (LedgerError if cash or shares are short) and fill it if it can."""
        marketable = division == MARKET or (current <= limit if side == "buy" else current >= limit)
        if side == "buy":
            # A market buy is valued at the current price (KIS values it at the upper limit).
            needed = qty * (current if division == MARKET else limit)
            if needed > account.orderable_cash:
                raise LedgerError("cash")
        elif qty > account.orderable_qty(code):
            raise LedgerError("qty")
        order = Order(
            self._next_odno(),
            account.number,
            code,
            name,
            side,
            division,
            qty,
            limit if division == LIMIT else 0,
            now,
            lapses_at,
            checked_until=now,
        )
        account.orders.append(order)
        if marketable:
            self._fill(account, order, qty, current, now)
        return order

    def cancel(self, account: Account, original: Order, qty: int, now: datetime) -> Order:
        """Withdraw ``qty`` (≤ remaining) of ``original``; returns the cancel order."""
        original.cancelled += qty
        order = Order(
            self._next_odno(),
            account.number,
            original.code,
            original.name,
            original.side,
            original.division,
            qty,
            original.price,
            now,
            original.lapses_at,
            origin=original.odno,
        )
        account.orders.append(order)
        return order

    def all_orders(self) -> list[Order]:
        """Every order of every account, in arrival order."""
        orders = [o for account in self._accounts.values() for o in account.orders]
        return sorted(orders, key=lambda o: o.odno)

    def find(self, account: Account, odno: str) -> Order | None:
        """The account's order with this number (leading zeros optional), if any."""
        if not odno.isdigit():
            return None
        wanted = int(odno)
        return next((o for o in account.orders if int(o.odno) == wanted), None)

    def settle(self, now: datetime, crossing: Crossing) -> None:
        """Fill resting limit orders whose price was reached since last time; lapse at close."""
        for account in self._accounts.values():
            for order in list(account.live_orders()):
                start = order.checked_until or order.placed_at
                end = min(now, order.lapses_at)
                if end >= start:
                    moment = crossing(order, start, end)
                    if moment is not None:
                        # A resting order trades at its own limit price (price-time priority).
                        self._fill(account, order, order.remaining, order.price, moment)
                        continue
                    order.checked_until = end
                if now >= order.lapses_at:
                    order.lapsed = True

    def _fill(self, account: Account, order: Order, qty: int, price: int, at: datetime) -> None:
        order.fills.append(Fill(qty, price, at))
        holding = account.holdings.setdefault(order.code, Holding(order.code, order.name))
        amount = qty * price
        if order.side == "buy":
            account.cash -= amount
            holding.qty += qty
            holding.cost += amount
        else:
            account.cash += amount
            remaining = holding.qty - qty
            # Keep the average price unchanged: remove the sold shares' share of the cost.
            holding.cost = (holding.cost * remaining + holding.qty // 2) // holding.qty
            holding.qty = remaining

    def _next_odno(self) -> str:
        self._last_odno += 1
        return f"{self._last_odno:010d}"
