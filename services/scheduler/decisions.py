"""What the scheduler hands the rules, and which of their intents it places. Pure functions.

The trading rules themselves live in :mod:`shared.trading.rules` and return order intents; this
module prepares their input from what the loop has read in one cycle (which picks still need a buy,
which positions the rules may sell) and filters their output (never two sells of one position).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from shared.kis.models import Holding as BalanceRow
from shared.kis.models import Side
from shared.state.positions import Position
from shared.trading.orders import FINAL, OrderIntent, OrderRecord, OrderStatus, Reason, order_id
from shared.trading.picks import Pick
from shared.trading.rules import DayPlan, PricedPosition, in_scope

DEAD_ORDER = frozenset({OrderStatus.REJECTED, OrderStatus.CANCELLED})
"""Statuses of an order that did not and will not trade: they do not block another sell."""


def picks_to_buy(plan: DayPlan, order_ids: Collection[str]) -> list[Pick]:
    """The plan's picks without an entry order today, whatever became of it: one try per pick."""
    return [
        p
        for p in plan.picks
        if order_id(plan.session, p.code, Side.BUY, Reason.ENTRY) not in order_ids
    ]


def positions_in_scope(
    held: Mapping[str, BalanceRow], ledger: Mapping[str, Position], sell_scope: str
) -> list[PricedPosition]:
    """The positions the rules may sell, priced from the balance.

    ``bot``: the ledger's positions, never more shares than the account can sell now, at the
    ledger's cost. ``all`` (the seed): every holding at the balance's cost; its buy session is
    the ledger's when the system opened it, else unknown (and so it never expires).
    """
    codes = sorted(held) if sell_scope == "all" else sorted(ledger)
    priced = []
    for code in in_scope(codes, ledger, sell_scope):
        row = held.get(code)
        if row is None:
            # Not in the account (sold by hand, or not settled yet): nothing to sell.
            continue
        if row.current_price <= 0:
            # No price is no information: read as -100 % it would trigger a market sell.
            continue
        sellable = min(row.quantity, row.orderable_quantity)
        position = ledger.get(code)
        if sell_scope == "all" or position is None:
            priced.append(
                PricedPosition(
                    code=code,
                    name=row.name,
                    quantity=sellable,
                    average_price=row.average_price,
                    price=row.current_price,
                    buy_session=position.buy_session if position else None,
                )
            )
        else:
            priced.append(
                PricedPosition(
                    code=code,
                    name=position.name or row.name,
                    quantity=min(position.quantity, sellable),
                    average_price=position.average_price,
                    price=row.current_price,
                    buy_session=position.buy_session,
                )
            )
    return priced


def codes_with_live_sells(records: Iterable[OrderRecord]) -> set[str]:
    """Codes with a sell today, of any reason, that has not been rejected or cancelled."""
    return {
        r.intent.code for r in records if r.intent.side is Side.SELL and r.status not in DEAD_ORDER
    }


def sells_to_place(
    intents: Iterable[OrderIntent], live_sell_codes: Collection[str]
) -> list[OrderIntent]:
    """The sells for codes without a sell already working: never two sells of one position."""
    return [i for i in intents if i.code not in live_sell_codes and i.quantity > 0]


def unsettled(records: Iterable[OrderRecord]) -> list[OrderRecord]:
    """Orders that may still change: not final, or with fills not yet in the ledger."""
    return [r for r in records if r.status not in FINAL or r.unapplied_quantity > 0]
