"""Money limits: the most a buy may cost, orders a day, open positions, and the day's loss.

See docs/ARCHITECTURE.md, 'Money limits'. The values live in Redis (seeded once from settings,
changed with ``kat limits`` or ``PUT /control/limits``) so every process reads the same ones
and a restart keeps them. The executor asks :class:`LimitGuard` right before every POST:

* a buy costing more than ``max_order_krw`` at its price is *reduced* to the shares that fit
  (refused when not one share fits);
* ``max_orders_per_day`` and ``max_open_positions`` are taken by one Lua script, so two jobs
  running at once cannot both take the last slot; a slot is given back when the POST is known
  not to have happened;
* a day's loss (the first equity point of the session against the latest balance) reaching
  ``daily_loss_limit_krw`` stops new entries for the session.

Sells are never refused by a money limit (they close positions); they only count as orders,
and one sell per position and session is sent at a time (the same script).
A limit that trips is notified once per session (:class:`shared.messaging.events.LimitTripped`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, fields
from datetime import date
from typing import Any

import redis

from shared.infra.redis_keys import SESSION_RETENTION_SECONDS, Keys, text
from shared.infra.settings import MONEY_LIMIT_MAX_KRW, Settings
from shared.kis.models import Side
from shared.messaging.events import LimitTripped, notify
from shared.state.control import entries_stopped, stop_entries
from shared.state.once import OnceMarks
from shared.trading.orders import OrderRecord

log = logging.getLogger(__name__)

MAX_ORDER_KRW = "max_order_krw"
MAX_ORDERS_PER_DAY = "max_orders_per_day"
MAX_OPEN_POSITIONS = "max_open_positions"
DAILY_LOSS_LIMIT_KRW = "daily_loss_limit_krw"
SELL_LIVE = "sell_live"
"""The script's answer when another sell of the same position is already being sent."""
OK = "ok"

UPPER_BOUNDS = {
    MAX_ORDER_KRW: MONEY_LIMIT_MAX_KRW,
    MAX_ORDERS_PER_DAY: 10_000,
    MAX_OPEN_POSITIONS: 1_000,
    DAILY_LOSS_LIMIT_KRW: MONEY_LIMIT_MAX_KRW,
}
"""The largest value each limit accepts; the smallest is 1 (a limit is never off)."""

RESERVE = """
local id, side, code = ARGV[1], ARGV[2], ARGV[3]
local function record(oid)
  local raw = redis.call('GET', ARGV[6] .. oid)
  if not raw then return nil end
  return cjson.decode(raw)
end
local function alive(oid)
  local r = record(oid)
  return r ~= nil and r['status'] ~= 'rejected' and r['status'] ~= 'cancelled'
end
local function may_open(oid)
  local r = record(oid)
  if r == nil then return false end
  local s = r['status']
  if s == 'rejected' or s == 'cancelled' or s == 'filled' then
    return tonumber(r['filled_quantity']) > tonumber(r['applied_quantity'])
  end
  return true
end
if side == 'sell' then
  local holder = redis.call('HGET', KEYS[4], code)
  if holder and holder ~= id and alive(holder) then return 'sell_live' end
  redis.call('HSET', KEYS[4], code, id)
  redis.call('EXPIRE', KEYS[4], ARGV[7])
  redis.call('SADD', KEYS[1], id)
  redis.call('EXPIRE', KEYS[1], ARGV[7])
  return 'ok'
end
if redis.call('SISMEMBER', KEYS[1], id) == 1 then return 'ok' end
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 'max_orders_per_day' end
if redis.call('HEXISTS', KEYS[3], code) == 0 then
  local opening, count = {}, 0
  local entries = redis.call('HGETALL', KEYS[2])
  for i = 1, #entries, 2 do
    local oid, c = entries[i], entries[i + 1]
    if redis.call('HEXISTS', KEYS[3], c) == 1 or not may_open(oid) then
      redis.call('HDEL', KEYS[2], oid)
    elseif c ~= code and not opening[c] then
      opening[c] = true
      count = count + 1
    end
  end
  if redis.call('HLEN', KEYS[3]) + count >= tonumber(ARGV[5]) then
    return 'max_open_positions'
  end
  redis.call('HSET', KEYS[2], id, code)
end
redis.call('SADD', KEYS[1], id)
redis.call('EXPIRE', KEYS[1], ARGV[7])
return 'ok'
"""
"""Take the order's slots (day count, a new position, the position's one sell) or say which
limit is full, all in one step. Order records are read by name (a single Redis, no cluster)."""

RELEASE = """
redis.call('SREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
if redis.call('HGET', KEYS[3], ARGV[2]) == ARGV[1] then redis.call('HDEL', KEYS[3], ARGV[2]) end
return 1
"""
"""Give back what :data:`RESERVE` took for one order (its POST did not happen)."""


class LimitError(ValueError):
    """A limit value that is not a whole number in its range; the message names it."""


@dataclass(frozen=True)
class MoneyLimits:
    """The four limits, in won and counts."""

    max_order_krw: int
    max_orders_per_day: int
    max_open_positions: int
    daily_loss_limit_krw: int

    @classmethod
    def from_settings(cls, settings: Settings) -> MoneyLimits:
        return cls(**{f.name: int(getattr(settings, f.name)) for f in fields(cls)})

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


LIMIT_NAMES = tuple(f.name for f in fields(MoneyLimits))
"""Every limit's name, as settings, Redis, the CLI and the API spell it."""


def validated(name: str, value: object) -> int:
    """``value`` as a limit's whole number; LimitError naming ``name`` when it is not one."""
    if name not in UPPER_BOUNDS:
        raise LimitError(f"unknown limit {name!r} (known: {', '.join(LIMIT_NAMES)})")
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        number = int(value.strip())
    upper = UPPER_BOUNDS[name]
    if number is None or not 1 <= number <= upper:
        raise LimitError(f"{name} must be a whole number from 1 to {upper}, got {value!r}")
    return number


class LimitStore:
    """The limits in Redis: seeded from ``initial`` once, then only changed on request."""

    def __init__(self, client: redis.Redis, keys: Keys, initial: MoneyLimits) -> None:
        self._redis = client
        self._keys = keys
        self._initial = initial

    def current(self) -> MoneyLimits:
        """The limits in force (stored ones win over the settings' first values)."""
        pipe = self._redis.pipeline(transaction=False)
        for name, value in self._initial.as_dict().items():
            pipe.hsetnx(self._keys.limits(), name, value)
        pipe.hgetall(self._keys.limits())
        stored = {text(k): text(v) for k, v in pipe.execute()[-1].items()}
        values = {}
        for name in LIMIT_NAMES:
            try:
                values[name] = validated(name, stored.get(name, ""))
            except LimitError:
                log.error(
                    "stored limit %s=%r is invalid: using the setting", name, stored.get(name)
                )
                values[name] = getattr(self._initial, name)
        return MoneyLimits(**values)

    def change(self, changes: dict[str, object]) -> MoneyLimits:
        """Store ``changes`` (all checked first: one bad value changes nothing); the limits now."""
        checked = {name: validated(name, value) for name, value in changes.items()}
        self.current()
        pipe = self._redis.pipeline(transaction=True)
        for name, value in checked.items():
            pipe.hset(self._keys.limits(), name, value)
        pipe.execute()
        return self.current()


# Pure decisions ----------------------------------------------------------------------------------
def order_price(record: OrderRecord) -> int:
    """The price a buy is weighed at: its limit, else (market) the price it was decided on."""
    return record.intent.limit_price or record.intent.price_seen


def capped_quantity(quantity: int, price: int, max_order_krw: int) -> int:
    """The most of ``quantity`` shares at ``price`` won that cost at most ``max_order_krw``."""
    if price <= 0:
        return quantity
    return min(quantity, max_order_krw // price)


def day_loss(start_value: int, current_value: int) -> int:
    """Won lost since the session's first valuation (negative: a gain)."""
    return start_value - current_value


def loss_tripped(start_value: int | None, current_value: int | None, limit: int) -> bool:
    """Whether the day's loss has reached ``limit``; False when either valuation is unknown."""
    if start_value is None or current_value is None:
        return False
    return day_loss(start_value, current_value) >= limit


# Redis reads -------------------------------------------------------------------------------------
def day_values(client: redis.Redis, keys: Keys, session: date) -> tuple[int | None, int | None]:
    """The session's first total value (equity line) and its latest one (balance snapshot)."""
    first: int | None = None
    for member in client.zrange(keys.equity(session), 0, 0):
        try:
            first = int(json.loads(text(member))["value"])
        except (ValueError, KeyError, TypeError):
            first = None
    latest: int | None = None
    raw = client.get(keys.account_snapshot())
    if raw is not None:
        try:
            snapshot = json.loads(raw)
            if snapshot.get("session") == session.isoformat():
                latest = int(snapshot["total_value"])
        except (ValueError, KeyError, TypeError):
            latest = None
    return first, latest


def trip_once(
    marks: OnceMarks,
    client: redis.Redis,
    keys: Keys,
    session: date,
    limit: str,
    value: int,
    why: str,
) -> bool:
    """Notify that ``limit`` tripped, the first time on ``session`` only (a wiped Redis
    included: :mod:`shared.state.once`); True when notified."""
    if not marks.first(f"limit-{limit}", session):
        return False
    log.warning("money limit %s=%d tripped on %s: %s", limit, value, session, why)
    notify(client, LimitTripped(session=session, limit=limit, value=value, message=why), keys)
    return True


def check_daily_loss(
    client: redis.Redis, keys: Keys, session: date, limits: MoneyLimits, marks: OnceMarks
) -> str | None:
    """Stop entries when the day's loss reached its limit; why they are stopped, or None."""
    first, latest = day_values(client, keys, session)
    if not loss_tripped(first, latest, limits.daily_loss_limit_krw):
        return None
    assert first is not None and latest is not None
    why = (
        f"the day's loss {day_loss(first, latest):,} won reached the limit of "
        f"{limits.daily_loss_limit_krw:,} won: no new entries today"
    )
    stop_entries(client, keys, session, why)
    trip_once(marks, client, keys, session, DAILY_LOSS_LIMIT_KRW, limits.daily_loss_limit_krw, why)
    return why


def usage(client: redis.Redis, keys: Keys, session: date, limits: MoneyLimits) -> dict[str, Any]:
    """The limits with what is used of them on ``session`` (the status, ``kat limits``)."""
    first, latest = day_values(client, keys, session)
    return {
        **limits.as_dict(),
        "orders_today": int(client.scard(keys.limit_orders(session))),
        "open_positions": int(client.hlen(keys.positions())),
        "day_loss": None if first is None or latest is None else day_loss(first, latest),
        "entries_stopped": entries_stopped(client, keys, session),
    }


# The executor's check ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Decision:
    """What the limits allow of one order: its shares, or why it may not be sent."""

    quantity: int
    refusal: str = ""


class LimitGuard:
    """The money limits as the executor applies them to one order right before its POST."""

    def __init__(
        self, client: redis.Redis, keys: Keys, store: LimitStore, marks: OnceMarks
    ) -> None:
        self._redis = client
        self._keys = keys
        self._store = store
        self._marks = marks
        self._reserve = client.register_script(RESERVE)
        self._release = client.register_script(RELEASE)

    def shares(self, record: OrderRecord) -> Decision:
        """The shares a buy may ask for (stopped entries, the loss, the price cap); a sell: all."""
        intent = record.intent
        if intent.side is Side.SELL:
            return Decision(intent.quantity)
        stopped = entries_stopped(self._redis, self._keys, intent.session)
        limits = self._store.current()
        stopped = stopped or check_daily_loss(
            self._redis, self._keys, intent.session, limits, self._marks
        )
        if stopped is not None:
            return Decision(0, f"new entries are stopped: {stopped}")
        price = order_price(record)
        quantity = capped_quantity(intent.quantity, price, limits.max_order_krw)
        if quantity < intent.quantity:
            why = (
                f"{intent.quantity} shares at {price:,} won exceed the {limits.max_order_krw:,} "
                f"won per order: {'refused' if quantity <= 0 else f'reduced to {quantity}'}"
            )
            log.warning("order %s: %s", record.id, why)
            trip_once(
                self._marks,
                self._redis,
                self._keys,
                intent.session,
                MAX_ORDER_KRW,
                limits.max_order_krw,
                why,
            )
            if quantity <= 0:
                return Decision(0, why)
        return Decision(quantity)

    def reserve(self, record: OrderRecord) -> str:
        """Take the order's slots; "" when taken, else why it may not be sent (notified once)."""
        intent = record.intent
        limits = self._store.current()
        verdict = text(
            self._reserve(
                keys=self._slot_keys(intent.session),
                args=[
                    record.id,
                    intent.side.label,
                    intent.code,
                    limits.max_orders_per_day,
                    limits.max_open_positions,
                    self._keys.order(""),
                    SESSION_RETENTION_SECONDS,
                ],
            )
        )
        if verdict == OK:
            return ""
        if verdict == SELL_LIVE:
            return f"another sell of {intent.code} is already being sent today"
        value = getattr(limits, verdict)
        why = f"the limit {verdict}={value} is reached: buy {record.id} not sent"
        trip_once(self._marks, self._redis, self._keys, intent.session, verdict, value, why)
        return why

    def release(self, record: OrderRecord) -> None:
        """Give back the order's slots: its POST is known not to have happened."""
        session = record.intent.session
        keys = [self._keys.limit_orders(session), self._keys.limit_opening()]
        self._release(
            keys=[*keys, self._keys.limit_selling(session)], args=[record.id, record.intent.code]
        )

    def _slot_keys(self, session: date) -> list[str]:
        return [
            self._keys.limit_orders(session),
            self._keys.limit_opening(),
            self._keys.positions(),
            self._keys.limit_selling(session),
        ]
