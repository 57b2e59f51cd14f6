"""The account as the scheduler last read it, for the status API: a snapshot and an equity line.

Written from the balance each cycle reads anyway, so it costs no KIS call. Its times are on the
system clock (``*_kst``: simulated in sim runs); an equity point's score is real Unix time.
"""

from __future__ import annotations

import json
import time
from datetime import date, datetime

import redis

from shared.infra.redis_keys import SESSION_RETENTION_SECONDS, Keys
from shared.kis.models import Balance

EQUITY_STEP_SECONDS = 60.0
"""At most one equity point per this many clock seconds (a day is then ~400 points)."""


def snapshot_json(read_kst: datetime, session: date, balance: Balance) -> str:
    """The ``account_snapshot`` value: cash figures, totals, every holding (no account number)."""
    summary = balance.summary
    return json.dumps(
        {
            "read_kst": read_kst.isoformat(timespec="seconds"),
            "session": session.isoformat(),
            # dnca_tot_amt is the settled deposit: it does not move on the day of a trade.
            "deposit": summary.deposit,
            "cash_d2": summary.settlement_cash,
            "total_value": summary.total_value,
            "securities_value": summary.securities_value,
            "profit_total": summary.profit_total,
            "holdings": [
                {
                    "code": h.code,
                    "name": h.name,
                    "quantity": h.quantity,
                    "average_price": str(h.average_price),
                    "price": h.current_price,
                    "profit_rate": str(h.profit_rate),
                    "profit": h.profit_amount,
                }
                for h in balance.held().values()
            ],
        },
        ensure_ascii=False,
    )


class AccountRecorder:
    """Keeps the last balance and a thinned equity line of each session in Redis."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self._redis = client
        self._keys = keys
        self._last_point: datetime | None = None

    def record(self, now: datetime, session: date, balance: Balance) -> None:
        pipe = self._redis.pipeline(transaction=False)
        pipe.set(self._keys.account_snapshot(), snapshot_json(now, session, balance))
        if (
            self._last_point is None
            or (now - self._last_point).total_seconds() >= EQUITY_STEP_SECONDS
        ):
            self._last_point = now
            point = json.dumps(
                {
                    "valued_kst": now.isoformat(timespec="seconds"),
                    "value": balance.summary.total_value,
                }
            )
            pipe.zadd(self._keys.equity(session), {point: time.time()})
            pipe.expire(self._keys.equity(session), SESSION_RETENTION_SECONDS)
        pipe.execute()
