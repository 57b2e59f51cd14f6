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


def test_outage_is_temporary_and_names_no_url(discord: FakeDiscord) -> None:
    discord.outage = "503"
    answer = Webhook(discord.url).post({"content": "x"})
    assert answer.outcome is Outcome.FAILED
    assert "HTTP 503" in answer.detail
    assert "webhooks" not in answer.detail


def test_no_connection_is_temporary(discord: FakeDiscord) -> None:
    """Nothing listens: the request never left, so it may be sent again."""
    discord.go_down()
    answer = Webhook(discord.url).post({"content": "x"})
    assert answer.outcome is Outcome.FAILED
    assert answer.detail == "ConnectionError"


@pytest.mark.parametrize("outage", ["drop", "lost"])
def test_an_answer_that_never_comes_is_unconfirmed(discord: FakeDiscord, outage: str) -> None:
    """The request went out and no answer came back: Discord may have posted it."""
    if outage == "drop":
        discord.outage = "drop"
    else:
        discord.lose_answers = 1
    answer = Webhook(discord.url).post({"content": "x"})
    assert answer.outcome is Outcome.UNCONFIRMED
    assert answer.detail == "ConnectionError"
    assert len(discord.bodies) == 1


def test_unknown_webhook_is_gone(discord: FakeDiscord) -> None:
    """404 Unknown Webhook (deleted, or a wrong token): no message can go until it is fixed."""
    answer = Webhook(discord.url + "x").post({"content": "x"})
    assert answer.outcome is Outcome.GONE
    assert "Unknown Webhook" in answer.detail
    assert Webhook(discord.url + "x").probe().outcome is Outcome.GONE


def test_a_request_that_cannot_be_built_was_never_sent() -> None:
    answer = Webhook("not-a-url").post({"content": "x"})
    assert answer.outcome is Outcome.FAILED
    assert answer.detail == "MissingSchema"
