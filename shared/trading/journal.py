"""A closed trade as the journal keeps it: entry and exit, costs, reason, sessions held.

See docs/ARCHITECTURE.md, 'Track record'. Pure: an entry is built from a sale's facts and the
cost rates, and read back from its JSON with every field checked (a line that does not fit is
:class:`CorruptEntry`, never half an entry).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from shared.trading.costs import TradeCosts

FROM_LEDGER = "ledger"
"""``source`` of an entry written from the position ledger's realised trade."""
FROM_KIS = "kis"
"""``source`` of an entry rebuilt from KIS's executions and the exported ledger after our state
was lost (docs/ARCHITECTURE.md, 'When our state is lost')."""


class CorruptEntry(ValueError):
    """A journal line that is not a closed trade; the message says what is wrong."""


@dataclass(frozen=True)
class JournalEntry:
    """One closed trade: ``quantity`` shares bought at ``entry_price`` in ``entry_session`` and
    sold at ``exit_price`` in ``exit_session``. ``net`` is ``gross - fees - tax``."""

    key: str
    """The natural key, ``{exit_session}:{sell_ref}:{through}``: the same shares of the same sell
    always get the same key, so writing them again is recognised."""
    sell_ref: str
    """KIS's order number of the sell when known (it survives a loss of our state), else our
    order id."""
    through: int
    """The sell's shares journaled up to and including this entry."""
    order_id: str
    code: str
    name: str
    quantity: int
    entry_session: date
    entry_price: Decimal
    exit_session: date
    exit_price: Decimal
    reason: str
    """take_profit, stop_loss, expiry, manual (flatten or by hand), adopted (a sell found at
    KIS with no record of ours)."""
    sessions_held: int
    """KRX sessions from the buy session to the sell's (0: sold the session it was bought)."""
    gross: int
    fees: int
    """The buy's fee and the sell's, on the shares of this entry."""
    tax: int
    net: int
    source: str = FROM_LEDGER

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in ("entry_session", "exit_session"):
            data[name] = data[name].isoformat()
        for name in ("entry_price", "exit_price"):
            data[name] = str(data[name])
        return data

    @classmethod
    def from_json(cls, data: object) -> JournalEntry:
        """The entry of one JSON line's value; :class:`CorruptEntry` when it is not one."""
        if not isinstance(data, dict):
            raise CorruptEntry(f"not an object but {type(data).__name__}")
        expected = {f.name for f in fields(cls)}
        missing = sorted(expected - data.keys())
        unknown = sorted(data.keys() - expected)
        if missing or unknown:
            raise CorruptEntry(f"missing {missing}, unknown {unknown}")
        values: dict[str, Any] = {}
        for name in ("key", "sell_ref", "order_id", "code", "name", "reason", "source"):
            values[name] = _text(data, name)
        for name in ("through", "quantity", "sessions_held", "gross", "fees", "tax", "net"):
            values[name] = _whole(data, name)
        for name in ("entry_session", "exit_session"):
            values[name] = _day(data, name)
        for name in ("entry_price", "exit_price"):
            values[name] = _decimal(data, name)
        entry = cls(**values)
        if entry.quantity <= 0:
            raise CorruptEntry(f"quantity {entry.quantity}")
        if entry.net != entry.gross - entry.fees - entry.tax:
            raise CorruptEntry(f"net {entry.net} is not gross - fees - tax")
        if entry.exit_session < entry.entry_session:
            raise CorruptEntry("sold before it was bought")
        return entry


def trade_key(exit_session: date, sell_ref: str, through: int) -> str:
    return f"{exit_session.isoformat()}:{sell_ref}:{through}"


def closed_trade(
    *,
    sell_ref: str,
    through: int,
    order_id: str,
    code: str,
    name: str,
    quantity: int,
    entry_session: date,
    entry_price: Decimal,
    exit_session: date,
    exit_price: Decimal,
    reason: str,
    sessions_held: int,
    costs: TradeCosts,
    source: str = FROM_LEDGER,
) -> JournalEntry:
    """The entry of ``quantity`` shares sold, with KIS's costs at ``costs``'s rates (the same
    sums as :meth:`TradeCosts.of_round_trip`)."""
    bought = entry_price * quantity
    sold = exit_price * quantity
    gross = int(((exit_price - entry_price) * quantity).to_integral_value(ROUND_HALF_UP))
    fees = costs.fee(bought) + costs.fee(sold)
    tax = costs.tax(sold)
    return JournalEntry(
        key=trade_key(exit_session, sell_ref, through),
        sell_ref=sell_ref,
        through=through,
        order_id=order_id,
        code=code,
        name=name,
        quantity=quantity,
        entry_session=entry_session,
        entry_price=entry_price,
        exit_session=exit_session,
        exit_price=exit_price,
        reason=reason,
        sessions_held=sessions_held,
        gross=gross,
        fees=fees,
        tax=tax,
        net=gross - fees - tax,
        source=source,
    )


def _text(data: dict[str, Any], name: str) -> str:
    value = data[name]
    if not isinstance(value, str):
        raise CorruptEntry(f"{name} is not text")
    return value


def _whole(data: dict[str, Any], name: str) -> int:
    value = data[name]
    if isinstance(value, bool) or not isinstance(value, int):
        raise CorruptEntry(f"{name} is not a whole number")
    return value


def _day(data: dict[str, Any], name: str) -> date:
    value = data[name]
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise CorruptEntry(f"{name} is not a date") from None


def _decimal(data: dict[str, Any], name: str) -> Decimal:
    value = data[name]
    if not isinstance(value, str):
        raise CorruptEntry(f"{name} is not a decimal text")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise CorruptEntry(f"{name} is not a decimal") from None
    if not number.is_finite() or number < 0:
        raise CorruptEntry(f"{name} is {value}")
    return number
