"""Buy-and-hold of the same picks: what the picks alone made, without the band and the exits.

See docs/ARCHITECTURE.md, 'Backtest' (buy-and-hold). From the same starting cash, every
session at its open, the session's picks not already held are bought at the session's first
price, each with the same share of the cash then free (:func:`plan_day`'s ``cash // n``, whole
shares, KIS's fee paid); each is held ``expiry_sessions`` sessions and sold at the close of the
session the rules' expiry would sell it (no band, no take-profit, no stop-loss), paying the fee
and the sell tax; a sale's cash is free at once (as the orderable cash is). A pick without a
price at its session is not bought; a position whose expiry session has no price is sold at the
next close there is; what is still held at the end is valued at its last close.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from shared.backtest.results import SessionPrice
from shared.trading.costs import TradeCosts
from shared.trading.metrics import max_drawdown, return_pct
from shared.trading.picks import Pick
from shared.trading.rules import plan_day


@dataclass(frozen=True)
class BuyAndHold:
    """The buy-and-hold account at each session's close, and what each code made in it."""

    values: tuple[int, ...]
    """The account's value at each session's close."""
    final_value: int
    return_pct: Decimal
    max_drawdown_pct: Decimal
    buys: int
    sells: int
    costs: int
    """Fees and tax paid."""
    by_code: dict[str, int]
    """Each code's P&L: its sales after fees and tax, and what is still held at its last close,
    over what it cost with the fee."""


@dataclass
class _Lot:
    quantity: int
    cost: int
    """What the shares cost, with the buy's fee."""
    bought: int
    """Index of the session they were bought at."""


def affordable(amount: int, price: int, costs: TradeCosts) -> int:
    """Whole shares at ``price`` that ``amount`` pays for, the fee included."""
    if price <= 0:
        return 0
    quantity = amount // price
    while quantity > 0 and quantity * price + costs.fee(Decimal(quantity * price)) > amount:
        quantity -= 1
    return quantity


def buy_and_hold(
    cash: int,
    days: Sequence[date],
    picks: Sequence[Sequence[str]],
    prices: Mapping[str, Mapping[date, SessionPrice]],
    expiry_sessions: int,
    costs: TradeCosts,
) -> BuyAndHold:
    """The picks of each of ``days`` (``picks[i]`` for ``days[i]``) bought and held."""
    start = cash
    held: dict[str, _Lot] = {}
    last_close: dict[str, int] = {}
    by_code: dict[str, int] = defaultdict(int)
    values: list[int] = []
    buys = sells = paid = 0
    for i, day in enumerate(days):
        plan = plan_day(day, [Pick(code, code, 0) for code in picks[i]], held, cash)
        for pick in plan.picks:
            price = prices.get(pick.code, {}).get(day)
            quantity = 0 if price is None else affordable(plan.buy_amount, price.open, costs)
            if price is None or quantity == 0:
                continue
            fee = costs.fee(Decimal(quantity * price.open))
            cash -= quantity * price.open + fee
            paid += fee
            buys += 1
            held[pick.code] = _Lot(quantity, quantity * price.open + fee, i)
        for code, lot in list(held.items()):
            price = prices.get(code, {}).get(day)
            if price is None:
                continue
            last_close[code] = price.close
            if i - lot.bought >= expiry_sessions:
                amount = lot.quantity * price.close
                charges = costs.fee(Decimal(amount)) + costs.tax(Decimal(amount))
                cash += amount - charges
                paid += charges
                sells += 1
                by_code[code] += amount - charges - lot.cost
                del held[code]
        values.append(cash + sum(lot.quantity * last_close[code] for code, lot in held.items()))
    for code, lot in held.items():
        by_code[code] += lot.quantity * last_close[code] - lot.cost
    final = values[-1] if values else start
    return BuyAndHold(
        values=tuple(values),
        final_value=final,
        return_pct=return_pct(start, final),
        max_drawdown_pct=max_drawdown(start, values).pct,
        buys=buys,
        sells=sells,
        costs=paid,
        by_code=dict(sorted(by_code.items())),
    )
