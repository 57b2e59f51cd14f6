"""The notification contract: every event the system emits, typed, and its JSON payload.

Producers build an event (a frozen dataclass below, or one of the ``order_*`` constructors from
an order record) and hand it to :func:`notify`, the one way to emit: it never raises into
trading code. The notifier reads the queue's payload back with :func:`from_payload` and formats
the typed event. A payload is a JSON object: ``{"event": <kind>, <field>: <value>, ...}``, with
dates as ISO strings, money and rates as int won or decimal strings, sides as ``buy``/``sell``
and reasons and statuses as their enum values. The README of ``services/notifier`` shows
what each event becomes on Discord.

Decoding is strict: an unknown kind, a missing field, a field of the wrong type or an
unexpected field raises :class:`EventError` naming the kind and the field. Payloads of an earlier
shape that may still wait in Redis are read too (:func:`_upgraded`).
"""

from __future__ import annotations

import logging
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias

from shared.kis.models import Side
from shared.messaging.typed_json import Payload, ShapeError, decode_object, encode_object
from shared.trading.auctions import Auction
from shared.trading.orders import OrderRecord, OrderStatus, Reason
from shared.trading.trades import Realized

if TYPE_CHECKING:
    import redis

    from shared.infra.redis_keys import Keys

log = logging.getLogger(__name__)

KIND_FIELD = "event"
"""The payload key that names the event's kind."""


class EventKind(StrEnum):
    """Every kind of notification the services emit."""

    SERVICE_START = "service_start"
    SERVICE_STOP = "service_stop"
    PREMARKET_PLAN = "premarket_plan"
    NO_PICKS = "no_picks"
    PICKS_ERROR = "picks_error"
    BUY_ATTEMPT = "buy_attempt"
    SELL_ATTEMPT = "sell_attempt"
    ORDER_ACCEPTED = "order_accepted"
    ORDER_WAITING = "order_waiting"
    ORDER_FILLED = "order_filled"
    ORDER_REJECTED = "order_rejected"
    ORDER_UNKNOWN = "order_unknown"
    ORDER_CANCELLED = "order_cancelled"
    ORDER_ERROR = "order_error"
    CLOSED_DAY = "closed_day"
    DAILY_SUMMARY = "daily_summary"
    WEEKLY_SUMMARY = "weekly_summary"
    MONTHLY_SUMMARY = "monthly_summary"
    ENTRIES_STOPPED = "entries_stopped"
    LIMIT_TRIPPED = "limit_tripped"
    KIS_OUTAGE = "kis_outage"
    KIS_BACK = "kis_back"
    ERROR = "error"


class EventError(ValueError):
    """A payload (or an event) that does not fit the contract; the message says where."""


# Service life ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ServiceStart:
    """A service process started."""

    kind: ClassVar[EventKind] = EventKind.SERVICE_START
    service: str
    instance: str


@dataclass(frozen=True)
class ServiceStop:
    """A service process stopped cleanly."""

    kind: ClassVar[EventKind] = EventKind.SERVICE_STOP
    service: str
    instance: str


@dataclass(frozen=True)
class ServiceError:
    """An unexpected error a service carried on after (``service``/``phase`` when known)."""

    kind: ClassVar[EventKind] = EventKind.ERROR
    message: str
    service: str = ""
    phase: str = ""


@dataclass(frozen=True)
class KisOutage:
    """KIS stopped answering during a session (docs/ARCHITECTURE.md, 'When KIS does not
    answer'): sent once per outage."""

    kind: ClassVar[EventKind] = EventKind.KIS_OUTAGE
    since_kst: datetime
    """The real time (not a simulated clock's) of the first request KIS did not answer."""
    detail: str


@dataclass(frozen=True)
class KisBack:
    """KIS answers again after an outage that :class:`KisOutage` announced."""

    kind: ClassVar[EventKind] = EventKind.KIS_BACK
    since_kst: datetime
    until_kst: datetime
    """The real time when the scheduler saw the outage over."""


# The scheduler's day -----------------------------------------------------------------------------
@dataclass(frozen=True)
class PlannedPick:
    """One pick of the day's plan: the stock and its target price in won."""

    code: str
    name: str
    target: int


@dataclass(frozen=True)
class PremarketPlan:
    """The session's plan: cash, the amount per pick, the picks, the held picks dropped."""

    kind: ClassVar[EventKind] = EventKind.PREMARKET_PLAN
    session: date
    cash: int
    buy_amount: int
    picks: tuple[PlannedPick, ...]
    held_picks: tuple[str, ...]


@dataclass(frozen=True)
class NoPicks:
    """A session with nothing to buy: no picks, or every pick already held."""

    kind: ClassVar[EventKind] = EventKind.NO_PICKS
    session: date
    picks_given: int
    held_picks: tuple[str, ...]


@dataclass(frozen=True)
class PicksUnreadable:
    """The session's picks could not be read: no buying that day."""

    kind: ClassVar[EventKind] = EventKind.PICKS_ERROR
    session: date
    message: str


@dataclass(frozen=True)
class EntriesStopped:
    """No more entry buys this session: our state was lost; sells go on. Sent by versions that
    stopped a day's buys after a loss; kept so such an event still queued reads and shows (a
    loss now waits for the rebuild and goes on, docs/ARCHITECTURE.md, 'When our state is
    lost')."""

    kind: ClassVar[EventKind] = EventKind.ENTRIES_STOPPED
    session: date
    message: str


@dataclass(frozen=True)
class LimitTripped:
    """A money limit stopped or reduced an order (docs/ARCHITECTURE.md, 'Money limits'); sent
    once per limit and session, however many orders it stops."""

    kind: ClassVar[EventKind] = EventKind.LIMIT_TRIPPED
    session: date
    limit: str
    value: int
    message: str


@dataclass(frozen=True)
class BuyAttempt:
    """A pick reached its buy band: a buy order was queued."""

    kind: ClassVar[EventKind] = EventKind.BUY_ATTEMPT
    session: date
    code: str
    name: str
    price: int
    """The price the decision was made on, in won."""
    quantity: int
    target: int | None = None
    """The pick's target in won (None in an event queued before it was sent along)."""


@dataclass(frozen=True)
class SellAttempt:
    """A position met a sell rule: a sell order was queued."""

    kind: ClassVar[EventKind] = EventKind.SELL_ATTEMPT
    session: date
    code: str
    name: str
    price: int
    quantity: int
    reason: Reason


@dataclass(frozen=True)
class ClosedDay:
    """KRX does not open on ``day``."""

    kind: ClassVar[EventKind] = EventKind.CLOSED_DAY
    day: date
    next_session: date


@dataclass(frozen=True)
class HeldPosition:
    """A position still held after the close."""

    code: str
    name: str
    quantity: int
    average_price: Decimal
    buy_session: date


@dataclass(frozen=True)
class DailySummary:
    """The post-market summary: the session's sells (the ledger's realised trades), holdings,
    order counts by status, balances.

    ``realized_profit`` is gross; ``realized_profit_net`` is after KIS's fees on both sides and
    the sell tax (``shared.trading.costs``). ``orderable_cash`` is what KIS lets the account buy
    with now; ``cash_d2`` the cash once every trade has settled (D+2, ``prvs_rcdl_excc_amt``) — not
    the settled deposit ``dnca_tot_amt``, which does not move on the day of a trade.

    ``reconciliation`` is how the post-market reconciliation ended (``finished``, or e.g.
    ``timeout``: KIS may then know fills the ledger does not have yet).
    """

    kind: ClassVar[EventKind] = EventKind.DAILY_SUMMARY
    session: date
    realized: tuple[Realized, ...]
    realized_profit: int
    realized_profit_net: int
    positions: tuple[HeldPosition, ...]
    orders: dict[OrderStatus, int]
    orderable_cash: int
    cash_d2: int
    total_value: int
    reconciliation: str


@dataclass(frozen=True)
class CodeNet:
    """One code's realised net P&L over a period."""

    code: str
    name: str
    net: int


@dataclass(frozen=True)
class PeriodSummary:
    """The track record of a week or a month, sent after its last KRX session
    (docs/ARCHITECTURE.md, 'Track record'): the journal's trades sold in it, and the largest
    fall of the account's value at its closes.

    ``period`` is ``2026-W10`` or ``2026-03``. ``realized_profit`` is gross,
    ``realized_profit_net`` after fees and tax; ``win_rate_pct`` and ``profit_factor`` are None
    without a trade or without a losing trade (``losses`` tells them apart). ``best`` and
    ``worst`` are the codes with the highest and the lowest net (None without a trade; the same
    code when one was traded). ``max_drawdown_*`` is the deepest fall of the closes from the last
    close before the period (None with fewer than two closes).
    """

    kind: ClassVar[EventKind]
    period: str
    first_session: date
    last_session: date
    sessions: int
    trades: int
    wins: int
    losses: int
    realized_profit: int
    realized_profit_net: int
    fees: int
    tax: int
    win_rate_pct: Decimal | None
    profit_factor: Decimal | None
    best: CodeNet | None
    worst: CodeNet | None
    max_drawdown_won: int | None
    max_drawdown_pct: Decimal | None


@dataclass(frozen=True)
class WeeklySummary(PeriodSummary):
    """The week's summary, after its last session (Thursday when Friday is a holiday)."""

    kind: ClassVar[EventKind] = EventKind.WEEKLY_SUMMARY


@dataclass(frozen=True)
class MonthlySummary(PeriodSummary):
    """The month's summary, after its last session."""

    kind: ClassVar[EventKind] = EventKind.MONTHLY_SUMMARY


# Orders (emitted by the executor) ----------------------------------------------------------------
@dataclass(frozen=True)
class OrderEvent:
    """What every order event says about the order (the KIS order number is not a secret)."""

    kind: ClassVar[EventKind]
    order_id: str
    session: date
    code: str
    name: str
    side: Side
    reason: Reason
    quantity: int
    status: OrderStatus
    broker_order_no: str
    attempts: int


@dataclass(frozen=True)
class OrderAccepted(OrderEvent):
    """KIS took the order; ``reconciled`` when it was found in KIS's executions instead."""

    kind: ClassVar[EventKind] = EventKind.ORDER_ACCEPTED
    reconciled: bool = False


@dataclass(frozen=True)
class OrderWaiting(OrderEvent):
    """KIS holds the accepted order unfilled for ``auction`` (the opening or closing call, a
    volatility interruption): it fills at the auction's one price, or not at all
    (docs/ARCHITECTURE.md, 'Auctions and volatility interruptions')."""

    kind: ClassVar[EventKind] = EventKind.ORDER_WAITING
    auction: Auction


@dataclass(frozen=True)
class OrderFilled(OrderEvent):
    """The order (partly) filled; for a sell written to the ledger, the realised profit too.

    The ``realized_*``, ``buy_price``, ``sell_price`` and ``profit_rate`` fields come all
    together or not at all (see :attr:`sale`); ``profit_rate`` is the one :attr:`sale` derives
    from the prices.
    """

    kind: ClassVar[EventKind] = EventKind.ORDER_FILLED
    filled_quantity: int
    fill_price: Decimal
    amount: int
    realized_quantity: int | None = None
    buy_price: Decimal | None = None
    sell_price: Decimal | None = None
    realized_profit: int | None = None
    profit_rate: Decimal | None = None

    def __post_init__(self) -> None:
        parts = (
            self.realized_quantity,
            self.buy_price,
            self.sell_price,
            self.realized_profit,
            self.profit_rate,
        )
        if any(p is None for p in parts) and any(p is not None for p in parts):
            raise EventError("the realised profit fields come all together or not at all")

    @property
    def sale(self) -> Realized | None:
        """The realised trade of a sell, or None (a buy, or a sell not in the ledger)."""
        if (
            self.realized_quantity is None
            or self.buy_price is None
            or self.sell_price is None
            or self.realized_profit is None
            or self.profit_rate is None
        ):
            return None
        return Realized(
            order_id=self.order_id,
            code=self.code,
            name=self.name,
            quantity=self.realized_quantity,
            buy_price=self.buy_price,
            sell_price=self.sell_price,
            profit=self.realized_profit,
            reason=self.reason,
        )


@dataclass(frozen=True)
class OrderProblem(OrderEvent):
    """An order event with KIS's (or our) code and words."""

    error_code: str
    message: str


@dataclass(frozen=True)
class OrderRejected(OrderProblem):
    """KIS refused the order: final."""

    kind: ClassVar[EventKind] = EventKind.ORDER_REJECTED


@dataclass(frozen=True)
class OrderUnknown(OrderProblem):
    """No clear answer from KIS: reconciliation will settle the order."""

    kind: ClassVar[EventKind] = EventKind.ORDER_UNKNOWN


@dataclass(frozen=True)
class OrderCancelled(OrderProblem):
    """The order was cancelled (e.g. never sent before the close)."""

    kind: ClassVar[EventKind] = EventKind.ORDER_CANCELLED


@dataclass(frozen=True)
class OrderError(OrderProblem):
    """Sending the order failed in a way that will be tried again or needs a look."""

    kind: ClassVar[EventKind] = EventKind.ORDER_ERROR


Event: TypeAlias = (
    ServiceStart
    | ServiceStop
    | ServiceError
    | KisOutage
    | KisBack
    | PremarketPlan
    | NoPicks
    | PicksUnreadable
    | EntriesStopped
    | LimitTripped
    | BuyAttempt
    | SellAttempt
    | OrderAccepted
    | OrderWaiting
    | OrderFilled
    | OrderRejected
    | OrderUnknown
    | OrderCancelled
    | OrderError
    | ClosedDay
    | DailySummary
    | WeeklySummary
    | MonthlySummary
)
"""Any event of the contract."""

EVENT_TYPES: dict[EventKind, type[Event]] = {cls.kind: cls for cls in typing.get_args(Event)}
"""The registry: the event class of each kind."""
EVENT_KINDS = frozenset(k.value for k in EventKind)
"""Every kind's name, as payloads carry it."""


# Constructors from an order record ---------------------------------------------------------------
def _order_fields(record: OrderRecord) -> dict[str, Any]:
    intent = record.intent
    return {
        "order_id": record.id,
        "session": intent.session,
        "code": intent.code,
        "name": intent.name,
        "side": intent.side,
        "reason": intent.reason,
        "quantity": intent.quantity,
        "status": record.status,
        "broker_order_no": record.broker_order_no,
        "attempts": record.attempts,
    }


def order_accepted(record: OrderRecord, *, reconciled: bool = False) -> OrderAccepted:
    """KIS accepted ``record`` (``reconciled``: found in KIS's executions by reconciliation)."""
    return OrderAccepted(**_order_fields(record), reconciled=reconciled)


def order_waiting(record: OrderRecord, auction: Auction) -> OrderWaiting:
    """KIS accepted ``record`` and holds it for ``auction``."""
    return OrderWaiting(**_order_fields(record), auction=auction)


def order_filled(record: OrderRecord, realized: Realized | None = None) -> OrderFilled:
    """``record`` filled (so far); ``realized``: the ledger's profit of a sell."""
    fill_price = record.average_fill_price
    sale: dict[str, Any] = {}
    if realized is not None:
        sale = {
            "realized_quantity": realized.quantity,
            "buy_price": realized.buy_price,
            "sell_price": realized.sell_price,
            "realized_profit": realized.profit,
            "profit_rate": realized.profit_rate,
        }
    return OrderFilled(
        **_order_fields(record),
        filled_quantity=record.filled_quantity,
        fill_price=fill_price,
        amount=int(fill_price * record.filled_quantity),
        **sale,
    )


def order_rejected(record: OrderRecord, error_code: str, message: str) -> OrderRejected:
    """KIS refused ``record`` with ``error_code`` (its ``msg_cd``) and ``message``."""
    return OrderRejected(**_order_fields(record), error_code=error_code, message=message)


def order_unknown(record: OrderRecord, error_code: str, message: str) -> OrderUnknown:
    """The outcome of sending ``record`` is unknown (a timeout, a lost answer)."""
    return OrderUnknown(**_order_fields(record), error_code=error_code, message=message)


def order_cancelled(record: OrderRecord, error_code: str, message: str) -> OrderCancelled:
    """``record`` was cancelled; ``error_code`` is usually empty."""
    return OrderCancelled(**_order_fields(record), error_code=error_code, message=message)


def order_error(record: OrderRecord, error_code: str, message: str) -> OrderError:
    """Sending ``record`` failed with ``error_code`` and ``message``."""
    return OrderError(**_order_fields(record), error_code=error_code, message=message)


# Payloads ----------------------------------------------------------------------------------------
def to_payload(event: Event) -> Payload:
    """The JSON-safe payload of ``event``; EventError if it is not a registered, typed event."""
    kind = getattr(type(event), "kind", None)
    if not isinstance(kind, EventKind) or EVENT_TYPES.get(kind) is not type(event):
        raise EventError(f"{type(event).__name__} is not a registered event")
    try:
        return {KIND_FIELD: kind.value, **encode_object(event, kind.value)}
    except ShapeError as e:
        raise EventError(str(e)) from None


def from_payload(payload: Mapping[str, Any]) -> Event:
    """The event a payload describes; EventError on an unknown kind or a missing/ill-typed field."""
    if not isinstance(payload, Mapping):
        raise EventError(f"a notification must be an object, got {payload!r}")
    name = payload.get(KIND_FIELD)
    if name not in EVENT_KINDS:
        raise EventError(f"unknown event kind {name!r}")
    kind = EventKind(name)
    try:
        event: Event = decode_object(
            _upgraded(kind, payload), EVENT_TYPES[kind], kind.value, ignore={KIND_FIELD}
        )
    except ShapeError as e:
        raise EventError(str(e)) from None
    return event


def _upgraded(kind: EventKind, payload: Mapping[str, Any]) -> Mapping[str, Any]:
    """A payload of an earlier shape in today's, so events queued before an upgrade still read.

    The event list survives restarts (AOF). A ``daily_summary`` queued while a
    summary's trades had a shape of their own lists them without the ``order_id`` the ledger's
    realised trades carry: it reads as empty.
    """
    realized = payload.get("realized")
    if kind is not EventKind.DAILY_SUMMARY or not isinstance(realized, list):
        return payload
    trades = [
        {"order_id": "", **trade}
        if isinstance(trade, Mapping) and "order_id" not in trade
        else trade
        for trade in realized
    ]
    return {**payload, "realized": trades}


def payload_kind(payload: object) -> str:
    """The kind a (maybe malformed) payload claims, for logs: never raises."""
    if isinstance(payload, Mapping):
        return str(payload.get(KIND_FIELD) or "?")
    return type(payload).__name__


# Emitting ----------------------------------------------------------------------------------------
def notify(client: redis.Redis, event: Event, keys: Keys | None = None) -> bool:
    """Append ``event`` for the notifier; False (logged) on any failure, never raised.

    The only way to emit a notification: trading code calls it and carries on whatever
    happens, so a Redis hiccup cannot fail an order or a cycle. ``keys`` names the list under
    the configured ``REDIS_PREFIX`` (the default prefix when omitted). See
    docs/ARCHITECTURE.md, 'Notifications'.
    """
    # Imported here so this contract stays importable without RQ (the queues module's
    # legacy bridge imports this one).
    from shared.messaging.queues import enqueue_notification

    try:
        enqueue_notification(client, to_payload(event), keys)
    except Exception:
        log.exception("could not queue the %s notification", getattr(event, "kind", event))
        return False
    return True
