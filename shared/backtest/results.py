"""What a backtest produced: every order, fill and closed trade, the account each session, the
data problems, and the config that made them. Plain data, to JSON (``report.json``) and back.

See docs/ARCHITECTURE.md, 'Backtest'. Moments are aware datetimes in KST; money is whole won.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from shared.backtest.config import BacktestConfig
from shared.kis.models import Side
from shared.messaging.typed_json import decode_object, encode_object
from shared.trading.orders import Reason


class ProblemKind(StrEnum):
    """What is wrong with the data of a code on a session (docs/ARCHITECTURE.md, 'Backtest')."""

    GAP = "gap"
    """Minutes missing inside the session's continuous trading: those minutes are not walked."""
    HALTED = "halted"
    """A session the code should trade, known to have had no trade (no bars or no volume)."""
    NO_BARS = "no_bars"
    """A pick or a position without any bar for the session (never fetched or imported)."""
    SPLIT = "split"
    """Prices beyond KRX's ±30 % of the previous close: a split or an adjustment."""
    DAILY_ONLY = "daily_only"
    """No minute bars for the session: its daily bar was walked instead (the coarse model)."""
    PICKS = "picks"
    """A session's picks could not be used (an unreadable file, a code without a close)."""


@dataclass(frozen=True)
class DataProblem:
    """One problem, named; ``code`` is empty for a problem of the whole session."""

    kind: ProblemKind
    session: date
    code: str
    detail: str


class OrderOutcome(StrEnum):
    """What became of an order the rules decided."""

    FILLED = "filled"
    CANCELLED = "cancelled"
    """Not sent: KIS would allow no share with the cash left at its limit."""
    REFUSED = "refused"
    """Not sent: a money limit (MAX_ORDER_KRW, MAX_ORDERS_PER_DAY, MAX_OPEN_POSITIONS)."""


@dataclass(frozen=True)
class OrderRow:
    """A decision of the rules and what the order method made of it."""

    id: str
    session: date
    moment: datetime
    code: str
    name: str
    side: Side
    reason: Reason
    quantity: int
    """The rules' quantity (``buy_amount // price``, or the whole position)."""
    sent_quantity: int
    """What was sent after the money limits and KIS's buyable quantity (0: not sent)."""
    limit_price: int | None
    """An entry buy's limit (the band's last tick); None for a market order."""
    price_seen: int
    """The price the decision was made at."""
    status: OrderOutcome
    note: str = ""


@dataclass(frozen=True)
class FillRow:
    """One execution, with the fee and tax the account paid for it."""

    order_id: str
    session: date
    moment: datetime
    code: str
    side: Side
    quantity: int
    price: int
    fee: int
    tax: int


@dataclass(frozen=True)
class ClosedTrade:
    """A position from its buy to its sell. ``net`` is ``gross - fees - tax``."""

    code: str
    name: str
    entry_session: date
    entry_moment: datetime
    entry_price: int
    exit_session: date
    exit_moment: datetime
    exit_price: int
    quantity: int
    reason: Reason
    sessions_held: int
    gross: int
    fees: int
    """The buy's fee and the sell's."""
    tax: int
    net: int
    problems: tuple[ProblemKind, ...] = ()
    """Kinds of data problems of this code from the entry session to the exit session."""


@dataclass(frozen=True)
class OpenPosition:
    """A position still held after the last session, valued at its last close."""

    code: str
    name: str
    quantity: int
    entry_session: date
    entry_moment: datetime
    entry_price: int
    last_price: int
    value: int


@dataclass(frozen=True)
class PlannedPick:
    """A pick of a session's plan: the band starts at ``target``."""

    code: str
    name: str
    target: int


@dataclass(frozen=True)
class PlanRow:
    """A session's pre-market plan, as :func:`shared.trading.rules.plan_day` made it."""

    session: date
    cash: int
    """The orderable cash it split."""
    buy_amount: int
    picks: tuple[PlannedPick, ...]
    held_picks: tuple[str, ...]
    """Picks dropped because they were held."""


@dataclass(frozen=True)
class SessionPrice:
    """A code's first price and close in a session (buy-and-hold beside the rules)."""

    open: int
    close: int


@dataclass(frozen=True)
class EquityPoint:
    """The account at a session's close: ``value = deposit + pending + holdings``."""

    session: date
    deposit: int
    """The settled deposit (dnca_tot_amt)."""
    pending: int
    """Won still to settle, net (sales in, buys out, D+2)."""
    holdings: int
    """Every position at the session's close."""
    value: int
    positions: int


@dataclass(frozen=True)
class BacktestResult:
    """Everything one run produced, in time order."""

    config: BacktestConfig
    sessions: tuple[date, ...]
    plans: tuple[PlanRow, ...]
    orders: tuple[OrderRow, ...]
    fills: tuple[FillRow, ...]
    trades: tuple[ClosedTrade, ...]
    open_positions: tuple[OpenPosition, ...]
    equity: tuple[EquityPoint, ...]
    problems: tuple[DataProblem, ...]
    prices: dict[str, dict[date, SessionPrice]]
    """Every code of the run at every session it traded (open and close)."""

    @property
    def final_value(self) -> int:
        return self.equity[-1].value if self.equity else self.config.cash

    def to_json(self) -> dict[str, Any]:
        return encode_object(self, "result")

    @classmethod
    def from_json(cls, data: Any) -> BacktestResult:
        """The result of a ``report.json`` (its ``metrics``, computed from it, are left)."""
        result: BacktestResult = decode_object(data, cls, "result", ignore={"metrics"})
        return result

    def write(self, path: Path) -> None:
        """Write the result as JSON (``report.json``)."""
        path.write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=1) + "\n")

    @classmethod
    def read(cls, path: Path) -> BacktestResult:
        return cls.from_json(json.loads(path.read_text()))
