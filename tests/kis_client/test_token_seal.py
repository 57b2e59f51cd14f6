"""The access token is sealed in Redis: only a process with the app secret can read it.

See docs/ARCHITECTURE.md, 'Secrets'. The token is shared through Redis by every process; before,
anyone who could read Redis (a dump, the AOF file, MONITOR) could use it until it expired.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import redis

from shared.infra.clock import KST, SimulatedClock
from shared.kis.models import AccessToken
from shared.kis.token import TokenCache
from shared.kis.token_seal import TokenSeal, fingerprint

TOKEN = "eyJ0eXAiOiJKV1Qi.sealTestAccessToken.0123456789"
SECRET = "seal-test-app-secret/" + "k" * 40


def test_a_sealed_token_opens_only_with_its_secret() -> None:
    sealed = TokenSeal(SECRET).seal(TOKEN)
    assert TOKEN not in sealed
    assert TokenSeal(SECRET).open(sealed) == TOKEN
    assert TokenSeal(SECRET + "x").open(sealed) is None
    assert TokenSeal(SECRET).open(sealed[:-4] + "AAAA") is None
    assert TokenSeal(SECRET).open("not a sealed token") is None
    assert fingerprint(TOKEN) != fingerprint(TOKEN + "x") and TOKEN not in fingerprint(TOKEN)


def cache(client: redis.Redis, secret: str, issued: list[str]) -> TokenCache:
    clock = SimulatedClock(datetime(2026, 3, 3, 9, 0, tzinfo=KST), 1.0, 1772496000.0)

    def issue() -> AccessToken:
        issued.append(TOKEN)
        return AccessToken(TOKEN, clock.now() + timedelta(hours=24))

    return TokenCache(
        client,
        token_key="kat:kis:token:sim:test",
        guard_key="kat:kis:token-guard:sim:test",
        issued_key="kat:kis:token-issued:sim:test",
        clock=clock,
        issue=issue,
        seal=TokenSeal(secret),
        refresh_before=timedelta(minutes=10),
        issue_interval_seconds=0,
    )


def test_redis_holds_the_token_sealed_and_shares_it(redis_client: redis.Redis) -> None:
    issued: list[str] = []
    assert cache(redis_client, SECRET, issued).get() == TOKEN
    stored = b"".join(redis_client.get(k) or b"" for k in redis_client.keys("*"))
    assert TOKEN.encode() not in stored
    # Another process with the same secret reads it without a new issuance...
    assert cache(redis_client, SECRET, issued).get() == TOKEN
    assert issued == [TOKEN]
    # ...one with another secret cannot, and issues its own.
    cache(redis_client, "another-secret-0000", issued).get()
    assert issued == [TOKEN, TOKEN]


def test_dropping_compares_fingerprints(redis_client: redis.Redis) -> None:
    issued: list[str] = []
    tokens = cache(redis_client, SECRET, issued)
    tokens.get()
    tokens.drop("some-other-token")
    assert tokens.cached() is not None
    tokens.drop(TOKEN)
    assert tokens.cached() is None


def test_a_token_stored_before_its_expiry_named_its_clock_is_still_used(
    redis_client: redis.Redis,
) -> None:
    """A token outlives an upgrade in Redis (up to a day): no new issuance for a renamed field."""
    issued: list[str] = []
    cache(redis_client, SECRET, issued).get()
    stored = json.loads(redis_client.get("kat:kis:token:sim:test") or "{}")
    assert set(stored) == {"sealed", "fingerprint", "expires_kst"}
    stored["expires_at"] = stored.pop("expires_kst")
    redis_client.set("kat:kis:token:sim:test", json.dumps(stored))
    assert cache(redis_client, SECRET, issued).get() == TOKEN
    assert issued == [TOKEN]
