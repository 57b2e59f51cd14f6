"""The notifier process: a heartbeat that tells the truth, and the sender loop.

No RQ worker: events come from the event list (``intake.py``) and leave through the outbox
(``outbox.py``), both handled by one loop in the main thread. The heartbeat thread reports that
loop as healthy only while it keeps turning. See docs/ARCHITECTURE.md, 'Notifications' and
'Redis outages'.
"""

from __future__ import annotations

import logging
import threading
import time

from services.notifier.context import SERVICE, Context
from services.notifier.delivery import CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS, Webhook
from services.notifier.intake import Intake
from services.notifier.outbox import LOCK_SECONDS, Outbox, Sender, WebhookGone
from shared.infra.redis_client import until_redis_answers
from shared.state.control import HeartbeatThread, LeaderLock

log = logging.getLogger(__name__)

SENDER_LOCK_ROLE = "notifier-outbox"
"""Leader role of the one process that takes events in and posts the outbox."""
STALL_SECONDS = CONNECT_TIMEOUT_SECONDS + READ_TIMEOUT_SECONDS + 15
"""A sender loop that has not turned for this long is stuck: the notifier is unhealthy."""


def sender_health(sender: Sender, now: float) -> dict[str, object]:
    """What the heartbeat says about the sender: healthy while its loop turns."""
    idle = now - sender.turned_monotonic
    healthy = idle < STALL_SECONDS
    return {"healthy": healthy, "sender": "running" if healthy else f"stuck for {idle:.0f}s"}


def webhook_health(gone: WebhookGone | None, held: int) -> dict[str, object]:
    """What the heartbeat says while Discord says the webhook is not there: unhealthy, with
    the problem in one line and since when (docs/ARCHITECTURE.md, 'Health')."""
    if gone is None:
        return {}
    return {
        "healthy": False,
        "problem": f"Discord webhook not there ({gone.detail}): {held} messages held",
        "problem_since_epoch": gone.since_epoch,
    }


def _state(ctx: Context, intake: Intake, sender: Sender) -> dict[str, object]:
    outbox = ctx.outbox
    held = outbox.size() if outbox is not None else 0
    health = sender_health(sender, time.monotonic())
    gone = webhook_health(sender.gone, held) if health["healthy"] else {}
    return {
        **health,
        **gone,
        "webhook": outbox is not None,
        "events": intake.size(),
        "outbox": held,
        "unconfirmed": outbox.unconfirmed() if outbox is not None else 0,
    }


def run(ctx: Context, instance: str, stop: threading.Event, *, burst: bool) -> int:
    """Take events in and post them until ``stop`` is set (SIGTERM), or until everything is
    out in burst."""
    label = ctx.settings.mode_label if ctx.settings.dry_run else None
    intake = Intake(ctx.redis, ctx.keys, ctx.language, ctx.scrubber, ctx.outbox, label)
    url = ctx.webhook_url
    webhook = Webhook(url) if url is not None and ctx.outbox is not None else None
    lock = LeaderLock(ctx.redis, ctx.keys.leader(SENDER_LOCK_ROLE), instance, LOCK_SECONDS)
    sender = Sender(intake.take, ctx.outbox, webhook, lock, stop, ctx.language)
    heartbeat = HeartbeatThread(
        ctx.redis, ctx.keys, SERVICE, instance, lambda: _state(ctx, intake, sender)
    )
    heartbeat.start()
    try:
        until_redis_answers(lambda: _greet(ctx, intake), stop, "notifier start")
        log.info("notifier %s working on the event list (burst=%s)", instance, burst)
        sender.run(burst=burst)
    finally:
        heartbeat.stop()
    log.info("notifier %s stopped", instance)
    return 0


def _greet(ctx: Context, intake: Intake) -> None:
    """Say what waits from before, and adopt what the old RQ queue still holds."""
    intake.adopt_queued_jobs()
    if ctx.outbox is None:
        log.info("DISCORD_WEBHOOK_URL is not set: notifications go to this log")
        left = Outbox(ctx.redis, ctx.keys).size()
        if left:
            log.warning("%d messages wait in the outbox for a webhook to be configured", left)
        return
    waiting = ctx.outbox.size() + intake.size()
    if waiting:
        log.info("%d messages and events from before wait; sending them first", waiting)
