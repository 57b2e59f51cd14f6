"""Order intents and records in Redis: created once, moved only by compare-and-set (DESIGN §4).

An order's id is its intent, ``{session}-{code}-{side}-{reason}`` (``20260303-005930-buy-entry``):
creating the record with ``SET NX`` is what makes a decision happen at most once, and the same
id is the RQ job id. Lifecycle::

    pending -> submitting -> accepted -> filled | partially_filled
                          -> rejected | unknown | cancelled
    unknown -> accepted | filled | partially_filled (found at KIS) or pending (proved absent)
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

import redis

from shared.clock import Clock
from shared.kis.models import OrderRequest, Side
from shared.redis_keys import Keys, text


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


FINAL = frozenset({OrderStatus.FILLED, OrderStatus.REJECTED, OrderStatus.CANCELLED})
"""Statuses an order never leaves."""
AT_BROKER = frozenset({OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED})
"""Statuses of an order KIS has and that may still fill."""


class Reason(StrEnum):
    """Why an order exists."""

    ENTRY = "entry"
    TAKE_PROFIT = "take_profit"
    STOP_LOSS = "stop_loss"
    EXPIRY = "expiry"
    MANUAL = "manual"


@dataclass(frozen=True)
class OrderIntent:
    """A decision to trade, before it has a record."""

    session: date
    code: str
    name: str
    side: Side
    reason: Reason
    quantity: int
    price_seen: int

    @property
    def order_id(self) -> str:
        """The deterministic id: one order per session, code, side and reason."""
        return f"{self.session:%Y%m%d}-{self.code}-{self.side.label}-{self.reason.value}"


@dataclass(frozen=True)
class OrderRecord:
    """An order as the system knows it. ``version`` increases with every change."""

    id: str
    session: date
    code: str
    name: str
    side: Side
    reason: Reason
    quantity: int
    price_seen: int
    status: OrderStatus
    created_at: str
    touched_at: float
    version: int = 1
    broker_order_no: str = ""
    broker_branch_no: str = ""
    broker_time: str = ""
    submitted_at: float = 0.0
    filled_quantity: int = 0
    average_fill_price: Decimal = Decimal(0)
    applied_quantity: int = 0
    attempts: int = 0
    error_code: str = ""
    error_message: str = ""
    history: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def request(self) -> OrderRequest:
        """The KIS market order this record sends."""
        return OrderRequest(self.code, self.side, self.quantity)

    @property
    def unapplied_quantity(self) -> int:
        """Filled shares not yet written to the position ledger."""
        return self.filled_quantity - self.applied_quantity

    def to_json(self) -> str:
        data = asdict(self)
        data["session"] = self.session.isoformat()
        data["average_fill_price"] = str(self.average_fill_price)
        data["side"] = self.side.label
        data["history"] = [list(h) for h in self.history]
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str | bytes) -> OrderRecord:
        data: dict[str, Any] = json.loads(raw)
        data["session"] = date.fromisoformat(data["session"])
        data["side"] = Side[data["side"].upper()]
        data["reason"] = Reason(data["reason"])
        data["status"] = OrderStatus(data["status"])
        data["average_fill_price"] = Decimal(data["average_fill_price"])
        data["history"] = tuple(tuple(h) for h in data["history"])
        return cls(**data)


CREATE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX') then
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
  return 1
end
return 0
"""
"""Create the record if no record has the id, and index it under its session, atomically."""

COMPARE_AND_SET = """
local raw = redis.call('GET', KEYS[1])
if not raw then return -1 end
if tostring(cjson.decode(raw)['version']) ~= ARGV[1] then return 0 end
if ARGV[3] ~= '' then
  local owner = redis.call('HGET', KEYS[2], ARGV[3])
  if owner and owner ~= ARGV[4] then return -2 end
  redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
end
redis.call('SET', KEYS[1], ARGV[2])
return 1
"""
"""Replace the record only if its version is still the one read; claim the broker order no."""


class BrokerOrderTaken(Exception):
    """The KIS order number already belongs to another of our orders."""


class OrderBook:
    """The Redis-held order records of every session."""

    def __init__(self, client: redis.Redis, keys: Keys, clock: Clock) -> None:
        self._redis = client
        self._keys = keys
        self._clock = clock
        self._create = client.register_script(CREATE)
        self._cas = client.register_script(COMPARE_AND_SET)

    def create(self, intent: OrderIntent) -> OrderRecord | None:
        """The new pending record, or None when this intent already has one (any status)."""
        now = self._clock.now().isoformat(timespec="seconds")
        record = OrderRecord(
            id=intent.order_id,
            session=intent.session,
            code=intent.code,
            name=intent.name,
            side=intent.side,
            reason=intent.reason,
            quantity=intent.quantity,
            price_seen=intent.price_seen,
            status=OrderStatus.PENDING,
            created_at=now,
            touched_at=time.time(),
            history=((OrderStatus.PENDING.value, now),),
        )
        created = self._create(
            keys=[self._keys.order(record.id), self._keys.orders_of_day(record.session)],
            args=[record.to_json(), record.touched_at, record.id],
        )
        return record if created == 1 else None

    def get(self, order_id: str) -> OrderRecord | None:
        raw = self._redis.get(self._keys.order(order_id))
        return None if raw is None else OrderRecord.from_json(raw)

    def of_day(self, session: date) -> list[OrderRecord]:
        """Every record of a session, oldest first."""
        ids = [text(i) for i in self._redis.zrange(self._keys.orders_of_day(session), 0, -1)]
        if not ids:
            return []
        raws = self._redis.mget([self._keys.order(i) for i in ids])
        return [OrderRecord.from_json(raw) for raw in raws if raw is not None]

    def with_status(self, session: date, statuses: Iterable[OrderStatus]) -> list[OrderRecord]:
        wanted = set(statuses)
        return [r for r in self.of_day(session) if r.status in wanted]

    def transition(
        self,
        order_id: str,
        expected: OrderStatus | Iterable[OrderStatus],
        new_status: OrderStatus,
        **changes: Any,
    ) -> OrderRecord | None:
        """Move the record from one of ``expected`` to ``new_status`` with ``changes``, atomically.

        Returns the new record, or None when the record is not in an expected status (someone
        else moved it first). Raises BrokerOrderTaken when ``broker_order_no`` in ``changes``
        already belongs to another order.
        """
        allowed = {expected} if isinstance(expected, OrderStatus) else set(expected)
        while True:
            current = self.get(order_id)
            if current is None:
                raise KeyError(f"no order {order_id}")
            if current.status not in allowed:
                return None
            updated = self._advance(current, new_status, changes)
            claim = str(changes.get("broker_order_no", ""))
            result = self._cas(
                keys=[self._keys.order(order_id), self._keys.broker_orders(current.session)],
                args=[current.version, updated.to_json(), claim, order_id],
            )
            if result == 1:
                return updated
            if result == -2:
                raise BrokerOrderTaken(f"KIS order {claim} already belongs to another order")
            # result 0: another writer got in between; read again and re-check the status.

    def broker_owner(self, session: date, broker_order_no: str) -> str | None:
        """Our order id that KIS order ``broker_order_no`` was matched to, if any."""
        owner = self._redis.hget(self._keys.broker_orders(session), broker_order_no)
        return text(owner) if owner else None

    def _advance(
        self, current: OrderRecord, new_status: OrderStatus, changes: Mapping[str, Any]
    ) -> OrderRecord:
        history = current.history
        if new_status is not current.status:
            now = self._clock.now().isoformat(timespec="seconds")
            history = (*history, (new_status.value, now))
        return replace(
            current,
            **changes,
            status=new_status,
            version=current.version + 1,
            touched_at=time.time(),
            history=history,
        )
