"""Accounts in integer won: settled deposit, pending settlements, holdings and orders.

``cash`` is the settled deposit; every trade counts at once for what a new order may use
(:attr:`Account.orderable_cash`), settled or not (:mod:`settlement`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from shared.broker import settlement
from shared.broker.money import Side
from shared.broker.orders import Order
from shared.broker.settlement import Pending


@dataclass
class Holding:
    """Shares of one code and what they cost (``cost`` is the purchase amount of ``qty``)."""

    code: str
    name: str
    qty: int = 0
    cost: int = 0


@dataclass
class Account:
    """One account ``12345678-01``; ``cash`` is the settled deposit (dnca_tot_amt)."""

    number: str
    cash: int
    holdings: dict[str, Holding] = field(default_factory=dict)
    orders: list[Order] = field(default_factory=list)
    pending: list[Pending] = field(default_factory=list)

    def live_orders(self) -> Iterator[Order]:
        """Orders with quantity still working."""
        return (o for o in self.orders if o.remaining > 0)

    @property
    def reserved_cash(self) -> int:
        """Won held back by working buys."""
        return sum(o.remaining * o.reserve_unit for o in self.live_orders() if o.side == "buy")

    @property
    def settled_cash(self) -> int:
        """The deposit once every pending settlement is done (prvs_rcdl_excc_amt, D+2)."""
        return self.cash + settlement.total(self.pending)

    @property
    def orderable_cash(self) -> int:
        """Won a new buy may use: every trade counts at once, settled or not."""
        return self.settled_cash - self.reserved_cash

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
                if fill.filled_kst.date() == day:
                    qty += fill.qty
                    amount += fill.qty * fill.price
        return qty, amount

    def costs(self, day: date) -> int:
        """Won of fees and taxes on fills of ``day``."""
        return sum(
            f.fee + f.tax
            for o in self.orders
            for f in o.fills
            if f.filled_kst.date() == day and not o.is_cancel
        )
