"""Accounts and orders to JSON and back, for the store: every field, datetimes as ISO text.

Times name their clock (``*_kst``: the simulator's clock, ``*_epoch``: real Unix seconds); an
order stored before they did (``placed_at``, ``lapses_at``, ``checked_until``, ``received_at``)
is still read, since the store outlives an upgrade.

An account's orders are stored one by one (a busy account must not rewrite its whole order
history on every request), so :func:`dump_account` leaves them out.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

from shared.broker.accounts import Account, Holding
from shared.broker.money import Side
from shared.broker.orders import Fill, Order
from shared.broker.settlement import Pending


def dump_account(account: Account) -> dict[str, Any]:
    """A JSON-ready dict of ``account`` without its orders."""
    return {
        "number": account.number,
        "cash": account.cash,
        "holdings": [[h.code, h.name, h.qty, h.cost] for h in account.holdings.values()],
        "pending": [[p.settles_on.isoformat(), p.code, p.side, p.net] for p in account.pending],
    }


def load_account(data: dict[str, Any], orders: list[Order]) -> Account:
    """The account :func:`dump_account` wrote, with its ``orders`` (KeyError/ValueError if it
    is not one)."""
    holdings = {
        code: Holding(code, name, int(qty), int(cost)) for code, name, qty, cost in data["holdings"]
    }
    pending = [
        Pending(date.fromisoformat(day), code, cast(Side, side), int(net))
        for day, code, side, net in data["pending"]
    ]
    ordered = sorted(orders, key=lambda o: o.odno)
    return Account(str(data["number"]), int(data["cash"]), holdings, ordered, pending)


def _dump_fill(fill: Fill) -> list[Any]:
    filled = fill.filled_kst.isoformat()
    return [fill.qty, fill.price, filled, fill.fee, fill.tax, fill.shown_after_epoch]


def _load_fill(row: list[Any]) -> Fill:
    qty, price, filled, fee, tax, shown_after = row
    return Fill(
        int(qty), int(price), datetime.fromisoformat(filled), int(fee), int(tax), shown_after
    )


def dump_order(order: Order) -> dict[str, Any]:
    """A JSON-ready dict of ``order`` with its fills."""
    return {
        "odno": order.odno,
        "account": order.account,
        "code": order.code,
        "name": order.name,
        "side": order.side,
        "division": order.division,
        "qty": order.qty,
        "price": order.price,
        "placed_kst": order.placed_kst.isoformat(),
        "lapses_kst": order.lapses_kst.isoformat(),
        "origin": order.origin,
        "fills": [_dump_fill(f) for f in order.fills],
        "cancelled": order.cancelled,
        "lapsed": order.lapsed,
        "checked_until_kst": order.checked_until_kst.isoformat()
        if order.checked_until_kst
        else None,
        "received_epoch": order.received_epoch,
        "reserve_unit": order.reserve_unit,
        "scheduled": [_dump_fill(f) for f in order.scheduled],
        "lag_seconds": order.lag_seconds,
        "revision": order.revision,
    }


def load_order(data: dict[str, Any]) -> Order:
    """The order :func:`dump_order` wrote."""
    data = _renamed(data)
    checked = data["checked_until_kst"]
    return Order(
        odno=str(data["odno"]),
        account=str(data["account"]),
        code=str(data["code"]),
        name=str(data["name"]),
        side=cast(Side, data["side"]),
        division=str(data["division"]),
        qty=int(data["qty"]),
        price=int(data["price"]),
        placed_kst=datetime.fromisoformat(data["placed_kst"]),
        lapses_kst=datetime.fromisoformat(data["lapses_kst"]),
        origin=str(data["origin"]),
        fills=[_load_fill(f) for f in data["fills"]],
        cancelled=int(data["cancelled"]),
        lapsed=bool(data["lapsed"]),
        checked_until_kst=datetime.fromisoformat(checked) if checked else None,
        received_epoch=float(data["received_epoch"]),
        reserve_unit=int(data["reserve_unit"]),
        scheduled=[_load_fill(f) for f in data["scheduled"]],
        lag_seconds=float(data["lag_seconds"]),
        revision=bool(data.get("revision", False)),
    )


FIRST_NAMES = {
    "placed_at": "placed_kst",
    "lapses_at": "lapses_kst",
    "checked_until": "checked_until_kst",
    "received_at": "received_epoch",
}
"""The names an order's times had before they named their clock, and theirs now."""


def _renamed(data: dict[str, Any]) -> dict[str, Any]:
    return {FIRST_NAMES.get(k, k): v for k, v in data.items()}
