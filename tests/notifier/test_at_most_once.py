"""Each message is posted at most once, even when Discord's answer is slow or never comes.

Issue 11: Discord accepted a message but answered after 10 s (our read timeout), and the same
message was posted 5 times. A webhook execution has no idempotency key, so a message whose
answer is lost is reported instead of posted again (docs/ARCHITECTURE.md, 'Notifications').
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from collections.abc import Callable
from datetime import date

import pytest
import redis

from services.notifier.outbox import LOCK_SECONDS
from shared.messaging.events import BuyAttempt
from shared.state.control import heartbeats
from tests.notifier.conftest import CODE, KEYS, Notifier
from tests.notifier.fake_discord import FakeDiscord

pytestmark = pytest.mark.slow

Send = Callable[..., None]
Start = Callable[..., Notifier]


def buy(send: Send, i: int) -> None:
    send(
        BuyAttempt(session=date(2026, 3, 3), code=f"{i:06d}", name=f"종목{i}", price=1, quantity=i)
    )


def posted(discord: FakeDiscord) -> list[str]:
    """The codes of the buy attempts Discord took, in order (notices quote them: left out)."""
    return [m[1] for m in (CODE.search(p) for p in contents(discord) if "⚠️" not in p) if m]


def contents(discord: FakeDiscord) -> list[str]:
    return [str(p.get("content") or "") for p in discord.accepted]


def notices(discord: FakeDiscord) -> list[str]:
    return [text for text in contents(discord) if text.startswith("⚠️")]


def test_a_slow_answer_is_waited_for_and_the_message_posted_once(
    discord: FakeDiscord, start_notifier: Start, send: Send
) -> None:
    discord.answer_delay = 10.5
    notifier = start_notifier(DISCORD_WEBHOOK_URL=discord.url)
    buy(send, 1)
    buy(send, 2)
    notifier.wait(lambda: notifier.outbox() == 0 and len(discord.accepted) >= 2, "both", 60)
    assert posted(discord) == ["000001", "000002"]
    assert len(discord.bodies) == 2
    assert notices(discord) == []


def test_a_lost_answer_is_reported_and_never_posted_again(
    discord: FakeDiscord, start_notifier: Start, send: Send, redis_client: redis.Redis
) -> None:
    discord.lose_answers = 1
    notifier = start_notifier(DISCORD_WEBHOOK_URL=discord.url, NOTIFY_LANGUAGE="en")
    for i in range(1, 4):
        buy(send, i)
    notifier.wait(lambda: notifier.outbox() == 0 and len(posted(discord)) >= 3, "three", 30)
    assert posted(discord) == ["000001", "000002", "000003"]
    assert len(discord.bodies) == 4  # three messages and the notice; nothing twice
    [notice] = notices(discord)
    assert "did not say whether it posted" in notice and "[Buy attempt]" in notice
    assert "(000001)" in notice
    # The notice comes right after the message it is about.
    assert str(discord.accepted[1]["content"]).startswith("⚠️")
    [record] = redis_client.lrange(KEYS.notify_unconfirmed(), 0, -1)
    assert b"no answer from Discord" in record and b"000001" in record
    assert "Discord did not confirm a message" in notifier.output()
    notifier.wait(
        lambda: [b["unconfirmed"] for b in heartbeats(redis_client, KEYS)] == [1], "heartbeat"
    )


def test_a_notifier_killed_mid_post_does_not_post_twice(
    discord: FakeDiscord, start_notifier: Start, send: Send
) -> None:
    discord.answer_delay = 5.0
    first = start_notifier(DISCORD_WEBHOOK_URL=discord.url)
    buy(send, 1)
    first.wait(lambda: len(discord.accepted) == 1, "posted, answer pending")
    os.kill(first.service.process.pid, signal.SIGKILL)
    first.service.process.wait(10)
    discord.answer_delay = 0.0
    buy(send, 2)
    second = start_notifier(DISCORD_WEBHOOK_URL=discord.url)
    # The dead sender's lock lapses first, then its message in flight is reported, not resent.
    second.wait(lambda: len(posted(discord)) >= 2, "the next message", LOCK_SECONDS + 20)
    assert Counter(posted(discord)) == {"000001": 1, "000002": 1}
    assert len(notices(discord)) == 1
    assert "the notifier stopped while posting it" in second.output()


def test_a_second_copy_of_an_event_is_dropped(
    discord: FakeDiscord, start_notifier: Start, send: Send, redis_client: redis.Redis
) -> None:
    """A producer's RPUSH retried after its reply was lost may land twice: shown once."""
    buy(send, 1)
    [entry] = redis_client.lrange(KEYS.notify_events(), 0, -1)
    redis_client.rpush(KEYS.notify_events(), entry)
    buy(send, 2)
    notifier = start_notifier(DISCORD_WEBHOOK_URL=discord.url)
    notifier.wait(lambda: len(posted(discord)) >= 2, "both events")
    assert posted(discord) == ["000001", "000002"]
    assert "dropped a second copy of event" in notifier.output()


def test_an_outage_that_swallows_requests_costs_one_message_not_the_outbox(
    discord: FakeDiscord, start_notifier: Start, send: Send, redis_client: redis.Redis
) -> None:
    """Found by the chaos run: while Discord read requests and never answered, the notifier
    gave up on every message of the outbox within milliseconds (24 in 70 ms). After one lost
    answer it now asks Discord whether it is there (a GET of the webhook, which posts nothing)
    before it posts the next message."""
    discord.outage = "drop"
    notifier = start_notifier(DISCORD_WEBHOOK_URL=discord.url, NOTIFY_LANGUAGE="en")
    for i in range(1, 11):
        buy(send, i)
    notifier.wait(lambda: discord.looks >= 3, "three probes swallowed", 30)
    discord.outage = None
    notifier.wait(lambda: notifier.outbox() == 0 and len(posted(discord)) >= 9, "the rest", 60)

    assert posted(discord) == [f"{i:06d}" for i in range(2, 11)]
    assert redis_client.llen(KEYS.notify_unconfirmed()) == 1
    [notice] = notices(discord)
    assert "(000001)" in notice
    assert discord.failed == 1  # one message swallowed; the probes found Discord away
