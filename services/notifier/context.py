"""What the notifier's loops share: settings, Redis, the scrubber and the outbox."""

from __future__ import annotations

from dataclasses import dataclass

import redis

from services.notifier.outbox import Outbox
from services.notifier.scrub import Scrubber
from services.notifier.texts import Language
from shared.infra.redis_client import connect
from shared.infra.redis_keys import Keys
from shared.infra.settings import Settings

SERVICE = "notifier"
"""Service name in logs and heartbeats."""


@dataclass(frozen=True)
class Context:
    """Built once per process by ``__main__``."""

    settings: Settings
    redis: redis.Redis
    keys: Keys
    scrubber: Scrubber
    outbox: Outbox | None
    """None when no webhook is configured: messages go to the log."""

    @property
    def language(self) -> Language:
        return self.settings.notify_language

    @property
    def webhook_url(self) -> str | None:
        url = self.settings.discord_webhook_url
        return url.get_secret_value() if url is not None else None


def build_context(settings: Settings, client: redis.Redis | None = None) -> Context:
    client = client or connect(settings.redis_url)
    keys = Keys(settings.redis_prefix)
    outbox = Outbox(client, keys) if settings.discord_webhook_url is not None else None
    return Context(settings, client, keys, Scrubber(settings.secret_values()), outbox)
