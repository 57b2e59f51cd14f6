"""The orders of the two drivers, side by side: the fast driver's sent orders against the orders
the simulator received in the replay. Pure functions.

See docs/ARCHITECTURE.md, 'Backtest', 'Replay'. Two orders agree when they have the same code,
side, quantity and limit (a market sell has none) and were placed within :data:`TOLERANCE` of
each other on the clock: the fast driver's order is stamped with the point it was decided at,
the replay's with its arrival at the simulator, a few clock seconds later at a fast clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from shared.backtest.results import BacktestResult

TOLERANCE = timedelta(minutes=2)
"""How far apart on the clock two orders may be placed and still be the same order."""


@dataclass(frozen=True)
class PlacedOrder:
    """An order as KIS would see it, and when (the clock's time, KST)."""

    code: str
    side: str
    """``buy`` or ``sell``."""
    quantity: int
    limit: int | None
    """A limit buy's price; None for a market order."""
    moment: datetime
    reason: str = ""
    """Why the fast driver placed it (the simulator does not know)."""

    @property
    def key(self) -> tuple[str, str, int, int | None]:
        return (self.code, self.side, self.quantity, self.limit)

    def describe(self) -> str:
        limit = f" limit {self.limit:,}" if self.limit is not None else " market"
        why = f" ({self.reason})" if self.reason else ""
        return f"{self.moment:%H:%M:%S} {self.side} {self.code} x{self.quantity:,}{limit}{why}"


def fast_orders(result: BacktestResult, session: date) -> list[PlacedOrder]:
    """The orders the fast driver sent on ``session`` (a refused or unaffordable one was not)."""
    return [
        PlacedOrder(
            row.code,
            row.side.label,
            row.sent_quantity,
            row.limit_price,
            row.moment,
            row.reason.value,
        )
        for row in result.orders
        if row.session == session and row.sent_quantity > 0
    ]


def replayed_orders(rows: Iterable[Mapping[str, Any]]) -> list[PlacedOrder]:
    """The orders the simulator received (``GET /sim/orders``), the cancel orders of a limit
    buy's unfilled rest left out (KIS's row too, not an order of the rules)."""
    orders = [
        PlacedOrder(
            str(row["code"]),
            str(row["side"]),
            int(row["qty"]),
            int(row["price"]) if row["side"] == "buy" and int(row["price"]) > 0 else None,
            datetime.fromisoformat(str(row["placed_kst"])),
        )
        for row in rows
        if not row.get("cancel_of")
    ]
    return sorted(orders, key=lambda o: o.moment)


@dataclass(frozen=True)
class Agreement:
    """One session's orders matched one to one; what either driver placed alone."""

    session: date
    matched: tuple[tuple[PlacedOrder, PlacedOrder], ...]
    only_fast: tuple[PlacedOrder, ...]
    only_replay: tuple[PlacedOrder, ...]
    problem: str = ""
    """Why the system did not play the session as live (then it does not agree)."""

    @property
    def agrees(self) -> bool:
        return not self.only_fast and not self.only_replay and not self.problem

    def lines(self) -> list[str]:
        """The session's verdict, then every order neither driver matched."""
        verdict = "agree" if self.agrees else "DIFFER"
        head = (
            f"{self.session}: {verdict}, {len(self.matched)} orders in both"
            f", {len(self.only_fast)} fast only, {len(self.only_replay)} replay only"
        )
        return [
            head if not self.problem else f"{head}; not played as live: {self.problem}",
            *(f"    fast only:   {o.describe()}" for o in self.only_fast),
            *(f"    replay only: {o.describe()}" for o in self.only_replay),
        ]


def compare_orders(
    session: date,
    fast: Iterable[PlacedOrder],
    replayed: Iterable[PlacedOrder],
    tolerance: timedelta = TOLERANCE,
) -> Agreement:
    """Match each fast order, in time order, with the earliest replayed order of the same key
    placed within ``tolerance`` of it and not matched yet."""
    left = sorted(replayed, key=lambda o: o.moment)
    matched: list[tuple[PlacedOrder, PlacedOrder]] = []
    only_fast: list[PlacedOrder] = []
    for order in sorted(fast, key=lambda o: o.moment):
        twin = next(
            (r for r in left if r.key == order.key and abs(r.moment - order.moment) <= tolerance),
            None,
        )
        if twin is None:
            only_fast.append(order)
        else:
            left.remove(twin)
            matched.append((order, twin))
    return Agreement(session, tuple(matched), tuple(only_fast), tuple(left))
