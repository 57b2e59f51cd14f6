"""The event list to the outbox: the head event formatted into messages, moved atomically.

Producers append events with ``shared.messaging.events.notify`` to ``{prefix}notify:events``. The
sender (the one notifier holding the lock) takes the head, turns it into its Discord messages and,
in one Lua script, removes it from the list and appends the messages to the outbox: an event is
never half moved, never moved twice, and keeps its place. Without a webhook the event is
logged instead. See docs/ARCHITECTURE.md, 'Notifications'.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

import redis
from rq.job import Job

from services.notifier.format import as_text, render
from services.notifier.messages import messages
from services.notifier.outbox import Outbox
from services.notifier.scrub import Scrubber
from services.notifier.texts import Language
from shared.infra.redis_keys import Keys
from shared.messaging.events import KIND_FIELD
from shared.messaging.queues import NOTIFY_QUEUE, enqueue_notification, queue

log = logging.getLogger(__name__)

SEEN_SECONDS = 86_400
"""How long an event id is remembered, so a second copy of it is dropped."""

MOVE_HEAD = """
if redis.call('LINDEX', KEYS[1], 0) ~= ARGV[1] then
  return 0
end
redis.call('LPOP', KEYS[1])
if KEYS[3] and not redis.call('SET', KEYS[3], '1', 'NX', 'EX', ARGV[2]) then
  return 2
end
for i = 3, #ARGV do
  redis.call('RPUSH', KEYS[2], ARGV[i])
end
return 1
"""


class Intake:
    """Takes events off the list in order, into the outbox (or the log, without a webhook)."""

    def __init__(
        self,
        client: redis.Redis,
        keys: Keys,
        language: Language,
        scrubber: Scrubber,
        outbox: Outbox | None,
        label: str | None = None,
    ) -> None:
        self._label = label
        """Opens every message: ``DRY RUN`` in a dry run (docs/ARCHITECTURE.md, 'Dry run')."""
        self._redis = client
        self._keys = keys
        self.key = keys.notify_events()
        self._language = language
        self._scrubber = scrubber
        self._outbox = outbox
        self._move_head = client.register_script(MOVE_HEAD)

    def size(self) -> int:
        return int(self._redis.llen(self.key))

    def take(self, limit: int = 100) -> int:
        """Move up to ``limit`` events, oldest first; how many were moved."""
        moved = 0
        while moved < limit:
            raw: bytes | None = self._redis.lindex(self.key, 0)  # type: ignore[assignment]
            if raw is None:
                break
            self._take_one(raw)
            moved += 1
        return moved

    def _take_one(self, raw: bytes) -> None:
        event, queued_epoch, event_id = _read(raw)
        keys = [self.key, self._outbox.key if self._outbox is not None else self.key]
        if event_id:
            keys.append(self._keys.notify_seen(event_id))
        if self._outbox is None:
            # No webhook: the log is the channel (scrubbed like a message, one entry per event).
            if self._move_head(keys=keys, args=[raw, SEEN_SECONDS]) == 1:
                for payload in render(event, self._language, queued_epoch, self._label):
                    log.info("notification:\n%s", as_text(self._scrubber.payload(payload)))
            return
        parts = messages(event, self._language, self._scrubber, queued_epoch, self._label)
        encoded = [json.dumps(p, ensure_ascii=False) for p in parts]
        if self._move_head(keys=keys, args=[raw, SEEN_SECONDS, *encoded]) == 2:
            log.warning("dropped a second copy of event %s", event_id)

    def adopt_queued_jobs(self) -> int:
        """Move notifications still on the old RQ queue to the list, in order (an upgrade)."""
        old = queue(self._redis, NOTIFY_QUEUE)
        adopted = 0
        for job in old.jobs:
            enqueue_notification(self._redis, _job_payload(job), self._keys)
            old.remove(job)
            job.delete()
            adopted += 1
        if adopted:
            log.info("moved %d notifications from the old RQ queue to the event list", adopted)
        return adopted


def _read(raw: bytes) -> tuple[Any, float | None, str]:
    """The event of one list entry, when it was appended (real Unix seconds) and its id;
    anything odd is shown plainly."""
    try:
        entry = json.loads(raw)
    except ValueError:
        log.warning("an event list entry is not JSON (%d bytes); shown as text", len(raw))
        return {KIND_FIELD: "notification", "value": raw.decode(errors="replace")}, None, ""
    if not isinstance(entry, dict) or "event" not in entry:
        return {KIND_FIELD: "notification", "value": entry}, None, ""
    event = entry["event"]
    if not isinstance(event, dict):
        event = {KIND_FIELD: "notification", "value": event}
    return event, _queued_epoch(entry), str(entry.get("id") or "")


def _queued_epoch(entry: dict[str, Any]) -> float | None:
    """When an entry was appended; entries queued before an upgrade say it as ``at``, an ISO
    time in UTC (the list survives restarts)."""
    queued = entry.get("queued_epoch")
    if isinstance(queued, int | float) and not isinstance(queued, bool):
        return float(queued)
    try:
        return datetime.fromisoformat(str(entry.get("at"))).timestamp()
    except ValueError:
        return None


def _job_payload(job: Job) -> Any:
    args = job.args or ()
    return args[0] if args else {KIND_FIELD: "notification", "value": job.description}
