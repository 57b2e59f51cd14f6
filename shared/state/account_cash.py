"""The account's orderable cash as KIS last told it (``inquire-psbl-order``), for the status API.

See docs/ARCHITECTURE.md, 'Settlement (D+2)'. The balance's ``dnca_tot_amt`` is the settled
deposit and does not move on the day of a trade; what the account can buy with is
``ord_psbl_cash``, which only ``inquire-psbl-order`` answers. The planner (pre-market), the
executor (before every buy) and the post-market run read it anyway: each keeps its answer here,
so showing it costs no KIS request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import redis

from shared.infra.redis_keys import Keys


@dataclass(frozen=True)
class OrderableCash:
    """Orderable cash in won, and when (system clock) KIS said so."""

    won: int
    at: datetime


def remember_orderable_cash(client: redis.Redis, keys: Keys, won: int, at: datetime) -> None:
    """Keep KIS's latest orderable-cash answer; never raises into trading code."""
    try:
        client.set(keys.orderable_cash(), json.dumps({"won": won, "at": at.isoformat()}))
    except redis.RedisError:
        return


def orderable_cash(client: redis.Redis, keys: Keys) -> OrderableCash | None:
    """The latest orderable cash KIS answered, or None when none is kept (or it is unreadable)."""
    raw = client.get(keys.orderable_cash())
    if raw is None:
        return None
    try:
        data = json.loads(raw)
        return OrderableCash(int(data["won"]), datetime.fromisoformat(data["at"]))
    except (ValueError, TypeError, KeyError):
        return None
