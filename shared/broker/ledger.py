"""The ledger: every account, order numbers, and the moves that change them.

A fill pays its fee and tax (:mod:`money`) and moves the deposit on its settlement day
(:mod:`settlement`; at once with 0 settlement days). Resting buys reserve
``remaining * reserve_unit`` of the orderable cash and resting sells their shares. A marketable
order fills at once, or in planned parts (the simulator's ``partial_fill`` fault) whose later
parts wait in ``scheduled``. Unfilled quantity lapses at the session's close, as KRX day orders do.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from shared.broker.accounts import Account, Holding
from shared.broker.money import Fees, Side
from shared.broker.orders import LIMIT, Fill, Order, PlannedFill
from shared.broker.settlement import Pending


class LedgerError(Exception):
    """A business reason the ledger refuses an order; the caller maps it to a KIS code."""

    def __init__(self, reason: Literal["cash", "qty"]) -> None:
        super().__init__(reason)
        self.reason = reason


Crossing = Callable[[Order, datetime, datetime], datetime | None]
"""(order, from, to) → the first moment a resting order's limit is reached, or None."""


SettlementDay = Callable[[date], date]
"""trade day → settlement day."""

FillListener = Callable[[Order, Fill | None], None]
"""Told of every accepted order or cancel (``None``) and of every fill, under the simulator's
lock (the WebSocket's fill notices): it must not block."""


@dataclass
class Changes:
    """What changed since the store last saved: account numbers, orders by number, and
    accounts replaced by the admin (their stored orders must go)."""

    accounts: set[str] = field(default_factory=set)
    orders: dict[str, Order] = field(default_factory=dict)
    replaced: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.accounts or self.orders or self.replaced)

    def merge(self, later: Changes) -> None:
        """Add ``later``'s changes to these."""
        self.accounts |= later.accounts
        self.orders.update(later.orders)
        self.replaced |= later.replaced

    def order(self, order: Order) -> None:
        """Note a changed order (and its account)."""
        self.accounts.add(order.account)
        self.orders[order.odno] = order


class Ledger:
    """Every account; order numbers are shared and only increase. ``changes`` collects what
    changed since the store last saved (:meth:`take_changes`)."""

    def __init__(
        self,
        initial_cash: int,
        fees: Fees | None = None,
        settlement_day: SettlementDay | None = None,
    ) -> None:
        self._initial_cash = initial_cash
        self._fees = fees or Fees()
        self._settlement_day: SettlementDay = settlement_day or (lambda day: day)
        self._accounts: dict[str, Account] = {}
        self.last_odno = 0
        self.changes = Changes()
        self.listener: FillListener | None = None

    @property
    def fees(self) -> Fees:
        """The fee and tax rates fills pay."""
        return self._fees

    def accounts(self) -> list[Account]:
        """Every account."""
        return list(self._accounts.values())

    def restore(self, accounts: list[Account], last_odno: int) -> None:
        """Take over accounts loaded from the store."""
        self._accounts = {a.number: a for a in accounts}
        self.last_odno = max([last_odno, *(int(o.odno) for a in accounts for o in a.orders)])
        self.changes = Changes()

    def take_changes(self) -> Changes:
        """What changed since the last call, and start afresh."""
        changes, self.changes = self.changes, Changes()
        return changes

    def account(self, number: str) -> Account:
        """The account, created with the initial cash on first use."""
        if number not in self._accounts:
            self._accounts[number] = Account(number, self._initial_cash)
            self.changes.accounts.add(number)
        return self._accounts[number]

    def replace(self, number: str, cash: int, holdings: list[Holding]) -> Account:
        """A fresh account with this cash and these holdings (its orders are forgotten)."""
        account = Account(number, cash, {h.code: h for h in holdings})
        self._accounts[number] = account
        self.changes.accounts.add(number)
        self.changes.replaced.add(number)
        for odno in [k for k, o in self.changes.orders.items() if o.account == number]:
            del self.changes.orders[odno]
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
        reserve_unit: int,
        fills: list[PlannedFill] | None,
        now: datetime,
        lapses_kst: datetime,
        lag_seconds: float = 0.0,
        revises: Order | None = None,
    ) -> Order:
        """Accept an order (LedgerError if cash or shares are short) and execute ``fills``.

        ``fills`` is None for an order that rests (a market order too, at ``limit``: KRX queues
        one that meets a locked price limit there); planned fills later than ``now`` wait in
        ``scheduled``. A buy needs ``qty * reserve_unit`` plus the fee in orderable cash.
        With ``revises``, this is a revise order (정정) of that order: ``qty`` of its remainder
        (and what it held back) passes to the new one; refused, nothing changes.
        """
        if revises is not None:
            revises.cancelled += qty
        try:
            reserve_unit = self._checked_unit(account, code, side, qty, reserve_unit, fills)
        except LedgerError:
            if revises is not None:
                revises.cancelled -= qty
            raise
        if revises is not None:
            if revises.remaining == 0:
                revises.scheduled.clear()
            self.changes.order(revises)
        order = Order(
            self._next_odno(),
            account.number,
            code,
            name,
            side,
            division,
            qty,
            limit if division == LIMIT or fills is None else 0,
            now,
            lapses_kst,
            checked_until_kst=now,
            reserve_unit=reserve_unit if side == "buy" else 0,
            lag_seconds=lag_seconds,
            origin=revises.odno if revises is not None else "",
            revision=revises is not None,
        )
        account.orders.append(order)
        self.changes.order(order)
        self._tell(order, None)
        for part_qty, price, filled_kst in fills or []:
            if filled_kst <= now:
                self._fill(account, order, part_qty, price, filled_kst)
            else:
                order.scheduled.append(Fill(part_qty, price, filled_kst))
        return order

    def _checked_unit(
        self,
        account: Account,
        code: str,
        side: Side,
        qty: int,
        reserve_unit: int,
        fills: list[PlannedFill] | None,
    ) -> int:
        """The won per share a buy holds back (LedgerError when cash or shares fall short)."""
        if side == "buy":
            unit = max([reserve_unit, *(price for _, price, _ in fills or [])])
            if self._fees.buy_cost(qty * unit) > account.orderable_cash:
                raise LedgerError("cash")
            return unit
        if qty > account.orderable_qty(code):
            raise LedgerError("qty")
        return reserve_unit

    def cancel(self, account: Account, original: Order, qty: int, now: datetime) -> Order:
        """Withdraw ``qty`` (≤ remaining) of ``original``; returns the cancel order."""
        original.cancelled += qty
        if original.remaining == 0:
            original.scheduled.clear()
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
            original.lapses_kst,
            origin=original.odno,
        )
        account.orders.append(order)
        self.changes.order(original)
        self.changes.order(order)
        self._tell(order, None)
        return order

    def execute(self, account: Account, order: Order, price: int, moment: datetime) -> None:
        """Fill the remainder of ``order`` at ``price`` at ``moment`` (an auction's match)."""
        if order.remaining > 0:
            order.scheduled.clear()
            self._fill(account, order, order.remaining, price, moment)

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
        """Catch up to ``now``: due settlements, scheduled fill parts, resting limit orders
        whose price was reached, and lapses at the close."""
        for account in self._accounts.values():
            self._roll(account, now.date())
            for order in list(account.live_orders()):
                if order.scheduled:
                    self._run_scheduled(account, order, now)
                    continue
                start = order.checked_until_kst or order.placed_kst
                end = min(now, order.lapses_kst)
                if end >= start:
                    moment = crossing(order, start, end)
                    if moment is not None:
                        # A resting order trades at its own limit price (price-time priority).
                        self._fill(account, order, order.remaining, order.price, moment)
                        continue
                    order.checked_until_kst = end
                if now >= order.lapses_kst:
                    order.lapsed = True
                    self.changes.order(order)

    def _roll(self, account: Account, today: date) -> None:
        due = [p for p in account.pending if p.settles_on <= today]
        if due:
            account.cash += sum(p.net for p in due)
            account.pending = [p for p in account.pending if p.settles_on > today]
            self.changes.accounts.add(account.number)

    def _run_scheduled(self, account: Account, order: Order, now: datetime) -> None:
        while order.scheduled and order.scheduled[0].filled_kst <= now and order.remaining > 0:
            part = order.scheduled.pop(0)
            self._fill(account, order, min(part.qty, order.remaining), part.price, part.filled_kst)
        self.changes.order(order)

    def _fill(
        self, account: Account, order: Order, qty: int, price: int, filled_kst: datetime
    ) -> None:
        amount = qty * price
        fee, tax = self._fees.fee(order.side, amount), self._fees.tax(order.side, amount)
        shown_after_epoch = time.time() + order.lag_seconds if order.lag_seconds else 0.0
        fill = Fill(qty, price, filled_kst, fee, tax, shown_after_epoch)
        order.fills.append(fill)
        self._tell(order, fill)
        holding = account.holdings.setdefault(order.code, Holding(order.code, order.name))
        if order.side == "buy":
            net = -(amount + fee)
            holding.qty += qty
            holding.cost += amount
        else:
            net = amount - fee - tax
            remaining = holding.qty - qty
            # Keep the average price unchanged: remove the sold shares' share of the cost.
            holding.cost = (holding.cost * remaining + holding.qty // 2) // holding.qty
            holding.qty = remaining
        settles_on = self._settlement_day(filled_kst.date())
        if settles_on <= filled_kst.date():
            account.cash += net
        else:
            account.pending.append(Pending(settles_on, order.code, order.side, net))
        self.changes.order(order)

    def _tell(self, order: Order, fill: Fill | None) -> None:
        if self.listener is not None:
            self.listener(order, fill)

    def _next_odno(self) -> str:
        self.last_odno += 1
        return f"{self.last_odno:010d}"
