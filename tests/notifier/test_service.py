"""The notifier process with a real Redis and a fake Discord: order, outages, restarts, secrets."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from typing import Any

import pytest
import redis

from shared.messaging.events import (
    BuyAttempt,
    ClosedDay,
    DailySummary,
    OrderRejected,
    ServiceError,
    ServiceStop,
    to_payload,
)
from shared.messaging.queues import DELIVER, NOTIFY_QUEUE, queue
from shared.state.control import heartbeats
from tests.conftest import ServiceProcess, service_env
from tests.notifier.conftest import KEYS, Notifier, codes
from tests.notifier.fake_discord import WEBHOOK_TOKEN, FakeDiscord
from tests.notifier.samples import EVENTS, trade

Send = Callable[..., None]
Start = Callable[..., Notifier]


def buy(send: Send, i: int) -> None:
    send(
        BuyAttempt(
            session=date(2026, 3, 2), code=f"{i:06d}", name=f"종목{i}", price=1000, quantity=i
        )
    )


def expected(n: int) -> list[str]:
    return [f"{i:06d}" for i in range(1, n + 1)]


@pytest.mark.parametrize("rate_headers", [False, True])
def test_burst_arrives_in_order_within_the_rate_limit(
    discord: FakeDiscord, start_notifier: Start, send: Send, rate_headers: bool
) -> None:
    discord.rate_headers = rate_headers
    discord.window = 0.5
    notifier = start_notifier(DISCORD_WEBHOOK_URL=discord.url)
    for i in range(1, 21):
        buy(send, i)
    notifier.wait(lambda: len(discord.accepted) == 20, "20 messages")
    assert codes(discord) == expected(20)
    assert discord.rejected == []
    assert notifier.outbox() == 0
    if rate_headers:
        # X-RateLimit-Remaining: 0 was waited out, so Discord never had to say 429.
        assert discord.limited == 0
    else:
        assert discord.limited > 0
        assert "Discord rate limit: waiting" in notifier.output()
    assert discord.accepted[0]["content"].startswith("[매수 시도] 종목1(000001) 현재가 1,000원")


@pytest.mark.parametrize("outage", ["503", "down"])
def test_outage_holds_messages_and_delivers_all_after(
    discord: FakeDiscord, start_notifier: Start, send: Send, outage: str
) -> None:
    if outage == "down":
        discord.go_down()
    else:
        discord.outage = outage
    notifier = start_notifier(DISCORD_WEBHOOK_URL=discord.url)
    for i in range(1, 11):
        buy(send, i)
    notifier.wait(
        lambda: notifier.outbox() == 10 and notifier.output().count("Discord unavailable") >= 1,
        "outage retries",
    )
    assert discord.accepted == []
    if outage == "down":
        discord.come_back()
    else:
        discord.outage = None
    notifier.wait(lambda: len(discord.accepted) == 10, "delivery after the outage")
    assert codes(discord) == expected(10)
    assert notifier.outbox() == 0
    output = notifier.output()
    assert "Discord unavailable" in output and "Discord reachable again" in output


def test_restart_mid_outbox_loses_nothing(
    discord: FakeDiscord, start_notifier: Start, send: Send
) -> None:
    discord.outage = "503"
    first = start_notifier(DISCORD_WEBHOOK_URL=discord.url)
    for i in range(1, 11):
        buy(send, i)
    first.wait(lambda: first.outbox() == 10, "messages in the outbox")
    assert first.terminate() == 0
    assert first.outbox() == 10
    discord.outage = None
    # Slow Discord down so the second notifier is stopped while it is still delivering.
    discord.limit, discord.window = 2, 0.5
    second = start_notifier(DISCORD_WEBHOOK_URL=discord.url)
    second.wait(lambda: len(discord.accepted) >= 3, "delivery resumed")
    assert second.terminate() == 0
    assert 0 < second.outbox() == 10 - len(discord.accepted)
    for i in range(11, 16):
        buy(send, i)
    third = start_notifier(DISCORD_WEBHOOK_URL=discord.url)
    third.wait(lambda: len(discord.accepted) == 15, "the rest delivered")
    assert codes(discord) == expected(15)
    assert "from before wait; sending them first" in third.output()


def test_long_daily_summary_arrives_split_and_whole(
    discord: FakeDiscord, start_notifier: Start, send: Send
) -> None:
    realized = tuple(trade(i) for i in range(1, 301))
    summary = EVENTS["daily_summary"]
    assert isinstance(summary, DailySummary)
    send(replace(summary, realized=realized))
    send(ServiceStop(service="scheduler", instance="x"))
    notifier = start_notifier(DISCORD_WEBHOOK_URL=discord.url)
    notifier.wait(
        lambda: discord.accepted and "서비스 종료" in discord.accepted[-1]["content"], "summary"
    )
    parts = discord.accepted[:-1]
    assert len(parts) > 1 and discord.rejected == []
    description = "".join(e.get("description", "") for p in parts for e in p.get("embeds", []))
    positions = [description.index(f"종목{i:04d}({i:06d})") for i in range(1, 301)]
    assert positions == sorted(positions)
    assert "LG화학(051910)" in description


def test_english_by_setting(discord: FakeDiscord, start_notifier: Start, send: Send) -> None:
    notifier = start_notifier(DISCORD_WEBHOOK_URL=discord.url, NOTIFY_LANGUAGE="en")
    send(ClosedDay(day=date(2026, 3, 1), next_session=date(2026, 3, 3)))
    notifier.wait(lambda: discord.accepted, "message")
    assert discord.accepted[0]["embeds"][0]["title"] == "Market closed"


def test_no_webhook_logs_instead(
    discord: FakeDiscord, start_notifier: Start, send: Send, redis_client: redis.Redis
) -> None:
    buy(send, 7)
    send(ServiceError(service="scheduler", phase="intraday", message="boom"))
    notifier = start_notifier(burst=True)
    assert notifier.service.process.wait(30) == 0
    output = notifier.output()
    # Issue 20: "no DISCORD_WEBHOOK_URL: *** go to this log", its own words taken for a secret.
    assert "DISCORD_WEBHOOK_URL is not set: notifications go to this log" in output
    assert "[매수 시도] 종목7(000007) 현재가 1,000원, 매수를 시도합니다." in output
    assert "[오류 발생] boom" in output
    assert discord.bodies == []
    assert redis_client.llen(KEYS.outbox()) == 0


def test_payloads_outside_the_contract_are_delivered_plainly_and_logged(
    discord: FakeDiscord, start_notifier: Start, send: Send, redis_client: redis.Redis
) -> None:
    old = {
        "event": "buy_attempt",
        "session": "2026-03-02",
        "code": "000008",
        "name": "종목8",
        "price": 1000,
        "qty": 8,  # the field name of old: the contract says quantity
    }
    send(old)
    send({"event": "ledger_exported", "rows": 3})
    send({"event": "closed_day", "day": "yesterday", "next_session": "2026-03-03"})
    send("just text")
    buy(send, 9)
    notifier = start_notifier(DISCORD_WEBHOOK_URL=discord.url)
    notifier.wait(lambda: len(discord.accepted) == 5, "five messages")
    titles = [p["embeds"][0]["title"] for p in discord.accepted]
    assert titles == ["buy_attempt", "ledger_exported", "closed_day", "notification", "매수 시도"]
    fields = {f["name"]: f["value"] for f in discord.accepted[0]["embeds"][0]["fields"]}
    assert (fields["code"], fields["qty"]) == ("000008", "8")
    output = notifier.output()
    assert "buy_attempt does not fit the event contract" in output
    assert "unknown event kind 'ledger_exported'" in output
    assert "closed_day.day: 'yesterday' is not an ISO date" in output


APP_KEY = "PSk3yAppKeyForNotifierTests0123"
APP_SECRET = "s3cr3t-APP-SECRET-for-notifier-tests"
ACCOUNT = "87654321-02"
OTHER_WEBHOOK = "https://discord.com/api/webhooks/999/OtherTokenOtherTokenOtherToken"


def leaks(discord: FakeDiscord) -> list[str]:
    return [
        APP_KEY,
        APP_SECRET,
        ACCOUNT,
        ACCOUNT.replace("-", ""),
        "12345678-01",
        "1234567801",
        "12345678",
        "87654321",
        discord.url,
        WEBHOOK_TOKEN,
        OTHER_WEBHOOK,
        "OtherToken",
        "webhooks/",
    ]


def secret_events(send: Send, discord: FakeDiscord) -> None:
    for_sure = f"{APP_KEY} {APP_SECRET} {ACCOUNT} 8765432102 12345678-01 1234567801"
    send(ServiceError(service="scheduler", phase="intraday", message=for_sure))
    rejected = EVENTS["order_rejected"]
    assert isinstance(rejected, OrderRejected)
    send(replace(rejected, message=discord.url))
    send(
        {
            "event": "account_dump",
            "account": ACCOUNT,
            "nested": [{"url": OTHER_WEBHOOK, "key": APP_KEY}],
            "text": f"posted with {discord.url}?wait=true",
        }
    )


def secret_env(**extra: str) -> dict[str, Any]:
    return {"KIS_APP_KEY": APP_KEY, "KIS_APP_SECRET": APP_SECRET, "KIS_ACCOUNT": ACCOUNT, **extra}


def test_secrets_never_reach_discord(
    discord: FakeDiscord, start_notifier: Start, send: Send
) -> None:
    notifier = start_notifier(DISCORD_WEBHOOK_URL=discord.url, **secret_env())
    secret_events(send, discord)
    notifier.wait(lambda: len(discord.accepted) == 3, "three messages")
    raw = b"\n".join(discord.bodies).decode()
    parsed = "\n".join(json.dumps(json.loads(b), ensure_ascii=False) for b in discord.bodies)
    for secret in leaks(discord):
        assert secret not in raw and secret not in parsed, secret
        assert secret not in notifier.output(), secret
    assert "***" in parsed


def test_secrets_never_reach_the_log(
    discord: FakeDiscord, start_notifier: Start, send: Send
) -> None:
    secret_events(send, discord)
    notifier = start_notifier(burst=True, **secret_env())
    assert notifier.service.process.wait(30) == 0
    output = notifier.output()
    assert output.count("notification:") == 3
    for secret in leaks(discord):
        assert secret not in output, secret


def test_heartbeat_and_clean_stop(
    discord: FakeDiscord, start_notifier: Start, redis_client: redis.Redis
) -> None:
    notifier = start_notifier(DISCORD_WEBHOOK_URL=discord.url)
    notifier.wait(lambda: heartbeats(redis_client, KEYS), "heartbeat")
    [beat] = heartbeats(redis_client, KEYS)
    assert (beat["service"], beat["webhook"], beat["outbox"]) == ("notifier", True, 0)
    assert notifier.terminate() == 0
    assert heartbeats(redis_client, KEYS) == []


def test_bad_configuration_exits_2(redis_url: str, tmp_path: Any) -> None:
    env = service_env(redis_url, NOTIFY_LANGUAGE="fr")
    process = ServiceProcess([sys.executable, "-m", "services.notifier"], env, tmp_path / "log")
    assert process.process.wait(30) == 2
    lines = process.output().strip().splitlines()
    process.stop()
    assert len(lines) == 1 and lines[0].startswith("configuration error: NOTIFY_LANGUAGE")


def test_burst_drains_the_queue_and_the_outbox(
    discord: FakeDiscord, start_notifier: Start, send: Send
) -> None:
    for i in range(1, 4):
        buy(send, i)
    discord.outage = "503"
    down = start_notifier(burst=True, DISCORD_WEBHOOK_URL=discord.url)
    # Discord down: the run ends at the first failure and keeps every message for the next one.
    assert down.service.process.wait(30) == 0
    assert down.outbox() == 3 and discord.accepted == []
    discord.outage = None
    up = start_notifier(burst=True, DISCORD_WEBHOOK_URL=discord.url)
    assert up.service.process.wait(30) == 0
    assert codes(discord) == expected(3)
    assert up.outbox() == 0


def test_notifications_left_on_the_old_rq_queue_are_delivered(
    discord: FakeDiscord, start_notifier: Start, send: Send, redis_client: redis.Redis
) -> None:
    """An upgrade from the version that queued events as RQ jobs loses none of them."""
    old = queue(redis_client, NOTIFY_QUEUE)
    for i in (1, 2):
        attempt = BuyAttempt(date(2026, 3, 2), f"{i:06d}", f"종목{i}", 1000, i)
        old.enqueue(DELIVER, to_payload(attempt))
    notifier = start_notifier(DISCORD_WEBHOOK_URL=discord.url)
    notifier.wait(lambda: len(discord.accepted) == 2, "the old jobs")
    assert codes(discord) == expected(2)
    assert old.count == 0
    assert "moved 2 notifications from the old RQ queue" in notifier.output()


def test_events_queued_before_the_upgrade_keep_their_time(
    discord: FakeDiscord, start_notifier: Start, send: Send, redis_client: redis.Redis
) -> None:
    """The list survives restarts: an entry that says when it was queued as ``at`` (ISO, UTC)
    reads like one that says ``queued_epoch``; each becomes the embed's timestamp."""
    before = BuyAttempt(date(2026, 3, 2), "000001", "종목1", 1000, 1)
    entry = {"id": "before", "at": "2026-03-02T00:05:00+00:00", "event": to_payload(before)}
    redis_client.rpush(KEYS.notify_events(), json.dumps(entry, ensure_ascii=False))
    buy(send, 2)
    [queued] = [json.loads(e) for e in redis_client.lrange(KEYS.notify_events(), 1, 1)]
    up = start_notifier(burst=True, DISCORD_WEBHOOK_URL=discord.url)
    assert up.service.process.wait(30) == 0
    assert codes(discord) == expected(2)
    stamps = [p["embeds"][0]["timestamp"] for p in discord.accepted]
    assert stamps[0] == "2026-03-02T00:05:00+00:00"
    shown = datetime.fromisoformat(stamps[1]).timestamp()
    assert shown == pytest.approx(queued["queued_epoch"], abs=1e-6)


def test_a_deleted_webhook_holds_messages_says_so_once_and_delivers_when_back(
    discord: FakeDiscord, start_notifier: Start, send: Send, redis_client: redis.Redis
) -> None:
    """Discord answers 404 Unknown Webhook for a deleted webhook: nothing is dropped or waited
    on per message; the log says it once, the heartbeat (health, the page) says it with the
    held count, and the messages go out in order once the webhook answers again."""
    discord.deleted = True
    notifier = start_notifier(DISCORD_WEBHOOK_URL=discord.url)
    for i in range(1, 4):
        buy(send, i)

    def problem() -> str:
        beats = heartbeats(redis_client, KEYS)
        return str(beats[0].get("problem") or "") if beats else ""

    notifier.wait(lambda: "3 messages held" in problem(), "the heartbeat naming the problem")
    [beat] = heartbeats(redis_client, KEYS)
    assert beat["healthy"] is False
    assert "webhook not there" in problem() and "Unknown Webhook" in problem()
    assert isinstance(beat["problem_since_epoch"], float)
    assert notifier.outbox() == 3 and discord.accepted == []
    notifier.wait(lambda: discord.looks >= 3, "the webhook looked at again")
    assert notifier.output().count("Unknown Webhook") == 1

    discord.deleted = False
    notifier.wait(lambda: len(discord.accepted) == 3, "delivery once the webhook is back", 30)
    assert codes(discord) == expected(3)
    notifier.wait(lambda: heartbeats(redis_client, KEYS)[0]["healthy"], "healthy again", 15)
    assert "problem" not in heartbeats(redis_client, KEYS)[0]
    assert "Discord webhook answers again" in notifier.output()
