"""A realised trade: shares bought and sold, at which prices, and the profit in won.

See docs/ARCHITECTURE.md, 'Fills and the ledger'. Pure data, and the one shape of a realised
trade: the ledger writes one per sell fill, the daily summary lists the session's, an order's
fill event carries its own (``OrderFilled.sale``), and the notifier and the status API show them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from typing import ClassVar

from shared.trading.orders import Reason


@dataclass(frozen=True)
class Realized:
    """A sell written to the ledger, with its realised profit in won (gross: fees and tax are
    :class:`shared.trading.costs.TradeCosts`'s)."""

    DERIVED_FIELDS: ClassVar[tuple[str, ...]] = ("profit_rate",)
    """Computed from the fields: written beside them in JSON, never read back."""

    order_id: str
    code: str
    name: str
    quantity: int
    buy_price: Decimal
    sell_price: Decimal
    profit: int
    reason: Reason
    buy_session: date | None = None
    """The session the sold shares were bought in (the ledger position's); None when the ledger
    held no position (a sell adopted after a loss of our state) or for a trade written before
    the field existed."""

    @property
    def profit_rate(self) -> Decimal:
        """Percent gain on the cost of what was sold."""
        if not self.buy_price:
            return Decimal(0)
        return ((self.sell_price - self.buy_price) / self.buy_price * 100).quantize(Decimal("0.01"))

    def to_dict(self) -> dict[str, object]:
        """JSON-safe fields, prices and rate as decimal strings (the ledger, the API)."""
        data: dict[str, object] = asdict(self)
        data["buy_price"] = str(self.buy_price)
        data["sell_price"] = str(self.sell_price)
        data["reason"] = self.reason.value
        data["profit_rate"] = str(self.profit_rate)
        data["buy_session"] = None if self.buy_session is None else self.buy_session.isoformat()
        return data
