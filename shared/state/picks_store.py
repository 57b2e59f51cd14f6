"""The session's picks in Redis: stored as a JSON list, read back under the same rules as a file.

See docs/ARCHITECTURE.md, 'Picks'. Parsing and checking live in :mod:`shared.trading.picks`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date

from redis import Redis

from shared.infra.redis_keys import SESSION_RETENTION_SECONDS, Keys
from shared.trading.picks import MISSING, Pick, PicksError, check_picks

PICKS_TTL_SECONDS = SESSION_RETENTION_SECONDS + 14 * 86_400
"""How long stored picks are kept, in real seconds from their upload: the session retention after
a session up to two weeks ahead (picks may be stored five sessions ahead, more days than that
across a long holiday; docs/ARCHITECTURE.md, 'Redis keys')."""


def store_picks(redis: Redis, keys: Keys, session: date, picks: Sequence[Pick]) -> None:
    """Keep ``picks`` as the session's (a JSON list), replacing what was stored for it."""
    checked = check_picks(((p.code, p.name, p.target) for p in picks), f"picks for {session}")
    payload = [{"code": p.code, "name": p.name, "target": p.target} for p in checked]
    redis.set(keys.picks(session), json.dumps(payload, ensure_ascii=False), ex=PICKS_TTL_SECONDS)


def stored_picks(redis: Redis, keys: Keys, session: date) -> tuple[Pick, ...] | None:
    """The session's stored picks sorted by code; None when none were stored for it."""
    key = keys.picks(session)
    raw = redis.get(key)
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except ValueError as e:
        raise PicksError(f"Redis key {key}", [f"not valid JSON: {e}"]) from None
    if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
        raise PicksError(f"Redis key {key}", ["expected a JSON list of picks"])
    rows = [(d.get("code"), d.get("name", MISSING), d.get("target", MISSING)) for d in data]
    return check_picks(rows, f"Redis key {key}")
