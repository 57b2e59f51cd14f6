"""Every Redis key name the system uses, under one prefix (default ``kat:``, never ``rq:``).

Keys that carry an app key use a short digest of it, so no credential ever appears in Redis.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

DEFAULT_PREFIX = "kat:"
"""Prefix of every key this system owns."""


def app_key_id(app_key: str) -> str:
    """A stable, non-reversible 16-hex-digit id for an app key (safe in key names and logs)."""
    return hashlib.sha256(app_key.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Keys:
    """Key templates: build one from settings (``Keys(settings.redis_prefix)``), pass it on."""

    prefix: str = DEFAULT_PREFIX

    def __post_init__(self) -> None:
        if not self.prefix or self.prefix.startswith("rq:"):
            raise ValueError(f"Redis prefix {self.prefix!r} is empty or collides with rq's keys")

    # KIS client -------------------------------------------------------------------------------
    def token(self, env: str, key_id: str) -> str:
        """JSON ``{access_token, expires_at}`` of the cached access token for one app key."""
        return f"{self.prefix}kis:token:{env}:{key_id}"

    def token_issue_guard(self, env: str, key_id: str) -> str:
        """Held for 60 s by the process that issues a token: one issuance a minute overall."""
        return f"{self.prefix}kis:token-guard:{env}:{key_id}"

    def token_issuances(self, env: str, key_id: str) -> str:
        """Counter of tokens issued (for metrics)."""
        return f"{self.prefix}kis:token-issued:{env}:{key_id}"

    def rate_window(self, env: str, key_id: str) -> str:
        """Sorted set of request slots granted in the last window (the shared rate limiter)."""
        return f"{self.prefix}kis:rate:{env}:{key_id}"

    def rate_waits(self, env: str, key_id: str) -> str:
        """Counter of times a caller had to wait for a rate-limit slot."""
        return f"{self.prefix}kis:rate-waits:{env}:{key_id}"

    def kis_errors(self, env: str) -> str:
        """Hash msg_cd -> count of KIS error answers (EGW00201 and friends)."""
        return f"{self.prefix}kis:errors:{env}"

    # Clock ------------------------------------------------------------------------------------
    def clock_epoch(self, start_iso: str, speed: float) -> str:
        """Unix seconds at which simulated time equalled ``start_iso`` at ``speed``."""
        return f"{self.prefix}clock:epoch:{start_iso}:{speed:g}"
