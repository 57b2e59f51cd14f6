"""What a trade costs beyond its price: broker fees and the securities transaction tax.

The rates are the engine's (:class:`shared.trading.costs.TradeCosts`, percent of a fill's
amount; their KIS values and sources are in ``shared/trading/costs.py``): :class:`Fees` charges
them on the broker's side, so the simulator, the backtest and the engine's net P&L use one set
of numbers and one rounding. Both amounts are whole won, cut below one won (원 미만 절사), as
Korean tax and broker statements show them. See docs/ARCHITECTURE.md, 'Settlement (D+2)'.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Literal

from shared.trading.costs import TradeCosts

Side = Literal["buy", "sell"]

NO_COSTS = TradeCosts(fee_pct=Decimal(0), sell_tax_pct=Decimal(0))
"""No fee and no tax (the simulator's ``simple`` profile)."""
KIS_COSTS = TradeCosts()
"""KIS's fee on both sides and the sell tax (the simulator's ``kis`` profile, the backtest's
default)."""


@dataclass(frozen=True)
class Fees:
    """The broker's charges on fills at the rates of ``costs``: the fee on both sides, the tax
    on sells."""

    costs: TradeCosts = NO_COSTS

    def fee(self, side: Side, amount: int) -> int:
        """The broker fee in won on ``amount`` won traded (the same rate on both sides)."""
        return self.costs.fee(Decimal(amount))

    def tax(self, side: Side, amount: int) -> int:
        """The transaction tax in won (sells only)."""
        return self.costs.tax(Decimal(amount)) if side == "sell" else 0

    def buy_cost(self, amount: int) -> int:
        """Won a buy of ``amount`` takes from the account, fee included."""
        return amount + self.fee("buy", amount)

    def affordable_qty(self, cash: int, unit: int) -> int:
        """The most shares at ``unit`` won whose cost with fee fits in ``cash``."""
        if unit <= 0 or cash <= 0:
            return 0
        qty = cash // unit
        while qty > 0 and self.buy_cost(qty * unit) > cash:
            qty -= 1
        return qty

    def spendable(self, cash: int) -> int:
        """The largest amount whose cost with the buy fee fits in ``cash``."""
        if cash <= 0:
            return 0
        rate = self.costs.fee_pct / 100
        amount = int((Decimal(cash) / (1 + rate)).to_integral_value(ROUND_FLOOR))
        while amount > 0 and self.buy_cost(amount) > cash:
            amount -= 1
        # The fee is cut below one won, so a little more may still fit.
        while self.buy_cost(amount + 1) <= cash:
            amount += 1
        return amount
