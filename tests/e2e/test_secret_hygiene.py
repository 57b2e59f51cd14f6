"""Secret hygiene: a whole real-mode day at DEBUG, and no secret anywhere it could be read.

The rehearsal day (tests/e2e/test_rehearsal.py: KIS_ENV=real on a simulated clock, keys from the
keyring) with recognisable fake credentials, a status API, a notifier posting to a stand-in
Discord, and every process at ``LOG_LEVEL=DEBUG``. Afterwards every log line of every process,
every API answer, every Redis value (all keys, all types, but the simulator's own: it plays
KIS, which knows the account), every exported file and every body Discord received is searched
for the app key, the secret, the access token, the account (whole, without its dash and the
8-digit prefix alone), the HTS id, the status token and the webhook URL (and its token part).
See docs/ARCHITECTURE.md, 'Secrets'.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import redis
import requests

from services.api import openapi
from services.kis_sim.config import DEFAULT_REDIS_PREFIX as SIM_PREFIX
from shared.infra.clock import KST
from shared.infra.redis_keys import text
from shared.kis.token_seal import TokenSeal
from tests.conftest import free_port, wait_for
from tests.e2e.conftest import KEYS, Market
from tests.e2e.test_trading_day import NAMES, PRICES
from tests.keyring_backend import store_with_the_command
from tests.notifier.fake_discord import WEBHOOK_TOKEN, FakeDiscord

pytestmark = pytest.mark.slow

APP_KEY = "PS" + "HygieneAppKey7f3a9c0123456789abcd"  # 36 characters, the shape of a real key
APP_SECRET = "HygieneSecret/" + "q7" * 83  # 180 characters
ACCOUNT = "73519024-01"
HTS_ID = "hygieneHts01"
STATUS_TOKEN = "hygiene-status-token-" + "5e" * 16
HOLDING = {"code": "000600", "name": NAMES["000600"], "qty": 10, "avg_price": 50000}


@pytest.fixture
def discord() -> Iterator[FakeDiscord]:
    fake = FakeDiscord(limit=50).start()
    yield fake
    fake.stop()


def open_the_day(open_market: Any, tmp_path: Path, discord: FakeDiscord) -> Market:
    keyring_env = store_with_the_command(tmp_path, "real", APP_KEY, APP_SECRET)
    market: Market = open_market(
        datetime(2026, 3, 3, 8, 50, tzinfo=KST),
        1200,
        prices=PRICES,
        names=NAMES,
        picks={code: (name, 10000) for code, name in NAMES.items()},
        sim_env={"SIM_RULES": "real", "SIM_RATE_LIMIT": "", "LOG_LEVEL": "DEBUG"},
        KIS_ENV="real",
        REAL_TRADING_CONFIRM="yes",
        KIS_ACCOUNT=ACCOUNT,
        KIS_HTS_ID=HTS_ID,
        KIS_RATE_LIMIT="",
        LOG_LEVEL="DEBUG",
        DISCORD_WEBHOOK_URL=discord.url,
        STATUS_API_TOKEN=STATUS_TOKEN,
        **keyring_env,
    )
    market.env["KIS_BASE_URL"] = market.sim.url
    market.sim.admin(
        "POST", "accounts", json={"account": ACCOUNT, "cash": 10_000_000, "holdings": [HOLDING]}
    )
    return market


def access_tokens(client: redis.Redis) -> list[str]:
    """Every access token cached in Redis, opened with the app secret (Redis holds them sealed)."""
    seal = TokenSeal(APP_SECRET)
    found = []
    for key in client.keys(f"{KEYS.prefix}kis:token:*"):
        if client.type(key) == b"string" and b"sealed" in (client.get(key) or b""):
            token = seal.open(json.loads(client.get(key) or "{}")["sealed"])
            assert token is not None, f"{text(key)} does not open with the app secret"
            found.append(token)
    return found


def redis_values(client: redis.Redis) -> Iterator[tuple[str, bytes]]:
    """(key, every byte of its value) for every key of the database, whatever its type."""
    for raw_key in client.scan_iter(count=1000):
        key = text(raw_key)
        kind = text(client.type(raw_key))
        parts: list[bytes] = [raw_key]
        if kind == "none":
            continue  # expired between SCAN and TYPE (the rate limiter's keys are short-lived)
        if kind == "string":
            parts.append(client.get(raw_key) or b"")
        elif kind == "hash":
            for field, value in client.hgetall(raw_key).items():
                parts += [field, value]
        elif kind == "list":
            parts += client.lrange(raw_key, 0, -1)
        elif kind == "set":
            parts += list(client.smembers(raw_key))
        elif kind == "zset":
            parts += [member for member, _score in client.zrange(raw_key, 0, -1, withscores=True)]
        elif kind == "stream":
            for _id, fields in client.xrange(raw_key):
                for field, value in fields.items():
                    parts += [field, value]
        else:
            raise AssertionError(f"{key}: a Redis type the search does not read: {kind}")
        yield key, b"\n".join(parts)


def api_answers(base: str, order_ids: list[str]) -> Iterator[tuple[str, bytes]]:
    """Every read endpoint's answer, each order's, and the control endpoints' (right and wrong)."""
    # Every GET the API documents (the page included), each order's through /orders/{order_id}.
    paths = [
        template.replace("{order_id}", order_id)
        for template, operations in openapi.document()["paths"].items()
        if "get" in operations
        for order_id in (order_ids if "{order_id}" in template else [""])
    ]
    for path in paths:
        answer = requests.get(base + path, timeout=10)
        yield f"GET {path} {answer.status_code}", answer.content
    right = {"Authorization": f"Bearer {STATUS_TOKEN}"}
    wrong = {"Authorization": "Bearer " + "x" * 40}
    for path, headers in (
        ("/control/pause", right),
        ("/control/resume", right),
        ("/control/halt", wrong),
    ):
        answer = requests.post(base + path, headers=headers, timeout=10)
        yield f"POST {path} {answer.status_code}", answer.content + str(answer.headers).encode()


def hits(place: str, data: bytes, secrets: dict[str, str]) -> list[str]:
    return [f"{place}: {name}" for name, value in secrets.items() if value.encode() in data]


def test_a_debug_day_leaks_no_secret(
    open_market: Any, tmp_path: Path, discord: FakeDiscord
) -> None:
    market = open_the_day(open_market, tmp_path, discord)
    port = free_port()
    market.executor()
    market.scheduler()
    market.start("services.notifier", "notifier")
    market.start("services.api", "api", API_PORT=str(port))
    base = f"http://127.0.0.1:{port}"

    export = market.folder / "export" / "positions.json"
    market.wait(export.exists, timeout=120, what="the day's close and export")
    market.wait(
        lambda: any("장 마감" in t for t in discord.texts()), timeout=60, what="the daily summary"
    )
    wait_for(lambda: requests.get(f"{base}/healthz", timeout=1).ok, what="status API")
    assert len(market.sim_orders()) == 5, "the day traded: there was something to leak"

    tokens = access_tokens(market.redis)
    assert tokens, "an access token was issued and cached"
    secrets = {
        "app key": APP_KEY,
        "app secret": APP_SECRET,
        "account": ACCOUNT,
        "account without its dash": ACCOUNT.replace("-", ""),
        "account prefix (CANO)": ACCOUNT[:8],
        "HTS id": HTS_ID,
        "status API token": STATUS_TOKEN,
        "webhook URL": discord.url,
        "webhook URL, URL-encoded": quote(discord.url, safe=""),
        "webhook token": WEBHOOK_TOKEN,
        **{f"access token {n}": token for n, token in enumerate(tokens)},
    }
    order_ids = [record.id for record in market.records(datetime(2026, 3, 3).date())]

    found: list[str] = []
    for place, data in api_answers(base, order_ids):
        found += hits(place, data, secrets)
    for name, body in enumerate(discord.bodies):
        found += hits(f"Discord body {name}", body, secrets)
    for key, data in redis_values(market.redis):
        if key.startswith(SIM_PREFIX):
            continue  # the simulator plays KIS, which knows the account it keeps
        found += hits(f"Redis {key}", data, secrets)
    for path in (market.folder / "export").rglob("*"):
        found += hits(f"export {path.name}", path.read_bytes(), secrets)
    market.stop()
    logs = [*market.processes, market.sim.service]
    lines = 0
    for process in logs:
        output = process.log_path.read_bytes()
        lines += output.count(b"\n")
        for number, line in enumerate(output.splitlines(), start=1):
            found += hits(f"{process.log_path.name}:{number} {line[:160]!r}", line, secrets)
    assert lines > 1000, f"only {lines} log lines: was DEBUG on?"
    assert found == [], "\n".join(found[:60]) + f"\n({len(found)} in all)"
    print(f"\nsecret hygiene: {lines} log lines, {len(discord.bodies)} Discord bodies, clean")
