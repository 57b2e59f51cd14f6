"""What a trade costs beyond its price: broker fees and the securities transaction tax.

Rates are settings (``SIM_BUY_FEE_RATE``, ``SIM_SELL_FEE_RATE``, ``SIM_SELL_TAX_RATE``, see the
module README); both amounts are whole won, cut below one won (원 미만 절사), as Korean tax and
broker statements show them. The KIS values and their public sources are in ``config.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Literal

Side = Literal["buy", "sell"]


@dataclass(frozen=True)
class Fees:
    """Rates as fractions of the traded amount (``Decimal("0.000140527")`` = 0.0140527 %)."""

    buy_fee: Decimal = Decimal(0)
    sell_fee: Decimal = Decimal(0)
    sell_tax: Decimal = Decimal(0)

    def fee(self, side: Side, amount: int) -> int:
        """The broker fee in won on ``amount`` won traded."""
        return _cut(amount, self.buy_fee if side == "buy" else self.sell_fee)

    def tax(self, side: Side, amount: int) -> int:
        """The transaction tax in won (sells only)."""
        return _cut(amount, self.sell_tax) if side == "sell" else 0

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
        amount = int((Decimal(cash) / (1 + self.buy_fee)).to_integral_value(ROUND_FLOOR))
        while amount > 0 and self.buy_cost(amount) > cash:
            amount -= 1
        # The fee is cut below one won, so a little more may still fit.
        while self.buy_cost(amount + 1) <= cash:
            amount += 1
        return amount


def _cut(amount: int, rate: Decimal) -> int:
    return int((Decimal(amount) * rate).to_integral_value(ROUND_FLOOR))
