"""Order records in Redis: created once, moved only by compare-and-set.

See docs/ARCHITECTURE.md, 'Orders' and 'Redis keys'. The model itself is
:mod:`shared.trading.orders`; this module is its storage: ``SET NX`` on the intent's id creates a
record at most once, and every change after that is a compare-and-set on the record's ``version``,
computed from the record as stored and allowed only along ``shared.trading.orders.TRANSITIONS``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Any

import redis

from shared.infra.clock import Clock
from shared.infra.redis_keys import SESSION_RETENTION_SECONDS, Keys, text
from shared.state.cash_ahead import bump_cash_generation
from shared.trading.orders import (
    ADOPTED_AS,
    IllegalTransition,
    OrderIntent,
    OrderRecord,
    OrderStatus,
    check_transition,
)

CREATE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[4]) then
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
  redis.call('EXPIRE', KEYS[2], ARGV[4])
  return 1
end
return 0
"""
"""Create the record if no record has the id, and index it under its session, atomically; both
kept for the session retention (docs/ARCHITECTURE.md, 'Redis keys')."""

COMPARE_AND_SET = """
local raw = redis.call('GET', KEYS[1])
if not raw then return -1 end
if tostring(cjson.decode(raw)['version']) ~= ARGV[1] then return 0 end
if ARGV[3] ~= '' then
  local owner = redis.call('HGET', KEYS[2], ARGV[3])
  if owner and owner ~= ARGV[4] then return -2 end
  redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
  redis.call('EXPIRE', KEYS[2], ARGV[5])
end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1
"""
"""Replace the record only if its version is still the one read (its lifetime kept); claim the
broker order no."""


ADOPT = """
local owner = redis.call('HGET', KEYS[3], ARGV[4])
if owner and owner ~= ARGV[3] then return -2 end
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[5]) then return 0 end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[5])
redis.call('HSET', KEYS[3], ARGV[4], ARGV[3])
redis.call('EXPIRE', KEYS[3], ARGV[5])
return 1
"""
"""Create a record found at KIS, index it and claim its KIS order number, all or nothing."""


class BrokerOrderTaken(Exception):
    """The KIS order number already belongs to another of our orders."""


Change = tuple[OrderStatus, Mapping[str, Any]]
"""A record's next status and the fields that change with it."""


class OrderBook:
    """The Redis-held order records of every session."""

    def __init__(self, client: redis.Redis, keys: Keys, clock: Clock) -> None:
        self._redis = client
        self._keys = keys
        self._clock = clock
        self._create = client.register_script(CREATE)
        self._cas = client.register_script(COMPARE_AND_SET)
        self._adopt = client.register_script(ADOPT)

    def create(self, intent: OrderIntent) -> OrderRecord | None:
        """The new pending record, or None when this intent already has one (any status)."""
        record = OrderRecord.new(intent, self._clock.now(), time.time())
        created = self._create(
            keys=[self._keys.order(record.id), self._keys.orders_of_day(intent.session)],
            args=[record.to_json(), record.touched_epoch, record.id, SESSION_RETENTION_SECONDS],
        )
        return record if created == 1 else None

    def adopt(self, record: OrderRecord) -> OrderRecord | None:
        """Store ``record``, an order found at KIS, as it is; None when its id already exists.

        Raises BrokerOrderTaken when its KIS order number already belongs to another order, and
        IllegalTransition when its status is not one a found order is stored in.
        """
        if record.status not in ADOPTED_AS:
            raise IllegalTransition(f"order {record.id}: adopted as {record.status.value}")
        session = record.intent.session
        result = self._adopt(
            keys=[
                self._keys.order(record.id),
                self._keys.orders_of_day(session),
                self._keys.broker_orders(session),
            ],
            args=[
                record.to_json(),
                record.touched_epoch,
                record.id,
                record.broker_order_no,
                SESSION_RETENTION_SECONDS,
            ],
        )
        if result == -2:
            raise BrokerOrderTaken(f"KIS order {record.broker_order_no} already has a record")
        if result != 1:
            return None
        bump_cash_generation(self._redis, self._keys)
        return record

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
        *,
        only_if: Callable[[OrderRecord], bool] | None = None,
        **changes: Any,
    ) -> OrderRecord | None:
        """Move the record from one of ``expected`` to ``new_status`` with ``changes``, atomically.

        Returns the new record, or None when the record is not in an expected status (someone
        else moved it first) or ``only_if`` refuses the record as it is now (checked again on
        every re-read). Raises IllegalTransition, before reading anything, when some expected
        status may not move to ``new_status``; BrokerOrderTaken when ``broker_order_no`` in
        ``changes`` already belongs to another order.
        """
        allowed = {expected} if isinstance(expected, OrderStatus) else set(expected)
        for status in allowed:
            check_transition(status, new_status)

        def change(current: OrderRecord) -> Change | None:
            if current.status not in allowed or (only_if is not None and not only_if(current)):
                return None
            return new_status, changes

        return self.update(order_id, change)

    def update(
        self, order_id: str, change: Callable[[OrderRecord], Change | None]
    ) -> OrderRecord | None:
        """Write what ``change`` makes of the record as stored now, by compare-and-set.

        ``change`` sees the record as read, and again after every writer that got in between;
        it returns the next status and the fields to write, or None to leave the record as it
        is (then this returns None). Raises IllegalTransition, before writing, when the change
        leaves ``shared.trading.orders.TRANSITIONS`` or takes filled shares back, and
        BrokerOrderTaken when it claims a KIS order number another order owns.
        """
        while True:
            current = self.get(order_id)
            if current is None:
                raise KeyError(f"no order {order_id}")
            step = change(current)
            if step is None:
                return None
            new_status, changes = step
            check_transition(current.status, new_status)
            updated = current.advanced(new_status, self._clock.now(), time.time(), **changes)
            claim = str(changes.get("broker_order_no", ""))
            result = self._cas(
                keys=[self._keys.order(order_id), self._keys.broker_orders(current.intent.session)],
                args=[
                    current.version,
                    updated.to_json(),
                    claim,
                    order_id,
                    SESSION_RETENTION_SECONDS,
                ],
            )
            if result == 1:
                # The cash may have moved (an order sent, answered, filled, cancelled): answers
                # read ahead are stale (docs/ARCHITECTURE.md, 'The cash read ahead').
                bump_cash_generation(self._redis, self._keys)
                return updated
            if result == -2:
                raise BrokerOrderTaken(f"KIS order {claim} already belongs to another order")
            # result 0: another writer got in between; read again and decide again.

    def broker_owner(self, session: date, broker_order_no: str) -> str | None:
        """Our order id that KIS order ``broker_order_no`` (10 digits) was matched to, if any.

        A claim written before order numbers had one spelling may be under the number without
        its zero padding; it is looked up too.
        """
        spellings = dict.fromkeys([broker_order_no, broker_order_no.lstrip("0")])
        owners = self._redis.hmget(self._keys.broker_orders(session), list(spellings))
        return next((text(owner) for owner in owners if owner), None)
