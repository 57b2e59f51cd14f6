"""The notifier process: a heartbeat, the outbox sender thread, and an RQ worker for the jobs."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from rq import SimpleWorker

from services.notifier.context import SERVICE, Context
from services.notifier.delivery import READ_TIMEOUT_SECONDS, Webhook
from services.notifier.outbox import LOCK_SECONDS, Outbox, Sender
from shared.control import HeartbeatThread, LeaderLock
from shared.queues import NOTIFY_QUEUE, SERIALIZER, queue

log = logging.getLogger(__name__)

SENDER_LOCK_ROLE = "notifier-outbox"
"""Leader role of the one process that posts the outbox."""


def _state(ctx: Context) -> dict[str, object]:
    outbox = ctx.outbox
    return {
        "queues": [NOTIFY_QUEUE],
        "webhook": outbox is not None,
        "outbox": outbox.size() if outbox is not None else 0,
    }


def _stop_now(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def run(ctx: Context, instance: str, *, burst: bool) -> int:
    """Work the notification queue until SIGTERM (or until empty in burst), sending the outbox."""
    heartbeat = HeartbeatThread(ctx.redis, ctx.keys, SERVICE, instance, lambda: _state(ctx))
    heartbeat.start()
    stop = threading.Event()
    sender: Sender | None = None
    thread: threading.Thread | None = None
    url = ctx.webhook_url
    if ctx.outbox is not None and url is not None:
        lock = LeaderLock(ctx.redis, ctx.keys.leader(SENDER_LOCK_ROLE), instance, LOCK_SECONDS)
        sender = Sender(ctx.outbox, Webhook(url), lock, stop, ctx.wake)
        waiting = ctx.outbox.size()
        if waiting:
            log.info("%d messages from before wait in the outbox; sending them first", waiting)
    else:
        log.info("no DISCORD_WEBHOOK_URL: notifications go to this log")
        left = Outbox(ctx.redis, ctx.keys).size()
        if left:
            log.warning("%d messages wait in the outbox for a webhook to be configured", left)
    # Until RQ installs its own handlers (warm stop: finish the current job), stop at once.
    signal.signal(signal.SIGTERM, _stop_now)
    try:
        if sender is not None and not burst:
            thread = threading.Thread(target=sender.run, name="sender", daemon=True)
            thread.start()
        worker = SimpleWorker(
            [queue(ctx.redis, NOTIFY_QUEUE)],
            connection=ctx.redis,
            name=instance,
            serializer=SERIALIZER,
            # Job arguments are event fields: they stay out of the log.
            log_job_description=False,
        )
        log.info("notifier %s working on %s (burst=%s)", instance, NOTIFY_QUEUE, burst)
        worker.work(burst=burst, logging_level=ctx.settings.log_level)
        if sender is not None and burst:
            # RQ's handler would raise inside the sender; a stop request just ends the drain.
            signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
            sender.run(burst=True)
    finally:
        stop.set()
        ctx.wake.set()
        if thread is not None:
            # A POST in flight ends within its timeout; the outbox keeps what was not sent.
            thread.join(timeout=READ_TIMEOUT_SECONDS + 5)
        heartbeat.stop()
    log.info("notifier %s stopped", instance)
    return 0
