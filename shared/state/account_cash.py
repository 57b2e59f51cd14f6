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
    """Orderable cash in won, and when KIS said so (system clock)."""

    won: int
    read_kst: datetime


def remember_orderable_cash(client: redis.Redis, keys: Keys, won: int, read_kst: datetime) -> None:
    """Keep KIS's latest orderable-cash answer; never raises into trading code."""
    try:
        payload = {"won": won, "read_kst": read_kst.isoformat()}
        client.set(keys.orderable_cash(), json.dumps(payload))
    except redis.RedisError:
        return


def orderable_cash(client: redis.Redis, keys: Keys) -> OrderableCash | None:
    """The latest orderable cash KIS answered, or None when none is kept (or it is unreadable)."""
    raw = client.get(keys.orderable_cash())
    if raw is None:
        return None
    try:
        data = json.loads(raw)
        # ``at``: the name before timestamps named their clock (the value outlives an upgrade).
        read_kst = data["read_kst"] if "read_kst" in data else data["at"]
        return OrderableCash(int(data["won"]), datetime.fromisoformat(read_kst))
    except (ValueError, TypeError, KeyError):
        return None
