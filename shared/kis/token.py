"""The KIS access token, cached in Redis per app key and shared by every process.

KIS allows one issuance a minute (EGW00133) and sends the user a KakaoTalk alert for each, so a
token is issued only when none is cached or it is about to expire, and then by one process only:
the one that wins a ``SET NX`` guard held for the issuance interval. The others wait for the
token to appear in Redis. Redis holds it sealed (shared/kis/token_seal.py), never in the clear.

The sealed token is also kept in a file on the data volume (docs/ARCHITECTURE.md, 'When our state
is lost'), as KIS's own samples and python-kis keep theirs: a Redis that comes back empty then
costs no issuance, which KIS would refuse within the minute (EGW00133) and alert the user about.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import redis

from shared.infra.clock import Clock
from shared.infra.files import read_text_or_none, write_atomically
from shared.kis.errors import KisTokenThrottled, KisUnreachable
from shared.kis.models import AccessToken
from shared.kis.token_seal import TokenSeal, fingerprint

log = logging.getLogger(__name__)

WAIT_POLL_SECONDS = 0.1
"""How often a process waiting for another's issuance looks for the token."""

DROP_IF_EQUAL = """
local cached = redis.call('GET', KEYS[1])
if cached and cjson.decode(cached)['fingerprint'] == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
"""Delete the cached token only if it is the one the caller saw fail (another may be newer)."""


def token_file(data_dir: Path, env: str, key_id: str) -> Path:
    """Where the data volume keeps the sealed token of one app key (``key_id``: its hash)."""
    return data_dir / "kis" / f"token-{env}-{key_id}.json"


class TokenCache:
    """``get()`` returns a valid access token, issuing one only when needed."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        token_key: str,
        guard_key: str,
        issued_key: str,
        clock: Clock,
        issue: Callable[[], AccessToken],
        seal: TokenSeal,
        refresh_before: timedelta,
        issue_interval_seconds: float,
        wait_timeout_seconds: float = 90.0,
        file: Path | None = None,
    ) -> None:
        self._redis = client
        self._token_key = token_key
        self._guard_key = guard_key
        self._issued_key = issued_key
        self._clock = clock
        self._issue = issue
        self._seal = seal
        self._refresh_before = refresh_before
        self._interval = issue_interval_seconds
        self._wait_timeout = wait_timeout_seconds
        self._drop = client.register_script(DROP_IF_EQUAL)
        self._file = file
        """The sealed token's copy on the data volume; None: Redis only."""

    def get(self) -> str:
        """A token valid for at least ``refresh_before`` more, from the cache or newly issued."""
        deadline = time.monotonic() + self._wait_timeout
        while True:
            cached = self.cached()
            if cached is not None:
                return cached.value
            if self._take_guard():
                try:
                    return self._issue_and_store().value
                except KisTokenThrottled:
                    # Someone outside this system issued recently; keep the guard and wait it out.
                    log.warning("token issuance throttled by KIS (EGW00133); waiting")
                except KisUnreachable as e:
                    if e.never_sent:
                        # KIS never saw the request, so no token was issued: the next try (ours
                        # or another process's) may ask at once instead of a minute later.
                        self._redis.delete(self._guard_key)
                    raise
            if time.monotonic() > deadline:
                raise KisTokenThrottled(
                    f"no access token within {self._wait_timeout:.0f}s", msg_cd="EGW00133"
                )
            time.sleep(WAIT_POLL_SECONDS)

    def cached(self) -> AccessToken | None:
        """The cached token if it stays valid for ``refresh_before`` more, else None.

        Redis first; when Redis has none, the file on the data volume, put back into Redis.
        """
        raw = self._redis.get(self._token_key)
        if raw is not None:
            return self._valid(raw)
        if self._file is None:
            return None
        stored = read_text_or_none(self._file)
        token = self._valid(stored) if stored is not None else None
        if token is not None and stored is not None:
            self._redis.set(self._token_key, stored, ex=self._ttl(token), nx=True)
            log.info("the KIS access token came back from %s (Redis had none)", self._file)
        return token

    def _valid(self, raw: str | bytes) -> AccessToken | None:
        """The token in a stored entry if it stays valid for ``refresh_before`` more."""
        try:
            data = json.loads(raw)
            # Unreadable (another app secret, an older unsealed entry): as good as none.
            value = self._seal.open(data["sealed"]) if "sealed" in data else None
            # ``expires_at``: its name before timestamps named their clock (a token lives a day).
            expires = data["expires_kst"] if "expires_kst" in data else data["expires_at"]
            expires_kst = datetime.fromisoformat(expires)
        except (ValueError, KeyError, TypeError):
            return None
        if value is None:
            return None
        token = AccessToken(value, expires_kst)
        if token.expires_kst - self._refresh_before <= self._clock.now():
            return None
        return token

    def _ttl(self, token: AccessToken) -> int:
        """The token's remaining validity in real seconds, for its Redis key's TTL."""
        remaining = (token.expires_kst - self._clock.now()).total_seconds() / self._clock.speed
        return max(1, int(remaining))

    def drop(self, token: str) -> None:
        """Forget ``token`` after KIS called it expired, unless a newer one replaced it."""
        self._drop(keys=[self._token_key], args=[fingerprint(token)])
        if self._file is None:
            return
        stored = read_text_or_none(self._file)
        try:
            same = stored is not None and json.loads(stored)["fingerprint"] == fingerprint(token)
        except (ValueError, KeyError, TypeError):
            same = True  # an unreadable file holds no token worth keeping
        if same:
            self._file.unlink(missing_ok=True)

    def _take_guard(self) -> bool:
        if self._interval <= 0:
            return True
        return bool(self._redis.set(self._guard_key, "1", nx=True, px=int(self._interval * 1000)))

    def _issue_and_store(self) -> AccessToken:
        token = self._issue()
        payload = json.dumps(
            {
                "sealed": self._seal.seal(token.value),
                "fingerprint": fingerprint(token.value),
                "expires_kst": token.expires_kst.isoformat(),
            }
        )
        pipe = self._redis.pipeline()
        pipe.set(self._token_key, payload, ex=self._ttl(token))
        pipe.incr(self._issued_key)
        pipe.execute()
        if self._file is not None:
            try:
                write_atomically(self._file, payload.encode("ascii"), private=True)
            except OSError as e:  # the file is a spare copy: trading goes on without it
                log.warning("could not keep the sealed token in %s: %s", self._file, e)
        log.info("issued a KIS access token valid until %s", token.expires_kst.isoformat())
        return token
