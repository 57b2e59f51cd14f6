"""Notifications from the scheduler: queued for the notifier, never raised into trading code."""

from __future__ import annotations

import logging
from typing import Any, Protocol

import redis

from shared.queues import notify

log = logging.getLogger(__name__)

ONCE_TTL_SECONDS = 8 * 86_400
"""How long a once-per-day marker (closed-day notice, post-market run) is kept, in seconds."""


class Notifier(Protocol):
    """Send one notification event with JSON-safe fields."""

    def __call__(self, event: str, **fields: Any) -> None: ...


class QueueNotifier:
    """Queues events for the notifier service; a failure to queue is logged and swallowed."""

    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    def __call__(self, event: str, **fields: Any) -> None:
        try:
            notify(self._redis, event, **fields)
        except Exception as e:
            log.warning("notification %s not queued: %s", event, e)


def first_time(client: redis.Redis, key: str) -> bool:
    """True for the first caller to mark ``key`` (SET NX), so a notice goes out once a day."""
    return bool(client.set(key, "1", nx=True, ex=ONCE_TTL_SECONDS))
