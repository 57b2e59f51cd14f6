"""One KIS rate limiter per app key, shared by every process through Redis.

A sliding-window log: at most ``limit`` slots granted in any window of ``window`` seconds, the
strictest reading of KIS's "N per second". Time is Redis's own ``TIME``, so processes on
different clocks agree. Callers wait for a slot rather than fail.

A slot is dated twice (docs/ARCHITECTURE.md, 'Rate limits'): when it is granted, and again when
the request's answer is back (:meth:`RateLimiter.slot`). KIS received the request before it
answered, so the next request to reuse that slot leaves at least a window after KIS counted this
one, however late the request left: a process that loses its core right after taking a slot (a
busy machine) no longer lets the next one in early. The margin only covers a request still
unanswered when its slot comes round again.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import redis

log = logging.getLogger(__name__)

ACQUIRE_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1000)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local wait = tonumber(oldest[2]) + window - now
if string.sub(oldest[1], 1, 2) ~= 'a:' then
  wait = wait + tonumber(redis.call('GET', KEYS[2]) or '0')
end
return wait
"""
"""Grant a slot (returns 0) or say how many microseconds until the oldest slot leaves the window:
for a slot whose answer is not back yet (its member lacks the ``a:`` of an answered one), plus the
last grant-to-answer time, as it will be dated again by then."""

ANSWERED_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local granted = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], now, 'a:' .. ARGV[1])
redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2]) / 1000) + 1000)
if granted then
  redis.call('SET', KEYS[2], math.floor(now - tonumber(granted)), 'PX', 3600000)
end
return 0
"""
"""Date a slot again at the moment its answer is back, marked answered (``a:``), even if it had
already left the window; remember how long the answer took."""


@dataclass(frozen=True)
class Window:
    """``limit`` requests per ``seconds``, derived from a rate in requests per second."""

    limit: int
    seconds: float

    @classmethod
    def for_rate(cls, per_second: float, margin_seconds: float = 0.0) -> Window:
        """Whole slots per window; a rate under 1/s becomes one slot per ``1/rate`` seconds.

        ``margin_seconds`` widens the window to absorb the jitter between taking a slot here
        and the request arriving at KIS.
        """
        if per_second <= 0:
            raise ValueError("rate must be positive")
        limit = max(1, math.floor(per_second))
        return cls(limit=limit, seconds=limit / per_second + margin_seconds)


class RateLimiter:
    """``acquire()`` blocks until this process may send one request under the shared window."""

    def __init__(
        self,
        client: redis.Redis,
        window_key: str,
        waits_key: str,
        window: Window,
        *,
        answer_key: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._redis = client
        self._key = window_key
        self._waits_key = waits_key
        self._answer_key = answer_key or f"{window_key}:answer"
        self.window = window
        self._sleep = sleep
        self._script = client.register_script(ACQUIRE_SCRIPT)
        self._answered_script = client.register_script(ANSWERED_SCRIPT)
        self._ids = itertools.count()
        self._owner = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"

    def try_acquire(self) -> float:
        """Take a slot now and return 0, or return the seconds to wait before trying again."""
        return self._try(f"{self._owner}-{next(self._ids)}")

    def _try(self, member: str) -> float:
        wait_us = int(
            self._script(
                keys=[self._key, self._answer_key],
                args=[self.window.limit, self._window_us, member],
            )
        )
        return max(wait_us, 0) / 1_000_000

    @property
    def _window_us(self) -> int:
        return int(self.window.seconds * 1_000_000)

    @contextmanager
    def slot(self, timeout: float = 120.0) -> Iterator[None]:
        """Wait for a slot, send the request in the block; the slot is dated again when the
        block ends (the answer is back, or the request failed)."""
        member = self._acquire(timeout)
        try:
            yield
        finally:
            self._answered(member)

    def _answered(self, member: str) -> None:
        try:
            self._answered_script(
                keys=[self._key, self._answer_key], args=[member, self._window_us]
            )
        except redis.RedisError as e:
            # The slot keeps its grant time: the margin is then all that protects the next one.
            log.warning("rate-limit slot not dated at its answer: %s", e)

    def acquire(self, timeout: float = 120.0) -> float:
        """Wait for a slot; return the seconds waited. TimeoutError after ``timeout`` seconds."""
        started = time.monotonic()
        self._acquire(timeout)
        return time.monotonic() - started

    def _acquire(self, timeout: float) -> str:
        """Wait for a slot; its member name in the window."""
        started = time.monotonic()
        waited = False
        member = f"{self._owner}-{next(self._ids)}"
        while True:
            wait = self._try(member)
            if wait == 0:
                return member
            if not waited:
                waited = True
                self._redis.incr(self._waits_key)
            if time.monotonic() - started + wait > timeout:
                raise TimeoutError(f"no KIS rate-limit slot within {timeout:.0f}s")
            # A whole millisecond more so we wake after the slot left the window, not just before.
            self._sleep(wait + 0.001)
