"""The outbox: formatted messages in a Redis list, posted head first, each at most once.

One sender (the holder of a Redis lock, whatever the number of notifiers) takes events off the
event list into the outbox (``intake.py``) and posts the outbox head. Before each POST the head
is marked in flight (``{prefix}notify:sending``); after Discord's answer it leaves the outbox:

- accepted, or refused for good (a 4xx other than 429, 401 and 404): removed;
- 404 ``Unknown Webhook`` or 401 (the webhook was deleted, or its token is wrong): kept, with
  every later message; said once in the log and in the heartbeat (health, the status page) with
  the count held; the webhook is looked at (a ``GET``, posting nothing) with the backoff below,
  and delivery goes on in order when it answers again;
- 429, 5xx, or no connection at all: kept, and posted again after the wait;
- answer lost (read timeout, connection dropped after the request went out), or found still
  marked in flight by the next sender (the previous one died mid-POST): removed **without being
  posted again**, recorded in ``{prefix}notify:unconfirmed``, logged, and followed by a short
  notice in the channel that a message may be missing.

A Discord outage, a Redis outage or a notifier restart therefore loses nothing that Discord
did not take, keeps the order, and never posts a message twice. See docs/ARCHITECTURE.md,
'Notifications' and 'Redis outages'.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import redis

from services.notifier.delivery import Answer, Outcome, Webhook
from services.notifier.limits import Payload
from services.notifier.messages import is_notice, summary, unconfirmed_notice
from services.notifier.texts import Language
from shared.infra.backoff import backoff_delay
from shared.infra.redis_client import OUTAGE_PAUSE_SECONDS
from shared.infra.redis_keys import Keys
from shared.state.control import LeaderLock

log = logging.getLogger(__name__)

LOCK_SECONDS = 20.0
"""Sender lock lifetime; refreshed between steps and, from a helper thread, during a POST."""
LOCK_KEEP_SECONDS = 5.0
"""How often the lock is refreshed while a POST waits for Discord."""
IDLE_SECONDS = 0.2
"""How often empty lists are looked at: the longest a new event waits before it is taken."""
BACKOFF_BASE_SECONDS = 0.25
"""First wait after Discord failed; doubled after each further failure."""
BACKOFF_MAX_SECONDS = 15.0
"""Longest wait between two attempts while Discord is down."""
FAILURE_LOG_EVERY = 20
"""While Discord stays down, log one failure in this many."""
UNCONFIRMED_KEPT = 100
"""How many unconfirmed messages ``{prefix}notify:unconfirmed`` keeps (the newest)."""
DIED_MID_POST = "the notifier stopped while posting it"
"""Why a message found still in flight at start is unconfirmed."""

POP_IF_HEAD = """
if redis.call('LINDEX', KEYS[1], 0) == ARGV[1] then
  redis.call('LPOP', KEYS[1])
  redis.call('DEL', KEYS[2])
  return 1
end
return 0
"""
GIVE_UP_HEAD = """
if redis.call('LINDEX', KEYS[1], 0) ~= ARGV[1] then
  return 0
end
redis.call('LPOP', KEYS[1])
redis.call('DEL', KEYS[2])
redis.call('RPUSH', KEYS[3], ARGV[2])
redis.call('LTRIM', KEYS[3], -tonumber(ARGV[3]), -1)
if ARGV[4] ~= '' then
  redis.call('LPUSH', KEYS[1], ARGV[4])
end
return 1
"""


def discord_backoff(failures: int) -> float:
    """Real seconds to wait after ``failures`` failed attempts in a row: 0.25 s doubling to 15 s."""
    return backoff_delay(failures, BACKOFF_BASE_SECONDS, BACKOFF_MAX_SECONDS)


class Outbox:
    """The Redis list of payloads (JSON) waiting for Discord, oldest first."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self._redis = client
        self.key = keys.outbox()
        self.sending_key = keys.notify_sending()
        self.unconfirmed_key = keys.notify_unconfirmed()
        self._pop_if_head = client.register_script(POP_IF_HEAD)
        self._give_up_head = client.register_script(GIVE_UP_HEAD)

    def push(self, payloads: Sequence[Payload]) -> None:
        """Append messages together (one RPUSH: nothing else between them)."""
        if payloads:
            self._redis.rpush(self.key, *(json.dumps(p, ensure_ascii=False) for p in payloads))

    def head(self) -> bytes | None:
        raw: bytes | None = self._redis.lindex(self.key, 0)  # type: ignore[assignment]
        return raw

    def in_flight(self) -> bytes | None:
        """The message marked as being posted, if any."""
        raw: bytes | None = self._redis.get(self.sending_key)  # type: ignore[assignment]
        return raw

    def mark_in_flight(self, raw: bytes) -> None:
        """Say ``raw`` is about to be posted: if we die before the answer, it is not resent."""
        self._redis.set(self.sending_key, raw)

    def clear_in_flight(self) -> None:
        """Discord provably did not post it (no connection, 429, 5xx): it may go again."""
        self._redis.delete(self.sending_key)

    def remove_head(self, raw: bytes) -> bool:
        """Drop the head if it is still ``raw``; False if someone else already did."""
        return bool(self._pop_if_head(keys=[self.key, self.sending_key], args=[raw]) == 1)

    def give_up_head(self, raw: bytes, why: str, notice: Payload | None) -> bool:
        """Drop ``raw`` unsent-again, record it as unconfirmed, and put ``notice`` first."""
        given_up = {"given_up_epoch": time.time(), "why": why, "summary": summary(_json(raw))}
        record = json.dumps(given_up, ensure_ascii=False)
        encoded = json.dumps(notice, ensure_ascii=False) if notice is not None else ""
        keys = [self.key, self.sending_key, self.unconfirmed_key]
        args: list[bytes | str | int] = [raw, record, UNCONFIRMED_KEPT, encoded]
        return bool(self._give_up_head(keys=keys, args=args) == 1)

    def size(self) -> int:
        return int(self._redis.llen(self.key))

    def unconfirmed(self) -> int:
        return int(self._redis.llen(self.unconfirmed_key))


@dataclass(frozen=True)
class WebhookGone:
    """Discord said the webhook is not there (404 or 401): since when, and its words."""

    since_epoch: float
    """Real Unix seconds of the first such answer."""
    detail: str


class Sender:
    """Takes events into the outbox and delivers it in order, each message at most once."""

    def __init__(
        self,
        intake: Callable[[], int],
        outbox: Outbox | None,
        webhook: Webhook | None,
        lock: LeaderLock,
        stop: threading.Event,
        language: Language = "ko",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._intake = intake
        self._outbox = outbox
        self._webhook = webhook
        self._lock = lock
        self._stop = stop
        self._language = language
        self._clock = clock
        self._not_before = 0.0
        self._failures = 0
        self._posted: bytes | None = None
        """A message Discord took whose removal from the outbox Redis did not confirm."""
        self._doubtful = False
        """An answer was lost: Discord must answer a probe before the next message is posted,
        or an outage that swallows requests would cost every message of the outbox."""
        self.gone: WebhookGone | None = None
        """Set while Discord says the webhook is not there: messages are held, not posted."""
        self.sent = 0
        self.turned_monotonic = clock()
        """When the loop last turned (``clock``: ``time.monotonic()`` seconds): a loop stuck
        longer than a POST can take is unhealthy."""

    def run(self, burst: bool = False) -> None:
        """Deliver until stopped; in ``burst``, until everything is out or Discord fails.

        Nothing escapes this loop: a Redis outage is waited out a second at a time, and any
        other error is logged and the loop goes on.
        """
        redis_down = False
        try:
            while not self._stop.is_set():
                try:
                    if not self.step(burst):
                        return
                    if redis_down:
                        log.info("Redis reachable again; delivering")
                        redis_down = False
                except redis.RedisError as e:
                    if not redis_down:
                        log.warning("Redis unavailable (%s); trying again every second", e)
                        redis_down = True
                    self._stop.wait(OUTAGE_PAUSE_SECONDS)
                except Exception:
                    log.exception("sender error; trying again")
                    self._stop.wait(OUTAGE_PAUSE_SECONDS)
                # Waiting for Redis is turning too: only a loop stuck inside a step is not.
                self.turned_monotonic = self._clock()
        finally:
            try:
                self._lock.release()
            except redis.RedisError as e:
                log.warning("sender lock not released: %s", e)

    def step(self, burst: bool = False) -> bool:
        """Take events in and post the outbox head once (or idle); False when a burst is over."""
        self.turned_monotonic = self._clock()
        if not self._lock.acquire_or_refresh():
            # Another notifier sends; stay ready to take over when its lock lapses.
            self._stop.wait(IDLE_SECONDS)
            return not burst
        took = self._intake()
        raw = self._outbox.head() if self._outbox is not None else None
        if self._outbox is None or self._webhook is None or raw is None:
            if burst and not took:
                return False
            if not took:
                self._stop.wait(IDLE_SECONDS)
            return True
        if raw == self._posted:
            self._outbox.remove_head(raw)
            self._posted = None
            return True
        if self._outbox.in_flight() == raw:
            self._give_up(raw, _json(raw), DIED_MID_POST)
            return True
        self._outbox.clear_in_flight()
        if not self._pause(self._not_before - self._clock()):
            return True
        payload = _json(raw)
        if payload is None:
            log.error("dropping an outbox entry that is not JSON (%d bytes)", len(raw))
            self._outbox.remove_head(raw)
            return True
        if self._doubtful or self.gone is not None:
            return self._probe(burst)
        self._outbox.mark_in_flight(raw)
        with self._lock_kept():
            answer = self._webhook.post(payload)
        self._not_before = self._clock() + answer.wait
        return self._handle(raw, payload, answer, burst)

    def _handle(self, raw: bytes, payload: Any, answer: Answer, burst: bool) -> bool:
        assert self._outbox is not None
        if answer.outcome is Outcome.SENT:
            if self._failures:
                log.info("Discord reachable again after %d failed attempts", self._failures)
            self._failures = 0
            self._posted = raw
            self._outbox.remove_head(raw)
            self._posted = None
            self.sent += 1
            log.debug("delivered %r", summary(payload))
            return True
        if answer.outcome is Outcome.UNCONFIRMED:
            self._give_up(raw, payload, f"no answer from Discord: {answer.detail}")
            self._doubtful = True
            return True
        if answer.outcome is Outcome.GONE:
            self._outbox.clear_in_flight()
            return self._webhook_gone(answer, burst)
        if answer.outcome is Outcome.REJECTED:
            # Sending it again would fail the same way and hold up every later message.
            log.error(
                "Discord refused a message, dropped (%s): %r", answer.detail, summary(payload)
            )
            self._outbox.remove_head(raw)
            return True
        self._outbox.clear_in_flight()
        return self._back_off(answer, burst)

    def _probe(self, burst: bool) -> bool:
        """Ask Discord whether it is there (posting nothing) before the next message."""
        assert self._webhook is not None
        answer = self._webhook.probe()
        self._not_before = self._clock() + answer.wait
        if answer.outcome is Outcome.SENT:
            if self.gone is not None:
                log.info(
                    "Discord webhook answers again; delivering the %d messages held",
                    self._outbox.size() if self._outbox is not None else 0,
                )
                self.gone = None
            else:
                log.info("Discord answers again; delivering")
            self._doubtful = False
            self._failures = 0
            return True
        if answer.outcome is Outcome.GONE:
            return self._webhook_gone(answer, burst)
        return self._back_off(answer, burst)

    def _webhook_gone(self, answer: Answer, burst: bool) -> bool:
        """Hold every message and look at the webhook again later; say so once."""
        assert self._outbox is not None
        if self.gone is None:
            self.gone = WebhookGone(time.time(), answer.detail)
            log.error(
                "Discord says the webhook is not there (%s): %d messages are held in the outbox "
                "and go out, in order, once it answers again; set DISCORD_WEBHOOK_URL to a "
                "working webhook and restart the notifier",
                answer.detail,
                self._outbox.size(),
            )
        self._failures += 1
        self._not_before = self._clock() + max(discord_backoff(self._failures), answer.wait)
        return not burst

    def _back_off(self, answer: Answer, burst: bool) -> bool:
        """After a 429, a 5xx or no connection: wait before the next request."""
        assert self._outbox is not None
        if answer.outcome is Outcome.LIMITED:
            log.info("Discord rate limit: waiting %.2fs (%s)", answer.wait, answer.detail)
            return True
        self._failures += 1
        delay = discord_backoff(self._failures)
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

    def _give_up(self, raw: bytes, payload: Any, why: str) -> None:
        """Record a message Discord may or may not have posted; it is not posted again."""
        assert self._outbox is not None
        notice = None if is_notice(payload) else unconfirmed_notice(payload, why, self._language)
        if self._outbox.give_up_head(raw, why, notice):
            log.error(
                "Discord did not confirm a message (%s); not sent again, it may be missing: %r",
                why,
                summary(payload),
            )

    def _pause(self, seconds: float) -> bool:
        """Wait, keeping the lock; False if told to stop meanwhile."""
        deadline = self._clock() + seconds
        while (left := deadline - self._clock()) > 0:
            if self._stop.wait(min(left, 1.0)):
                return False
            self.turned_monotonic = self._clock()
            self._lock.acquire_or_refresh()
        return not self._stop.is_set()

    @contextmanager
    def _lock_kept(self) -> Iterator[None]:
        """Refresh the lock from a helper thread while a POST waits for Discord's answer."""
        done = threading.Event()

        def keep() -> None:
            while not done.wait(LOCK_KEEP_SECONDS):
                try:
                    self._lock.acquire_or_refresh()
                except redis.RedisError as e:
                    log.debug("sender lock not refreshed: %s", e)

        keeper = threading.Thread(target=keep, name="sender-lock", daemon=True)
        keeper.start()
        try:
            yield
        finally:
            done.set()


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None
