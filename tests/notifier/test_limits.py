"""Discord's limits are met by splitting, and nothing is lost or reordered on the way."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from services.notifier.format import render
from services.notifier.limits import fit, split_text
from services.notifier.messages import messages
from services.notifier.scrub import Scrubber
from shared.messaging.events import DailySummary, HeldPosition
from tests.notifier.fake_discord import validate
from tests.notifier.samples import EVENTS, trade


def descriptions(payloads: list[dict[str, Any]]) -> str:
    return "".join(e.get("description", "") for p in payloads for e in p.get("embeds", []))


@pytest.mark.parametrize("limit", [1, 7, 100])
def test_split_text_is_lossless_and_prefers_line_ends(limit: int) -> None:
    text = "\n".join(f"line {i} " + "word " * (i % 13) for i in range(200))
    parts = split_text(text, limit)
    assert "".join(parts) == text
    assert all(0 < len(p) <= limit for p in parts)
    if limit == 100:
        assert all(p.endswith("\n") for p in parts[:-1])


def test_split_text_cuts_a_line_without_spaces() -> None:
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]
    assert split_text("", 10) == [""]


def test_long_daily_summary_becomes_several_valid_messages() -> None:
    reasons = ["take_profit", "stop_loss", "expiry"]
    summary = EVENTS["daily_summary"]
    assert isinstance(summary, DailySummary)
    event = replace(
        summary,
        realized=tuple(trade(i, reasons[i % 3], 1000 * (i - 200)) for i in range(400)),
        positions=tuple(
            HeldPosition(
                code=f"{i:06d}",
                name=f"보유{i}",
                quantity=i,
                average_price=Decimal(1000),
                buy_session=date(2026, 3, 2),
            )
            for i in range(300)
        ),
    )
    [whole] = render(event, "ko")
    sent = messages(event, "ko", Scrubber())
    assert len(sent) > 1
    for payload in sent:
        assert validate(payload) == []
    # Nothing lost, nothing reordered: the pieces join back into the original text.
    assert descriptions(sent) == whole["embeds"][0]["description"]
    assert sent[0]["content"] == whole["content"]
    names = [f["name"] for p in sent for e in p.get("embeds", []) for f in e.get("fields", [])]
    assert names == [f["name"] for f in whole["embeds"][0]["fields"]]
    last = descriptions(sent).index("보유299")
    assert all(descriptions(sent).index(f"종목{i:04d}") < last for i in range(400))


def test_long_content_is_split_before_the_embeds() -> None:
    content = "\n".join(f"{i:05d} " + "가" * 50 for i in range(100))
    sent = fit({"content": content, "embeds": [{"title": "t", "description": "d"}]})
    assert [len(p["content"]) <= 2000 for p in sent] == [True] * len(sent)
    assert "".join(p["content"] for p in sent) == content
    assert "embeds" in sent[-1] and all("embeds" not in p for p in sent[:-1])


def test_many_and_long_fields() -> None:
    fields = [{"name": f"n{i}", "value": "v" * 700 + "\n" + "w" * 700} for i in range(40)]
    embed = {"title": "T" * 300, "description": "d", "fields": fields, "footer": {"text": "f"}}
    sent = fit({"embeds": [embed]})
    for payload in sent:
        assert validate(payload) == []
    embeds = [e for p in sent for e in p["embeds"]]
    assert embeds[0]["title"] == "T" * 256
    assert embeds[0]["description"] == "T" * 44 + "d"
    got = [f for e in embeds for f in e.get("fields", [])]
    for i in range(40):
        parts = [f for f in got if f["name"].startswith(f"n{i} (")]
        assert [f["name"] for f in parts] == [f"n{i} (1/2)", f"n{i} (2/2)"]
        assert "".join(f["value"] for f in parts) == fields[i]["value"]
    assert embeds[-1]["footer"] == {"text": "f"}


def test_eleven_embeds_take_two_messages() -> None:
    sent = fit({"content": "hi", "embeds": [{"title": str(i)} for i in range(11)]})
    assert [len(p.get("embeds", [])) for p in sent] == [10, 1]
    assert sent[0]["content"] == "hi" and "content" not in sent[1]


def test_long_footer_and_author_are_kept() -> None:
    embed = {"author": {"name": "a" * 300}, "footer": {"text": "f " * 2000}, "color": 1}
    sent = fit({"embeds": [embed]})
    embeds = [e for p in sent for e in p["embeds"]]
    assert all(validate(p) == [] for p in sent)
    assert "".join(e["footer"]["text"] for e in embeds if "footer" in e) == "f " * 2000
    assert embeds[0]["author"]["name"] + embeds[0]["description"] == "a" * 300
    assert all(e["color"] == 1 for e in embeds)


def test_random_payloads_always_fit() -> None:
    rng = random.Random(7)  # noqa: S311 - test data, not cryptography

    def text(most: int) -> str:
        words = [rng.choice(["가나다", "word", "\n", "x" * rng.randint(1, 300)]) for _ in range(50)]
        return "".join(words)[: rng.randint(0, most)]

    for _ in range(200):
        embeds = [
            {
                "title": text(400),
                "description": text(9000),
                "fields": [
                    {"name": text(400) or "n", "value": text(3000) or "v"}
                    for _ in range(rng.randint(0, 40))
                ],
                "footer": {"text": text(3000)},
            }
            for _ in range(rng.randint(0, 12))
        ]
        payload = {"content": text(5000), "embeds": embeds}
        sent = fit(payload)
        for message in sent:
            assert validate(message) == []
        assert "".join(p.get("content", "") for p in sent) == payload["content"]
