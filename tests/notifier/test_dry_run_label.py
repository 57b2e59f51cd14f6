"""A dry run's Discord messages say DRY RUN (docs/ARCHITECTURE.md, 'Dry run')."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from services.notifier.format import render
from services.notifier.messages import messages
from services.notifier.scrub import Scrubber
from shared.infra.settings import DRY_RUN_LABEL
from tests.notifier.conftest import Notifier
from tests.notifier.fake_discord import FakeDiscord
from tests.notifier.samples import EVENTS

DRY = {
    "KIS_ENV": "dryrun",
    "KIS_APP_KEY": "PSnotifierdryrunkey0123456789abcdefgh",
    "KIS_APP_SECRET": "notifier-dryrun-secret-" + "V" * 40,
}


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_every_event_opens_with_the_label(name: str) -> None:
    for payload in messages(EVENTS[name], "ko", Scrubber([]), None, DRY_RUN_LABEL):
        assert payload["content"].startswith("[DRY RUN] ["), payload["content"]
        assert payload["embeds"][0]["title"].startswith("[DRY RUN] ")
    [plain] = render(EVENTS[name], "ko")
    assert "DRY RUN" not in plain["content"]


def test_the_notifier_of_a_dry_run_posts_the_label(
    discord: FakeDiscord, start_notifier: Callable[..., Notifier], send: Callable[..., None]
) -> None:
    notifier = start_notifier(DISCORD_WEBHOOK_URL=discord.url, **DRY)
    send(EVENTS["buy_attempt"])
    send(EVENTS["order_filled"])
    notifier.wait(lambda: len(discord.accepted) == 2, "two messages")
    for payload in discord.accepted:
        assert payload["content"].startswith("[DRY RUN] ["), payload["content"]
