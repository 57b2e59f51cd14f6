"""One POST against the fake Discord: what each kind of answer means for the sender."""

from __future__ import annotations

import pytest

from services.notifier.delivery import Outcome, Webhook
from tests.notifier.fake_discord import FakeDiscord


def test_accepted_message_and_bucket_headers(discord: FakeDiscord) -> None:
    hook = Webhook(discord.url)
    answers = [hook.post({"content": f"m{i}"}) for i in range(5)]
    assert [a.outcome for a in answers] == [Outcome.SENT] * 5
    # The fifth request emptied the bucket: wait for it to refill before the next one.
    assert answers[3].wait == 0
    assert 0 < answers[4].wait <= 1.0
    assert [m["content"] for m in discord.accepted] == [f"m{i}" for i in range(5)]


def test_429_says_how_long_to_wait(discord: FakeDiscord) -> None:
    discord.rate_headers = False
    hook = Webhook(discord.url)
    for i in range(5):
        hook.post({"content": str(i)})
    answer = hook.post({"content": "too many"})
    assert answer.outcome is Outcome.LIMITED
    assert 0 < answer.wait <= 1.0
    assert "rate limited" in answer.detail
    assert discord.limited == 1


def test_invalid_payload_is_rejected_for_good(discord: FakeDiscord) -> None:
    answer = Webhook(discord.url).post({"content": "x" * 2001})
    assert answer.outcome is Outcome.REJECTED
    assert "HTTP 400 Invalid Form Body code 50035" in answer.detail
    assert "2000 or fewer" in answer.detail


@pytest.mark.parametrize(("outage", "detail"), [("503", "HTTP 503"), ("drop", "ConnectionError")])
def test_outage_is_temporary_and_names_no_url(
    discord: FakeDiscord, outage: str, detail: str
) -> None:
    discord.outage = outage
    answer = Webhook(discord.url).post({"content": "x"})
    assert answer.outcome is Outcome.FAILED
    assert detail in answer.detail
    assert "webhooks" not in answer.detail


def test_unknown_webhook_is_rejected(discord: FakeDiscord) -> None:
    answer = Webhook(discord.url + "x").post({"content": "x"})
    assert answer.outcome is Outcome.REJECTED
    assert "Unknown Webhook" in answer.detail
