"""KIS's buyable-cash answer at a limit price, read ahead of a buy, and when it may stand in for
reading it again.

See docs/ARCHITECTURE.md, 'Realtime prices on the stream' ('The cash read ahead'). At a limit
price, ``inquire-psbl-order`` depends on that price and the account's cash only, so the
scheduler reads it while a pick nears its band, and the executor's buy uses it instead of
spending a request, when it is still valid:

- asked at the same limit price;
- no order record changed since the answer was asked for: every write of an order record
  (sent, answered, filled, cancelled, rejected, adopted) bumps a counter, the *cash generation*,
  and an answer keeps the generation read before its request;
- at most :data:`MAX_AGE_SECONDS` old (Redis's clock), for what the counter cannot see (a trade
  made outside this system).

Our own buys are the only thing here that lowers the cash, and each bumps the generation before
its POST and again when KIS answers, so an answer that may predate a buy is never valid after it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import redis

from shared.infra.redis_keys import Keys
from shared.kis.models import BuyableCash

MAX_AGE_SECONDS = 120.0
"""An answer read ahead is used for at most this long (Redis's clock), generation or not."""
KEEP_SECONDS = 3600
"""The hash of answers expires this long after its last write (answers outlive no day)."""


@dataclass(frozen=True)
class CashAhead:
    """One answer read ahead: at ``limit``, for ``code``, under ``generation``, at ``read_epoch``
    (Redis's clock, seconds)."""

    limit: int
    code: str
    generation: int
    read_epoch: float
    buyable: BuyableCash

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "buyable": asdict(self.buyable)})

    @classmethod
    def from_json(cls, raw: str | bytes) -> CashAhead:
        data = json.loads(raw)
        return cls(
            limit=int(data["limit"]),
            code=str(data["code"]),
            generation=int(data["generation"]),
            read_epoch=float(data["read_epoch"]),
            buyable=BuyableCash(**{k: int(v) for k, v in data["buyable"].items()}),
        )


def still_valid(
    ahead: CashAhead, limit: int, generation: int, now_epoch: float, max_age: float
) -> bool:
    """Whether ``ahead`` may stand in for asking KIS at ``limit`` now (see the module doc)."""
    age = now_epoch - ahead.read_epoch
    return ahead.limit == limit and ahead.generation == generation and 0 <= age <= max_age


def bump_cash_generation(client: redis.Redis, keys: Keys) -> None:
    """Say that the cash may have changed: every answer read ahead so far is stale."""
    client.incr(keys.cash_generation())


def cash_generation(client: redis.Redis, keys: Keys) -> int:
    """The current cash generation (0 before any order record changed)."""
    return int(client.get(keys.cash_generation()) or 0)


def redis_epoch(client: redis.Redis) -> float:
    """Redis's clock, in seconds: the one every process shares."""
    seconds, micros = client.time()
    return seconds + micros / 1_000_000


def keep(client: redis.Redis, keys: Keys, ahead: CashAhead) -> None:
    """Store an answer read ahead, replacing the one at its limit price."""
    pipe = client.pipeline()
    pipe.hset(keys.cash_ahead(), str(ahead.limit), ahead.to_json())
    pipe.expire(keys.cash_ahead(), KEEP_SECONDS)
    pipe.execute()


def valid_ahead(
    client: redis.Redis, keys: Keys, limit: int, max_age: float = MAX_AGE_SECONDS
) -> CashAhead | None:
    """The answer read ahead at ``limit`` when it is still valid now, else None."""
    raw = client.hget(keys.cash_ahead(), str(limit))
    if raw is None:
        return None
    try:
        ahead = CashAhead.from_json(raw)
    except (ValueError, TypeError, KeyError):
        return None
    generation = cash_generation(client, keys)
    return ahead if still_valid(ahead, limit, generation, redis_epoch(client), max_age) else None
