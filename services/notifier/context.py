"""What the notifier's job and loops share: settings, Redis, the scrubber and the outbox."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import redis

from services.notifier.outbox import Outbox
from services.notifier.scrub import Scrubber
from services.notifier.texts import Language
from shared.redis_keys import Keys
from shared.settings import Settings, load_settings

SERVICE = "notifier"
"""Service name in logs and heartbeats."""


@dataclass(frozen=True)
class Context:
    """Built once per process by ``__main__`` (or on first use by a foreign worker)."""

    settings: Settings
    redis: redis.Redis
    keys: Keys
    scrubber: Scrubber
    outbox: Outbox | None
    """None when no webhook is configured: messages go to the log."""
    wake: threading.Event = field(default_factory=threading.Event)
    """Set by a job that filled the outbox, so the sender does not wait for its next look."""

    @property
    def language(self) -> Language:
        return self.settings.notify_language

    @property
    def webhook_url(self) -> str | None:
        url = self.settings.discord_webhook_url
        return url.get_secret_value() if url is not None else None


def build_context(settings: Settings, client: redis.Redis | None = None) -> Context:
    client = client or redis.Redis.from_url(settings.redis_url)
    keys = Keys(settings.redis_prefix)
    outbox = Outbox(client, keys) if settings.discord_webhook_url is not None else None
    return Context(settings, client, keys, Scrubber(settings.secret_values()), outbox)


_installed: Context | None = None


def install(ctx: Context) -> Context:
    """Make ``ctx`` the one the jobs of this process use."""
    global _installed
    _installed = ctx
    return ctx


def current() -> Context:
    """The installed context; built from the environment if a plain ``rq worker`` runs the job."""
    return _installed or install(build_context(load_settings()))
