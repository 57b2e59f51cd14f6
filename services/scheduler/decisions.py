"""The scheduler's decisions as pure functions: plan, prices, balance and ledger in, intents out.

The trading rules themselves live in :mod:`shared.rules`; this module applies them to what the
loop has read in one cycle (which picks still need a buy, which positions the rules may sell,
which codes already have a sell working) and turns the answers into order intents.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from shared.kis.models import Holding as BalanceRow
from shared.kis.models import Side
from shared.orders import FINAL, OrderIntent, OrderRecord, OrderStatus, Reason
from shared.picks import Pick
from shared.positions import Position
from shared.rules import DayPlan, Holding, SellDecision, buy_quantity, in_scope

DEAD_ORDER = frozenset({OrderStatus.REJECTED, OrderStatus.CANCELLED})
"""Statuses of an order that did not and will not trade: they do not block another sell."""


@dataclass(frozen=True)
class BuyDecision:
    """Buy ``quantity`` of a pick now, its price having entered the buy band."""

    pick: Pick
    price: int
    quantity: int


def entry_order_id(session: date, code: str) -> str:
    """The id the entry buy of ``code`` has (or would have) on ``session``."""
    return OrderIntent(session, code, "", Side.BUY, Reason.ENTRY, 1, 0).order_id


def picks_to_buy(plan: DayPlan, order_ids: Collection[str]) -> list[Pick]:
    """The plan's picks without an entry order today, whatever became of it: one try per pick."""
    return [p for p in plan.picks if entry_order_id(plan.session, p.code) not in order_ids]


def buy_decisions(
    picks: Sequence[Pick], prices: Mapping[str, int], buy_amount: int, band_ratio: Decimal
) -> list[BuyDecision]:
    """A buy for each pick whose price is in its band and affords at least one share."""
    decisions = []
    for pick in picks:
        price = prices.get(pick.code)
        if price is None:
            continue
        quantity = buy_quantity(price, pick.target, buy_amount, band_ratio)
        if quantity > 0:
            decisions.append(BuyDecision(pick, price, quantity))
    return decisions


def holdings_in_scope(
    held: Mapping[str, BalanceRow], ledger: Mapping[str, Position], sell_scope: str
) -> list[Holding]:
    """The positions the rules may sell, priced from the balance.

    ``bot``: the ledger's positions, never more shares than the account can sell now, at the
    ledger's cost. ``all`` (the seed): every holding at the balance's cost; its buy session is
    the ledger's when the system opened it, else unknown (and so it never expires).
    """
    codes = sorted(held) if sell_scope == "all" else sorted(ledger)
    holdings = []
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
            holdings.append(
                Holding(
                    code=code,
                    name=row.name,
                    quantity=sellable,
                    average_price=row.average_price,
                    price=row.current_price,
                    buy_session=position.buy_session if position else None,
                )
            )
        else:
            holdings.append(
                Holding(
                    code=code,
                    name=position.name or row.name,
                    quantity=min(position.quantity, sellable),
                    average_price=position.average_price,
                    price=row.current_price,
                    buy_session=position.buy_session,
                )
            )
    return holdings


def codes_with_live_sells(records: Iterable[OrderRecord]) -> set[str]:
    """Codes with a sell today, of any reason, that has not been rejected or cancelled."""
    return {r.code for r in records if r.side is Side.SELL and r.status not in DEAD_ORDER}


def sells_to_place(
    decisions: Iterable[SellDecision], live_sell_codes: Collection[str]
) -> list[SellDecision]:
    """The decisions for codes without a sell already working: never two sells of one position."""
    return [d for d in decisions if d.code not in live_sell_codes and d.quantity > 0]


def buy_intent(session: date, decision: BuyDecision) -> OrderIntent:
    return OrderIntent(
        session=session,
        code=decision.pick.code,
        name=decision.pick.name,
        side=Side.BUY,
        reason=Reason.ENTRY,
        quantity=decision.quantity,
        price_seen=decision.price,
    )


def sell_intent(session: date, decision: SellDecision) -> OrderIntent:
    return OrderIntent(
        session=session,
        code=decision.code,
        name=decision.name,
        side=Side.SELL,
        reason=decision.reason,
        quantity=decision.quantity,
        price_seen=decision.price,
    )


def unsettled(records: Iterable[OrderRecord]) -> list[OrderRecord]:
    """Orders that may still change: not final, or with fills not yet in the ledger."""
    return [r for r in records if r.status not in FINAL or r.unapplied_quantity > 0]
