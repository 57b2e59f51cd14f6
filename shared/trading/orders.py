"""The order model: a decision (intent) and what became of it (record). Pure data, no I/O.

See docs/ARCHITECTURE.md, 'Orders'. An order's id is its intent,
``{session}-{code}-{side}-{reason}`` (``20260303-005930-buy-entry``): creating the record with
``SET NX`` (:mod:`shared.state.order_book`) is what makes a decision happen at most once, and the
same id is the RQ job id. The statuses a record may move between are :data:`TRANSITIONS`, the one
map :class:`~shared.state.order_book.OrderBook` enforces; the diagram in docs/ARCHITECTURE.md,
'States' is generated from it (``python scripts/order_states.py``).

Each timestamp names its clock (docs/ARCHITECTURE.md, 'Clock and calendar'): ``*_kst`` is an aware
datetime on the system clock (simulated in sim and rehearsal runs), ``*_epoch`` is real Unix time in
seconds (staleness, timeouts: things measured by the machine), and ``broker_accepted_kst`` is KIS's
own order time, converted from its ``HHMMSS`` at the client boundary.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from shared.kis.models import Side, broker_time_kst, order_number


class OrderStatus(StrEnum):
    """Where an order is in its lifecycle."""

    PENDING = "pending"
    SUBMITTING = "submitting"
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    REJECTED = "rejected"
    UNKNOWN = "unknown"
    CANCELLED = "cancelled"


_S = OrderStatus
TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]] = MappingProxyType(
    {
        _S.PENDING: frozenset({_S.SUBMITTING, _S.CANCELLED}),
        _S.SUBMITTING: frozenset(
            {
                _S.ACCEPTED,
                _S.PARTIALLY_FILLED,
                _S.FILLED,
                _S.REJECTED,
                _S.UNKNOWN,
                _S.PENDING,
                _S.CANCELLED,
            }
        ),
        _S.UNKNOWN: frozenset(
            {_S.ACCEPTED, _S.PARTIALLY_FILLED, _S.FILLED, _S.PENDING, _S.CANCELLED}
        ),
        _S.ACCEPTED: frozenset({_S.ACCEPTED, _S.PARTIALLY_FILLED, _S.FILLED, _S.CANCELLED}),
        _S.PARTIALLY_FILLED: frozenset({_S.PARTIALLY_FILLED, _S.FILLED, _S.CANCELLED}),
        _S.FILLED: frozenset(),
        _S.REJECTED: frozenset(),
        _S.CANCELLED: frozenset(),
    }
)
"""Each status and the statuses a record in it may move to (docs/ARCHITECTURE.md, 'States').

A status listed as its own successor may be written again with other fields (more shares filled,
an accepted order found waiting for an auction).
"""
CREATED_AS = frozenset({_S.PENDING})
"""Statuses a record is created in from a decision (``OrderBook.create``)."""
ADOPTED_AS = frozenset({_S.ACCEPTED, _S.PARTIALLY_FILLED, _S.FILLED})
"""Statuses a record found at KIS with no record of ours is stored in (``OrderBook.adopt``)."""
FINAL = frozenset(status for status, successors in TRANSITIONS.items() if not successors)
"""Statuses an order never leaves."""
AT_BROKER = frozenset({_S.ACCEPTED, _S.PARTIALLY_FILLED})
"""Statuses of an order KIS has and that may still fill."""
UNSETTLED = frozenset({_S.UNKNOWN, _S.SUBMITTING})
"""Statuses of an order that may or may not exist at KIS."""


class IllegalTransition(ValueError):
    """A change the order model forbids (a status edge outside :data:`TRANSITIONS`, fills that
    shrink): a programming error, raised before anything is written."""


def check_transition(source: OrderStatus, target: OrderStatus) -> None:
    """Raise IllegalTransition unless a record in ``source`` may move to ``target``."""
    if target not in TRANSITIONS[source]:
        allowed = ", ".join(s.value for s in _ordered(TRANSITIONS[source])) or "nothing (final)"
        raise IllegalTransition(f"{source.value} -> {target.value}: allowed are {allowed}")


def states_diagram() -> str:
    """:data:`TRANSITIONS` as a Mermaid ``stateDiagram-v2`` block (docs/ARCHITECTURE.md, 'States').

    Statuses and edges in declaration order, so the text changes only when the map does.
    """
    lines = ["```mermaid", "stateDiagram-v2"]
    lines += [f"    [*] --> {status.value}: created" for status in _ordered(CREATED_AS)]
    lines += [f"    [*] --> {status.value}: adopted" for status in _ordered(ADOPTED_AS)]
    for source, successors in TRANSITIONS.items():
        lines += [f"    {source.value} --> {target.value}" for target in _ordered(successors)]
    lines += [f"    {status.value} --> [*]" for status in _ordered(FINAL)]
    lines.append("```")
    return "\n".join(lines) + "\n"


def _ordered(statuses: frozenset[OrderStatus]) -> list[OrderStatus]:
    """``statuses`` in the order :class:`OrderStatus` declares them."""
    return [status for status in OrderStatus if status in statuses]


class Reason(StrEnum):
    """Why an order exists."""

    ENTRY = "entry"
    TAKE_PROFIT = "take_profit"
    STOP_LOSS = "stop_loss"
    EXPIRY = "expiry"
    MANUAL = "manual"
    ADOPTED = "adopted"
    """Found at KIS with no record of ours (state lost): recorded, never placed by us again."""


def order_id(session: date, code: str, side: Side, reason: Reason) -> str:
    """The deterministic id of an order: one per session, code, side and reason."""
    return f"{session:%Y%m%d}-{code}-{side.label}-{reason.value}"


@dataclass(frozen=True)
class OrderIntent:
    """A decision to trade: what the rules return and what a record is built from."""

    session: date
    code: str
    name: str
    side: Side
    reason: Reason
    quantity: int
    price_seen: int
    """The price the decision was made on, in won."""
    limit_price: int | None = None
    """The order's limit in won (docs/ARCHITECTURE.md, 'Market orders and cash'); None: market."""
    floor_price: int | None = None
    """An entry buy's target in won: no buy is sent once the price is under it (a decision
    delayed past a fall; docs/ARCHITECTURE.md, 'Chaos run'). None: no floor."""
    attempt: int = 1
    """A manual sell tried again after KIS refused the previous one (docs/ARCHITECTURE.md,
    'Flatten'): the second gets its own id, ``...-sell-manual-2``. Rule orders have one."""

    @property
    def id(self) -> str:
        base = order_id(self.session, self.code, self.side, self.reason)
        return base if self.attempt == 1 else f"{base}-{self.attempt}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["session"] = self.session.isoformat()
        data["side"] = self.side.label
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OrderIntent:
        return cls(
            session=date.fromisoformat(data["session"]),
            code=str(data["code"]),
            name=str(data["name"]),
            side=Side[str(data["side"]).upper()],
            reason=Reason(data["reason"]),
            quantity=int(data["quantity"]),
            price_seen=int(data["price_seen"]),
            limit_price=None if data.get("limit_price") is None else int(data["limit_price"]),
            floor_price=None if data.get("floor_price") is None else int(data["floor_price"]),
            attempt=int(data.get("attempt", 1)),
        )


@dataclass(frozen=True)
class OrderRecord:
    """An intent and what became of it. ``version`` increases with every change."""

    intent: OrderIntent
    status: OrderStatus
    created_kst: datetime
    touched_epoch: float
    """Real time of the last change: how long the record has been quiet (staleness)."""
    version: int = 1
    broker_order_no: str = ""
    """KIS's order number, 10 digits (docs/ARCHITECTURE.md, 'KIS rules we rely on'); "" until
    KIS accepted the order."""
    broker_branch_no: str = ""
    broker_accepted_kst: datetime | None = None
    submitted_epoch: float = 0.0
    """Real time the last POST began."""
    sent_quantity: int = 0
    """Shares the last POST asked for, when fewer than the intent's (cash checked at KIS)."""
    sent_price: int = 0
    """The limit in won the last POST carried when the intent has none: a market sell sent in
    the closing call goes as a limit at the day's lower limit, the only kind KIS takes there
    (docs/ARCHITECTURE.md, 'Auctions and volatility interruptions'); 0: as the intent says."""
    filled_quantity: int = 0
    average_fill_price: Decimal = Decimal(0)
    applied_quantity: int = 0
    attempts: int = 0
    error_code: str = ""
    error_message: str = ""
    """Why it is where it is, for a person (a refusal, a cancel, an auction it waits for)."""
    waiting_for: str = ""
    """The auction KIS holds the order for (``shared.trading.auctions.Auction``), "" for none:
    accepted and not filled because of the opening or closing call or a volatility
    interruption (docs/ARCHITECTURE.md, 'Auctions and volatility interruptions')."""
    history: tuple[tuple[OrderStatus, datetime], ...] = field(default_factory=tuple)
    """Each status the record entered, with the system-clock time it did."""

    @classmethod
    def new(cls, intent: OrderIntent, now_kst: datetime, now_epoch: float) -> OrderRecord:
        """The ``pending`` record of a fresh intent."""
        return cls(
            intent=intent,
            status=OrderStatus.PENDING,
            created_kst=now_kst,
            touched_epoch=now_epoch,
            history=((OrderStatus.PENDING, now_kst),),
        )

    @property
    def id(self) -> str:
        return self.intent.id

    @property
    def order_quantity(self) -> int:
        """Shares of the order at KIS: what the POST asked for."""
        return self.sent_quantity or self.intent.quantity

    @property
    def unapplied_quantity(self) -> int:
        """Filled shares not yet written to the position ledger."""
        return self.filled_quantity - self.applied_quantity

    def last_entered(self, status: OrderStatus) -> datetime | None:
        """System-clock time the record last entered ``status`` (None: never)."""
        return next((at for s, at in reversed(self.history) if s is status), None)

    def advanced(
        self, status: OrderStatus, now_kst: datetime, now_epoch: float, **changes: Any
    ) -> OrderRecord:
        """The next version: ``status`` with ``changes``, its history extended on a new status.

        Fills only grow: ``filled_quantity`` below the record's raises IllegalTransition.
        """
        filled = changes.get("filled_quantity", self.filled_quantity)
        if filled < self.filled_quantity:
            raise IllegalTransition(
                f"order {self.id}: fills only grow ({self.filled_quantity} -> {filled} shares)"
            )
        history = self.history
        if status is not self.status:
            history = (*history, (status, now_kst))
        return replace(
            self,
            **changes,
            status=status,
            version=self.version + 1,
            touched_epoch=now_epoch,
            history=history,
        )

    def to_json(self) -> str:
        data = asdict(self)
        data["intent"] = self.intent.to_dict()
        data["created_kst"] = self.created_kst.isoformat()
        data["broker_accepted_kst"] = _iso(self.broker_accepted_kst)
        data["average_fill_price"] = str(self.average_fill_price)
        data["history"] = [[s.value, at.isoformat()] for s, at in self.history]
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str | bytes) -> OrderRecord:
        data: dict[str, Any] = json.loads(raw)
        if "intent" not in data:
            data = _from_first_format(data)
        data["intent"] = OrderIntent.from_dict(data["intent"])
        data["status"] = OrderStatus(data["status"])
        # Records stored before order numbers had one spelling (AOF survives upgrades).
        data["broker_order_no"] = order_number(data.get("broker_order_no", ""))
        data["created_kst"] = datetime.fromisoformat(data["created_kst"])
        accepted = data.get("broker_accepted_kst")
        data["broker_accepted_kst"] = datetime.fromisoformat(accepted) if accepted else None
        data["average_fill_price"] = Decimal(data["average_fill_price"])
        data["history"] = tuple(
            (OrderStatus(s), datetime.fromisoformat(at)) for s, at in data["history"]
        )
        return cls(**data)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


INTENT_FIELDS = ("session", "code", "name", "side", "reason", "quantity", "price_seen")


def _from_first_format(data: dict[str, Any]) -> dict[str, Any]:
    """A record stored by the first release (flat, ``*_at`` names) in today's shape.

    Records survive restarts in Redis (AOF), so an upgrade must still read them. That release
    kept KIS's order time as bare ``HHMMSS``; it is dated with the record's session.
    """
    upgraded = {k: v for k, v in data.items() if k not in INTENT_FIELDS}
    upgraded["intent"] = {k: data[k] for k in INTENT_FIELDS}
    upgraded["created_kst"] = upgraded.pop("created_at")
    upgraded["touched_epoch"] = upgraded.pop("touched_at")
    upgraded["submitted_epoch"] = upgraded.pop("submitted_at", 0.0)
    hhmmss = upgraded.pop("broker_time", "")
    accepted = broker_time_kst(date.fromisoformat(data["session"]), hhmmss)
    upgraded["broker_accepted_kst"] = _iso(accepted)
    return upgraded
