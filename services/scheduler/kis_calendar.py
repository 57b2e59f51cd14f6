"""The once-a-day cross-check of the KRX calendar against KIS's own (chk-holiday, real mode only).

KIS asks for about one holiday call a day, so the answer is remembered in Redis for the day. When
KIS says the market does not open on a day our calendar calls a session, the day is not traded:
an order refused for the market being closed costs nothing, one sent on a day we got wrong could.
"""

from __future__ import annotations

import logging
from datetime import date

import redis

from services.scheduler.metering import KisReader
from shared.infra.redis_keys import Keys, text
from shared.kis.errors import KisError

log = logging.getLogger(__name__)

ANSWER_TTL_SECONDS = 3 * 86_400
"""How long KIS's answer for a day is kept (longer than the day it is about)."""


def kis_opens(kis: KisReader, client: redis.Redis, keys: Keys, day: date) -> bool | None:
    """KIS's word on whether ``day`` takes orders (``opnd_yn``), or None when KIS cannot say now.

    Asked once a day: the answer is kept under ``keys.once("kis-calendar", day)``. A failed call
    is not remembered, so the next cycle asks again.
    """
    key = keys.once("kis-calendar", day)
    cached = client.get(key)
    if cached is not None:
        return text(cached) == "open"
    try:
        days = kis.market_days(day)
    except KisError as e:
        log.warning("KIS holiday check for %s failed (%s); the calendar stands", day, e)
        return None
    answer: bool | None = next((d.market_open for d in days if d.day == day), None)
    if answer is None:
        log.warning("KIS holiday check did not mention %s; the calendar stands", day)
        return None
    client.set(key, "open" if answer else "closed", ex=ANSWER_TTL_SECONDS)
    return answer
