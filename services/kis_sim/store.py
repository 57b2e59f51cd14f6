"""Where the accounts live between restarts: Redis under the simulator's own key prefix.

Keys (prefix ``SIM_REDIS_PREFIX``, default ``kis_sim:``): ``<prefix>account:<12345678-01>``
holds one account as JSON (cash, pending settlements, holdings), ``<prefix>orders:<account>``
a hash of its orders (order number → JSON with the fills), ``<prefix>accounts`` the set of
account numbers, ``<prefix>last_odno`` the last order number.
``SIM_STORE=memory`` keeps everything in the process instead (lost on restart). With
``SIM_STORE=redis`` (the default) an unreachable Redis at start is fatal: the simulator refuses
to start rather than silently forget a user's account (module README, "Persistence").
"""

from __future__ import annotations

import json
import logging
from typing import Protocol

import redis

from services.kis_sim.codec import dump_account, dump_order, load_account, load_order
from shared.broker.accounts import Account
from shared.broker.ledger import Changes

logger = logging.getLogger(__name__)


class StoreError(Exception):
    """The store cannot be read or written; the message says why."""


class AccountStore(Protocol):
    """Loads every account at start, saves changed ones, forgets them on reset."""

    def load(self) -> tuple[list[Account], int]:
        """Every stored account and the last order number handed out."""

    def save(self, accounts: list[Account], changes: Changes, last_odno: int) -> bool:
        """Write what ``changes`` names (``accounts`` are all of them) and the order counter;
        False when that failed (the caller keeps the changes for the next save)."""

    def clear(self) -> None:
        """Forget every stored account."""


class MemoryStore:
    """No persistence: the ledger in memory is all there is."""

    def load(self) -> tuple[list[Account], int]:
        """Nothing stored."""
        return [], 0

    def save(self, accounts: list[Account], changes: Changes, last_odno: int) -> bool:
        """Nothing to do."""
        return True

    def clear(self) -> None:
        """Nothing to do."""


class RedisStore:
    """Accounts as JSON strings in Redis."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix

    def _account_key(self, number: str) -> str:
        return f"{self._prefix}account:{number}"

    def _orders_key(self, number: str) -> str:
        return f"{self._prefix}orders:{number}"

    @property
    def _index_key(self) -> str:
        return f"{self._prefix}accounts"

    @property
    def _odno_key(self) -> str:
        return f"{self._prefix}last_odno"

    def check(self) -> None:
        """StoreError unless Redis answers."""
        try:
            self._redis.ping()
        except redis.RedisError as e:
            raise StoreError(f"Redis does not answer: {e}") from None

    def load(self) -> tuple[list[Account], int]:
        """Every stored account (StoreError if one cannot be read back)."""
        try:
            numbers = sorted(n.decode() for n in self._redis.smembers(self._index_key))  # type: ignore[union-attr]
            raw_odno = self._redis.get(self._odno_key)
            accounts = []
            for number in numbers:
                raw = self._redis.get(self._account_key(number))
                if raw is not None:
                    stored = self._redis.hvals(self._orders_key(number))
                    orders = [load_order(json.loads(o)) for o in stored]
                    accounts.append(load_account(json.loads(raw), orders))
        except redis.RedisError as e:
            raise StoreError(f"cannot read the accounts from Redis: {e}") from None
        except (KeyError, ValueError, TypeError) as e:
            raise StoreError(
                f"a stored account under {self._prefix!r} is unreadable ({e!r}); "
                "reset it with `python -m services.kis_sim reset`"
            ) from None
        return accounts, int(raw_odno) if raw_odno else 0

    def save(self, accounts: list[Account], changes: Changes, last_odno: int) -> bool:
        """Write the changes in one transaction; a Redis failure is logged and answered
        False (the memory state goes on)."""
        by_number = {a.number: a for a in accounts}
        try:
            with self._redis.pipeline(transaction=True) as pipe:
                for number in sorted(changes.replaced):
                    pipe.delete(self._orders_key(number))
                for number in sorted(changes.accounts):
                    account = by_number[number]
                    pipe.set(self._account_key(number), json.dumps(dump_account(account)))
                    pipe.sadd(self._index_key, number)
                for odno, order in sorted(changes.orders.items()):
                    pipe.hset(self._orders_key(order.account), odno, json.dumps(dump_order(order)))
                pipe.set(self._odno_key, last_odno)
                pipe.execute()
        except redis.RedisError as e:
            logger.error("could not save %d account(s) to Redis: %s", len(changes.accounts), e)
            return False
        return True

    def clear(self) -> None:
        """Delete every key under the prefix."""
        try:
            keys = list(self._redis.scan_iter(match=f"{self._prefix}*", count=500))
            if keys:
                self._redis.delete(*keys)
        except redis.RedisError as e:
            logger.error("could not clear the stored accounts in Redis: %s", e)
