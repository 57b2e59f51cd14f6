"""One event as the Discord messages it becomes: formatted, scrubbed, split to the limits.

Pure: the intake (``intake.py``) calls it for the head of the event list. A payload that does
not fit the contract is logged and still shown as a plain message, never dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.notifier.format import render
from services.notifier.limits import Payload, fit
from services.notifier.scrub import Scrubber
from services.notifier.texts import Language, Texts
from shared.messaging.events import Event

SUMMARY_CHARACTERS = 300
"""Longest quote of a message in the notice that Discord did not confirm it."""


def messages(
    event: Event | Mapping[str, Any],
    language: Language,
    scrubber: Scrubber,
    queued_epoch: float | None = None,
    label: str | None = None,
) -> list[Payload]:
    """The sendable messages of ``event``: scrubbed, split within Discord's limits, in order;
    each opens with ``label`` when given (``DRY RUN`` in a dry run).

    Scrubbed before splitting, so no secret is cut in two where the scrubber cannot see it,
    and again after, because a cut inside a long number can leave an account-shaped piece.
    """
    return [
        scrubber.payload(part)
        for payload in render(event, language, queued_epoch, label)
        for part in fit(scrubber.payload(payload))
    ]


def summary(payload: Any) -> str:
    """A message's first words (its content line, else its first embed's title), for logs."""
    if not isinstance(payload, dict):
        return repr(payload)[:SUMMARY_CHARACTERS]
    text = str(payload.get("content") or "")
    embeds = payload.get("embeds") or [{}]
    if not text and isinstance(embeds[0], dict):
        text = str(embeds[0].get("title") or "")
    return text[:SUMMARY_CHARACTERS]


def unconfirmed_notice(payload: Any, detail: str, language: Language) -> Payload:
    """The message that tells the user Discord may have missed ``payload`` (it is not resent).

    See docs/ARCHITECTURE.md, 'Notifications': webhooks have no idempotency key, so a message
    whose answer was lost is reported instead of posted a second time.
    """
    content = Texts(language)("unconfirmed.text", detail=detail, summary=summary(payload))
    return {"content": content[:2000], "allowed_mentions": {"parse": []}}


def is_notice(payload: Any) -> bool:
    """True for a notice made by :func:`unconfirmed_notice` (no notice about a notice)."""
    return isinstance(payload, dict) and str(payload.get("content") or "").startswith("⚠️")
