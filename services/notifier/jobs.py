"""The notification queue's job: read, format, scrub and split one event, then queue it for Discord.

The payload is read back into its typed event (``shared.events.from_payload``); one that does
not fit the contract is logged and still delivered as a plain message, never dropped.

The job never talks to Discord: it appends to the outbox (or logs, without a webhook) and
returns, so a Discord outage cannot pile up failed jobs or reorder messages.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from rq import get_current_job

from services.notifier.context import current
from services.notifier.format import as_text, render
from services.notifier.limits import Payload, fit
from services.notifier.scrub import Scrubber
from services.notifier.texts import Language
from shared.events import KIND_FIELD, Event

log = logging.getLogger(__name__)


def messages(
    event: Event | Mapping[str, Any],
    language: Language,
    scrubber: Scrubber,
    at: datetime | None = None,
) -> list[Payload]:
    """The sendable messages of ``event``: scrubbed, split within Discord's limits, in order.

    Scrubbed before splitting, so no secret is cut in two where the scrubber cannot see it,
    and again after, because a cut inside a long number can leave an account-shaped piece.
    """
    return [
        scrubber.payload(part)
        for payload in render(event, language, at)
        for part in fit(scrubber.payload(payload))
    ]


def deliver(event: Any) -> int:
    """RQ job ``services.notifier.jobs.deliver``: how many messages the event's payload became."""
    ctx = current()
    if not isinstance(event, Mapping):
        event = {KIND_FIELD: "notification", "value": event}
    job = get_current_job()
    at = job.enqueued_at if job is not None else None
    if ctx.outbox is None:
        # No webhook: the log is the channel (scrubbed like a message, one entry per event).
        for payload in render(event, ctx.language, at):
            log.info("notification:\n%s", as_text(ctx.scrubber.payload(payload)))
        return 0
    payloads = messages(event, ctx.language, ctx.scrubber, at)
    ctx.outbox.push(payloads)
    ctx.wake.set()
    return len(payloads)
