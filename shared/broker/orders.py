"""Orders and their fills (executions), as the ledger keeps them."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

from shared.broker.money import Side

LIMIT = "00"
"""ORD_DVSN of a limit order."""
MARKET = "01"
"""ORD_DVSN of a market order."""


@dataclass(frozen=True)
class Fill:
    """One execution at ``filled_kst`` (the simulator's clock); ``fee`` and ``tax`` in won,
    ``shown_after_epoch`` a real unix time before which the daily executions do not show it (the
    execution-lag setting and fault)."""

    qty: int
    price: int
    filled_kst: datetime
    fee: int = 0
    tax: int = 0
    shown_after_epoch: float = 0.0


PlannedFill = tuple[int, int, datetime]
"""(shares, price, moment) of a fill decided at order time."""


@dataclass
class Order:
    """A cash order; with ``origin`` set, the cancel order that withdrew part of one, or (with
    ``revision``) the revise order (정정) that replaced part of one on new terms and works on."""

    odno: str
    account: str
    code: str
    name: str
    side: Side
    division: str
    qty: int
    price: int
    """Limit price in won; 0 for a market order."""
    placed_kst: datetime
    lapses_kst: datetime
    """The session's close: unfilled quantity lapses then."""
    origin: str = ""
    fills: list[Fill] = field(default_factory=list)
    cancelled: int = 0
    lapsed: bool = False
    checked_until_kst: datetime | None = None
    """How far the price path has been searched for a cross (resting limit orders)."""
    received_epoch: float = field(default_factory=time.time)
    """Real unix time the order arrived (for latency benchmarks; the clock may be simulated)."""
    reserve_unit: int = 0
    """Won per remaining share a buy holds back (its limit, or a market buy's valuation)."""
    scheduled: list[Fill] = field(default_factory=list)
    """Planned later parts of a split fill, applied when the clock reaches them."""
    lag_seconds: float = 0.0
    """Real seconds a fill of this order stays out of the daily executions."""
    revision: bool = False
    """A revise order (정정): ``origin`` is the order whose quantity it took over."""

    @property
    def is_cancel(self) -> bool:
        """Whether this is a cancel order."""
        return bool(self.origin) and not self.revision

    @property
    def filled_qty(self) -> int:
        """Shares executed."""
        return sum(f.qty for f in self.fills)

    @property
    def filled_amount(self) -> int:
        """Won executed."""
        return sum(f.qty * f.price for f in self.fills)

    def shown_fills(self, wall_now: float) -> list[Fill]:
        """The fills the daily executions show at real unix time ``wall_now``."""
        return [f for f in self.fills if f.shown_after_epoch <= wall_now]

    @property
    def remaining(self) -> int:
        """Shares still working (0 for cancel orders and lapsed orders)."""
        if self.is_cancel or self.lapsed:
            return 0
        return self.qty - self.filled_qty - self.cancelled
