"""The outbox: formatted messages in a Redis list, sent head first and removed only once delivered.

Jobs append; one sender (the holder of a Redis lock, whatever the number of notifiers) posts the
head until Discord accepts it. A Discord outage or a notifier restart therefore leaves the list
as it was, and delivery resumes where it stopped, in order.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import redis

from services.notifier.delivery import Answer, Outcome, Webhook
from services.notifier.limits import Payload
from shared.control import LeaderLock
from shared.redis_keys import Keys

log = logging.getLogger(__name__)

LOCK_SECONDS = 20.0
"""Sender lock lifetime: longer than one POST can take (3 s connect + 10 s read)."""
IDLE_SECONDS = 0.5
"""How often an empty outbox is looked at (a job in this process wakes the sender at once)."""
BACKOFF_BASE_SECONDS = 0.25
"""First wait after Discord failed; doubled after each further failure."""
BACKOFF_MAX_SECONDS = 15.0
"""Longest wait between two attempts while Discord is down."""
REDIS_RETRY_SECONDS = 1.0
"""Wait after a Redis error before looking at the outbox again."""
FAILURE_LOG_EVERY = 20
"""While Discord stays down, log one failure in this many."""

POP_IF_HEAD = """
if redis.call('LINDEX', KEYS[1], 0) == ARGV[1] then
  redis.call('LPOP', KEYS[1])
  return 1
end
return 0
"""


class Outbox:
    """The Redis list of payloads (JSON) waiting for Discord, oldest first."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self._redis = client
        self.key = keys.outbox()
        self._pop_if_head = client.register_script(POP_IF_HEAD)

    def push(self, payloads: Sequence[Payload]) -> None:
        """Append the messages of one event together (one RPUSH: no other event between them)."""
        if payloads:
            self._redis.rpush(self.key, *(json.dumps(p, ensure_ascii=False) for p in payloads))

    def head(self) -> bytes | None:
        raw: bytes | None = self._redis.lindex(self.key, 0)  # type: ignore[assignment]
        return raw

    def remove_head(self, raw: bytes) -> bool:
        """Drop the head if it is still ``raw``; False if someone else already did."""
        return bool(self._pop_if_head(keys=[self.key], args=[raw]) == 1)

    def size(self) -> int:
        return int(self._redis.llen(self.key))


class Sender:
    """Delivers the outbox in order: the head again and again until Discord takes it."""

    def __init__(
        self,
        outbox: Outbox,
        webhook: Webhook,
        lock: LeaderLock,
        stop: threading.Event,
        wake: threading.Event,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._outbox = outbox
        self._webhook = webhook
        self._lock = lock
        self._stop = stop
        self._wake = wake
        self._clock = clock
        self._not_before = 0.0
        self._failures = 0
        self.sent = 0

    def run(self, burst: bool = False) -> None:
        """Deliver until stopped; in ``burst``, until the outbox is empty or Discord fails."""
        try:
            while not self._stop.is_set():
                try:
                    if not self.step(burst):
                        return
                except redis.RedisError as e:
                    log.warning("outbox unreachable (%s); trying again", e)
                    self._pause(REDIS_RETRY_SECONDS)
                except Exception:
                    # The sender must outlive any bug in one message: log it and carry on.
                    log.exception("sender error; trying again")
                    self._pause(REDIS_RETRY_SECONDS)
        finally:
            try:
                self._lock.release()
            except redis.RedisError as e:
                log.warning("sender lock not released: %s", e)

    def step(self, burst: bool = False) -> bool:
        """Send the head once (or idle); False when a burst run is over."""
        if not self._lock.acquire_or_refresh():
            # Another notifier sends; stay ready to take over when its lock lapses.
            self._pause(IDLE_SECONDS)
            return not burst
        raw = self._outbox.head()
        if raw is None:
            if burst:
                return False
            self._wake.wait(IDLE_SECONDS)
            self._wake.clear()
            return True
        if not self._pause(self._not_before - self._clock()):
            return True
        try:
            payload: Any = json.loads(raw)
        except ValueError:
            log.error("dropping an outbox entry that is not JSON (%d bytes)", len(raw))
            self._outbox.remove_head(raw)
            return True
        answer = self._webhook.post(payload)
        self._not_before = self._clock() + answer.wait
        return self._handle(raw, payload, answer, burst)

    def _handle(self, raw: bytes, payload: Any, answer: Answer, burst: bool) -> bool:
        if answer.outcome is Outcome.SENT:
            if self._failures:
                log.info("Discord reachable again after %d failed attempts", self._failures)
            self._failures = 0
            self._outbox.remove_head(raw)
            self.sent += 1
            log.debug("delivered %s", _summary(payload))
            return True
        if answer.outcome is Outcome.LIMITED:
            log.info("Discord rate limit: waiting %.2fs (%s)", answer.wait, answer.detail)
            return True
        if answer.outcome is Outcome.REJECTED:
            # Sending it again would fail the same way and hold up every later message.
            log.error(
                "Discord refused a message, dropped (%s): %s", answer.detail, _summary(payload)
            )
            self._outbox.remove_head(raw)
            return True
        self._failures += 1
        delay = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (self._failures - 1))
        self._not_before = self._clock() + max(delay, answer.wait)
        if self._failures == 1 or self._failures % FAILURE_LOG_EVERY == 0:
            log.warning(
                "Discord unavailable (%s, attempt %d); %d messages wait, next try in %.2fs",
                answer.detail,
                self._failures,
                self._outbox.size(),
                max(delay, answer.wait),
            )
        return not burst

    def _pause(self, seconds: float) -> bool:
        """Wait, keeping the lock; False if told to stop meanwhile."""
        deadline = self._clock() + seconds
        while (left := deadline - self._clock()) > 0:
            if self._stop.wait(min(left, 1.0)):
                return False
            self._lock.acquire_or_refresh()
        return not self._stop.is_set()


def _summary(payload: Any) -> str:
    """A dropped message's first words, for the log (already scrubbed)."""
    if not isinstance(payload, dict):
        return repr(payload)[:200]
    embeds = payload.get("embeds") or [{}]
    title = embeds[0].get("title", "") if isinstance(embeds[0], dict) else ""
    return f"{str(payload.get('content') or '')[:200]!r} / {str(title)[:100]!r}"
