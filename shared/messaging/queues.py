"""The queue contract between the scheduler, the executor and the notifier (RQ on Redis).

The scheduler only enqueues; workers execute. Jobs are named by import path so no service
imports another.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Mapping
from typing import Any

import redis
from rq import Queue
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job
from rq.serializers import JSONSerializer

from shared.infra.redis_keys import Keys
from shared.kis.models import Side
from shared.kis.stream_frames import FillNotice, fill_notice_payload

log = logging.getLogger(__name__)

SELL_QUEUE = "orders-sell"
"""Sell orders: the executor listens to it first, so sells go ahead of buys."""
BUY_QUEUE = "orders-buy"
"""Buy orders."""
ORDER_QUEUES = (SELL_QUEUE, BUY_QUEUE)
"""The executor's queues, in priority order."""
NOTIFY_QUEUE = "notifications"
"""The RQ queue notifications took before they got their own list (``enqueue_notification``);
a notifier that starts moves any job still there to the list, in order."""

PLACE_ORDER = "services.executor.jobs.place_order"
"""Job: send one order record to KIS exactly once and follow it to its fills."""
RECONCILE_ORDERS = "services.executor.jobs.reconcile_orders"
"""Job: settle unknown or stale orders and record fills against KIS's daily executions."""
APPLY_FILL_NOTICE = "services.executor.jobs.apply_fill_notice"
"""Job: mark a realtime fill notice's shares on the order record and the ledger at once."""
DELIVER = "services.notifier.jobs.deliver"
"""The job name of a notification on the old RQ queue (see :data:`NOTIFY_QUEUE`)."""

ORDER_JOB_TTL_SECONDS = 600
"""An order job not started within this time is dropped: a stale decision must not trade."""
ORDER_JOB_TIMEOUT_SECONDS = 180
"""Longest an order job may run (bounded HTTP timeouts and fill polling)."""


SERIALIZER = JSONSerializer
"""Jobs are stored as JSON, never pickles; every producer and worker uses it.

See docs/ARCHITECTURE.md, 'Meeting in Redis'.
"""

ALL_QUEUES = (*ORDER_QUEUES, NOTIFY_QUEUE)
"""Every queue of the system, for inspection."""


def queue(client: redis.Redis, name: str) -> Queue:
    """The RQ queue ``name`` with the system's serializer."""
    return Queue(name, connection=client, serializer=SERIALIZER)


def fetch_job(client: redis.Redis, job_id: str) -> Job | None:
    """The RQ job ``job_id`` with the system's serializer, or None."""
    try:
        return Job.fetch(job_id, connection=client, serializer=SERIALIZER)
    except NoSuchJobError:
        return None


def order_queue(side: Side) -> str:
    return SELL_QUEUE if side is Side.SELL else BUY_QUEUE


def enqueue_order(client: redis.Redis, order_id: str, side: Side) -> bool:
    """Queue the job for an order record; False if a job with that id is already there.

    No ``Retry``: RQ re-queues a killed worker's job while it has retries left, which could send
    an order twice. A crashed order is settled by reconciliation instead.
    """
    return _enqueue_once(
        client, order_queue(side), PLACE_ORDER, order_id, order_id, f"place order {order_id}"
    )


def _enqueue_once(
    client: redis.Redis, name: str, function: str, argument: object, job_id: str, what: str
) -> bool:
    """Queue a job on the order path under ``job_id``; False if that id is already there."""
    try:
        queue(client, name).enqueue(
            function,
            argument,
            job_id=job_id,
            unique=True,
            ttl=ORDER_JOB_TTL_SECONDS,
            job_timeout=ORDER_JOB_TIMEOUT_SECONDS,
            result_ttl=86_400,
            failure_ttl=7 * 86_400,
            description=what,
        )
    except DuplicateJobError:
        return False
    return True


def enqueue_reconcile(client: redis.Redis, session_iso: str, why: str = "") -> str:
    """Queue a reconciliation of a session's orders (sell queue: before new buys); its job id."""
    job = queue(client, SELL_QUEUE).enqueue(
        RECONCILE_ORDERS,
        session_iso,
        ttl=ORDER_JOB_TTL_SECONDS,
        job_timeout=ORDER_JOB_TIMEOUT_SECONDS,
        result_ttl=3600,
        failure_ttl=7 * 86_400,
        description=f"reconcile orders of {session_iso}{f' ({why})' if why else ''}",
    )
    return str(job.id)


def enqueue_fill_notice(client: redis.Redis, notice: FillNotice) -> bool:
    """Queue a realtime fill notice for the executor (sell queue: ahead of new buys); False for
    a notice that is not a fill (an order acknowledgement, a refusal) or one already queued.

    The job id is the fill's identity (order number, time, shares, price), so the same notice
    queued twice runs once; the executor counts it once against the daily executions too.
    """
    if not notice.filled or notice.refused or notice.quantity <= 0:
        return False
    job_id = f"fill-notice-{notice.order_no}-{notice.hhmmss}-{notice.quantity}-{notice.price}"
    what = f"fill notice {notice.side} {notice.code} x{notice.quantity}"
    return _enqueue_once(
        client, SELL_QUEUE, APPLY_FILL_NOTICE, fill_notice_payload(notice), job_id, what
    )


def enqueue_notification(
    client: redis.Redis, payload: Mapping[str, Any] | Any, keys: Keys | None = None
) -> None:
    """Append one event payload (see :func:`shared.messaging.events.to_payload`) for the notifier;
    raises.

    One ``RPUSH`` to ``{prefix}notify:events``: a durable list (AOF) that the one notifier
    holding the sender lock formats and posts, in order. Producers call
    :func:`shared.messaging.events.notify`, which builds the payload from a typed event and never
    raises; this is its transport. See docs/ARCHITECTURE.md, 'Notifications'.
    """
    # The id lets the notifier drop a second copy, should a retried RPUSH have landed twice.
    # When it was queued is real time (the message's timestamp on Discord), not the clock's.
    entry = {"id": uuid.uuid4().hex, "queued_epoch": time.time(), "event": payload}
    client.rpush((keys or Keys()).notify_events(), json.dumps(entry, ensure_ascii=False))


def queued_notifications(client: redis.Redis, keys: Keys | None = None) -> list[Any]:
    """The payloads waiting for the notifier, oldest first (for inspection and tests)."""
    raw = client.lrange((keys or Keys()).notify_events(), 0, -1)
    return [json.loads(entry)["event"] for entry in raw]
