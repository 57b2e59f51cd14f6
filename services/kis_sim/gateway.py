"""KIS's gateway rules: access tokens (issuance throttle, reuse, expiry) and the rate limit."""

from __future__ import annotations

import bisect
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.kis_sim import codes
from services.kis_sim.protocol import KisError, OAuthError

REUSE_WINDOW = timedelta(hours=6)
"""KIS hands out the same token again when asked within 6 hours of issuing it."""
RATE_WINDOW_SECONDS = 1.0
"""Width of the sliding window the rate limit counts requests in."""


@dataclass
class Token:
    """One issued access token; times are clock times."""

    value: str
    app_key: str
    app_secret: str
    issued_kst: datetime
    expires_kst: datetime
    revoked: bool = False

    def expired(self, now: datetime) -> bool:
        """Whether the token no longer works."""
        return self.revoked or now >= self.expires_kst


class TokenStore:
    """Issues and checks tokens. The throttle runs on real time, the lifetime on clock time."""

    def __init__(
        self,
        ttl_seconds: int,
        throttle_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = timedelta(seconds=ttl_seconds)
        # KIS's 6 h reuse is a quarter of its 24 h lifetime; a short test TTL shrinks it alike
        # so a re-request never gets back a token about to die.
        self._reuse = min(REUSE_WINDOW, self._ttl / 4)
        self._throttle = throttle_seconds
        self._monotonic = monotonic
        self._by_value: dict[str, Token] = {}
        self._latest: dict[str, Token] = {}
        self._last_issued: dict[str, float] = {}

    def issue(self, app_key: str, app_secret: str, now: datetime) -> tuple[Token, bool]:
        """A token for the key (OAuthError EGW00133 when asked again too soon) and whether it
        is the one issued before (reused)."""
        real_now = self._monotonic()
        last = self._last_issued.get(app_key)
        if last is not None and real_now - last < self._throttle:
            raise OAuthError(codes.TOKEN_THROTTLED)
        self._last_issued[app_key] = real_now
        latest = self._latest.get(app_key)
        if (
            latest is not None
            and latest.app_secret == app_secret
            and not latest.expired(now)
            and now - latest.issued_kst < self._reuse
        ):
            return latest, True
        token = Token(secrets.token_urlsafe(48), app_key, app_secret, now, now + self._ttl)
        self._by_value[token.value] = token
        self._latest[app_key] = token
        return token, False

    def authenticate(
        self, authorization: str, app_key: str, app_secret: str, now: datetime
    ) -> Token:
        """The token named by an ``authorization: Bearer ...`` header, or KisError."""
        scheme, _, value = authorization.partition(" ")
        token = self._by_value.get(value.strip()) if scheme.lower() == "bearer" else None
        if token is None:
            raise KisError.of(codes.TOKEN_INVALID, 500)
        if token.expired(now):
            raise KisError.of(codes.TOKEN_EXPIRED, 500)
        if not app_key:
            raise KisError.of(codes.APP_KEY_INVALID, 500)
        if app_key != token.app_key:
            # The token belongs to another app key: for this key it is not a valid token.
            raise KisError.of(codes.TOKEN_INVALID, 500)
        if app_secret != token.app_secret:
            raise KisError.of(codes.APP_SECRET_INVALID, 500)
        return token

    def expire_all(self) -> int:
        """Make every issued token expired; returns how many there were."""
        for token in self._by_value.values():
            token.revoked = True
        return len(self._by_value)


class RateLimiter:
    """At most ``limit`` admitted arrivals per app key in any window of RATE_WINDOW_SECONDS.

    Arrivals are taken when handling starts, so with threads they may reach the limiter slightly
    out of order; every window that could contain the new arrival is checked, not only the one
    ending at it. Refused arrivals are not recorded (they do not use up the window).
    """

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._arrivals: dict[str, list[float]] = {}

    def admit(self, key: str, arrival: float) -> bool:
        """Record ``arrival`` and return True, or return False if it would break the limit."""
        window = RATE_WINDOW_SECONDS
        times = self._arrivals.setdefault(key, [])
        del times[: bisect.bisect_left(times, arrival - 2 * window)]
        first = bisect.bisect_right(times, arrival - window)
        starts = [arrival, *times[first : bisect.bisect_right(times, arrival)]]
        for start in starts:
            inside = bisect.bisect_left(times, start + window) - bisect.bisect_left(times, start)
            if inside + 1 > self._limit:
                return False
        bisect.insort(times, arrival)
        return True
