"""When the latest whole reconciliation of a session read KIS's executions.

See docs/ARCHITECTURE.md, 'When our state is lost'. The executor marks each whole pass (every
order of the day matched to KIS's executions, KIS's orders without a record adopted); the
scheduler, having noticed our state was lost, holds new buys until a pass that began reading
after that moment has rebuilt the day's orders.
"""

from __future__ import annotations

from datetime import date

import redis

from shared.infra.redis_keys import SESSION_RETENTION_SECONDS, Keys

MEMBER = "read"


def mark_reconciled(client: redis.Redis, keys: Keys, session: date, read_epoch: float) -> None:
    """Record a whole pass whose executions read began at ``read_epoch`` (never moves back)."""
    key = keys.reconciled(session)
    pipe = client.pipeline()
    pipe.zadd(key, {MEMBER: read_epoch}, gt=True)
    pipe.expire(key, SESSION_RETENTION_SECONDS)
    pipe.execute()


def reconciled_epoch(client: redis.Redis, keys: Keys, session: date) -> float | None:
    """When the latest whole pass of ``session`` began reading KIS, or None if none did."""
    score = client.zscore(keys.reconciled(session), MEMBER)
    return None if score is None else float(score)
