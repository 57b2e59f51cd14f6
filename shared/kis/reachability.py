"""Whether KIS answers, as every process sees it: one Redis key while it does not.

A read whose last try found no connection, a token that could not be issued, or an order POST
that could not connect writes ``kis:outage:{env}`` (``{since_epoch, detail}``; the first failure
sets ``since_epoch``, later ones the detail). The next answer KIS gives to any process deletes
it. The key is what each service's heartbeat, ``kat status``, ``/status`` and the page show,
and what the scheduler notifies once when it starts during a session and once when it ends. See
docs/ARCHITECTURE.md, 'When KIS does not answer'.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis

log = logging.getLogger(__name__)

CLEAR_EVERY_SECONDS = 5.0
"""How often a process that KIS answers deletes the key of an outage another process saw."""


@dataclass(frozen=True)
class KisOutage:
    """KIS has not answered since ``since_epoch`` (real Unix seconds); ``detail`` says how."""

    since_epoch: float
    detail: str

    @property
    def problem(self) -> str:
        """One line for health, the page and the CLI."""
        return f"KIS not answering: {self.detail}"


class KisReachability:
    """Told by the transport of each failure and each answer; keeps the shared key true."""

    def __init__(
        self, client: redis.Redis, key: str, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._redis = client
        self._key = key
        self._clock = clock
        self._failed = False
        self._cleared = float("-inf")

    def failed(self, detail: str) -> None:
        """KIS did not answer (after a read's last try, or a token's)."""
        self._failed = True
        try:
            started = self._redis.set(
                self._key, json.dumps({"since_epoch": time.time(), "detail": detail}), nx=True
            )
            if not started:
                outage = read_outage(self._redis, self._key)
                since = outage.since_epoch if outage else time.time()
                self._redis.set(self._key, json.dumps({"since_epoch": since, "detail": detail}))
        except redis.RedisError as e:
            log.debug("KIS outage not recorded: %s", e)

    def answered(self) -> None:
        """KIS answered (an error code is an answer too): end the outage, if any."""
        now = self._clock()
        if not self._failed and now - self._cleared < CLEAR_EVERY_SECONDS:
            return
        self._failed = False
        self._cleared = now
        try:
            if self._redis.delete(self._key):
                log.info("KIS answers again")
        except redis.RedisError as e:
            log.debug("KIS outage not cleared: %s", e)


def read_outage(client: redis.Redis, key: str) -> KisOutage | None:
    """The outage recorded under ``key``, or None while KIS answers (or the record is not ours)."""
    raw = client.get(key)
    if raw is None:
        return None
    try:
        data = json.loads(raw)
        return KisOutage(float(data["since_epoch"]), str(data["detail"]))
    except (ValueError, KeyError, TypeError):
        return None


def outage_health(outage: KisOutage | None) -> dict[str, object]:
    """What a heartbeat adds while KIS does not answer: unhealthy, the problem, since when."""
    if outage is None:
        return {}
    return {
        "healthy": False,
        "problem": outage.problem,
        "problem_since_epoch": outage.since_epoch,
    }
