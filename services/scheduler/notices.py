"""Notifications from the scheduler: typed events queued for the notifier, never raised."""

from __future__ import annotations

from typing import Protocol

import redis

from shared.infra.redis_keys import SESSION_RETENTION_SECONDS, Keys
from shared.messaging.events import Event, notify


class Notifier(Protocol):
    """Send one notification event; never raises into trading code."""

    def __call__(self, event: Event) -> None: ...


class QueueNotifier:
    """Queues events for the notifier service through ``shared.messaging.events.notify`` (logs
    failures)."""

    def __init__(self, client: redis.Redis, keys: Keys | None = None) -> None:
        self._redis = client
        self._keys = keys

    def __call__(self, event: Event) -> None:
        notify(self._redis, event, self._keys)


def first_time(client: redis.Redis, key: str) -> bool:
    """True for the first caller to mark ``key`` (SET NX), so a notice goes out once a day."""
    return bool(client.set(key, "1", nx=True, ex=SESSION_RETENTION_SECONDS))
