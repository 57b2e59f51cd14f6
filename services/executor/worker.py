"""The worker loop: settle what a previous executor left, and run RQ jobs in this process."""

from __future__ import annotations

import logging
import threading
import time
from datetime import date
from functools import partial

from services.executor.context import SERVICE, Context
from services.executor.reconcile import Reconciler
from shared.infra.redis_client import until_redis_answers, worker_connection
from shared.kis.errors import KisError
from shared.kis.reachability import outage_health, read_outage
from shared.messaging.queues import ORDER_QUEUES, enqueue_reconcile
from shared.messaging.rq_worker import work_steadily
from shared.state.control import HeartbeatThread

log = logging.getLogger(__name__)

SETTLE_MARGIN_SECONDS = 0.2
"""Past the moment the last unsettled order turns decidable, so its reconciliation finds it so."""


def sessions_to_recover(ctx: Context) -> list[date]:
    """The previous session and today: what a killed executor may have left unsettled."""
    today = ctx.clock.now().date()
    return [ctx.calendar.previous_session(today).day, today]


def recover(ctx: Context, sessions: list[date]) -> float:
    """Settle what a previous executor left that can be decided now; seconds until the rest can.

    An order a killed executor left ``submitting`` is decided only once it turns stale (a live
    sibling's in-flight order looks the same until then), and a lost answer's absence only after
    the grace: those wait, other orders need not (docs/ARCHITECTURE.md, 'Recovery at start').
    """
    reconciler = Reconciler(ctx)
    for session in sessions:
        try:
            reconciler.reconcile_session(session)
        except KisError as e:
            log.error("could not reconcile %s at start: %s", session, e)
    return reconciler.wait_seconds(sessions)


def settle_left_orders(ctx: Context, *, burst: bool) -> None:
    """Settle what a previous executor left before working: what can be decided now, at once.

    The rest waits for its moment without holding up new orders: a reconciliation is queued for
    then. A burst, which drains the queues and exits, waits for that moment itself.
    """
    sessions = sessions_to_recover(ctx)
    no_stop = threading.Event()
    wait = until_redis_answers(lambda: recover(ctx, sessions), no_stop, "recovery at start") or 0
    if wait <= 0:
        return
    if burst:
        log.info("waiting %.1fs for unsettled orders to become decidable", wait)
        time.sleep(wait)
        until_redis_answers(lambda: recover(ctx, sessions), no_stop, "recovery at start")
        return
    log.info("unsettled orders become decidable in %.1fs; taking new orders meanwhile", wait)
    threading.Thread(
        target=queue_reconciliations,
        args=(ctx, sessions, wait + SETTLE_MARGIN_SECONDS),
        name="settle-later",
        daemon=True,
    ).start()


def queue_reconciliations(ctx: Context, sessions: list[date], after_seconds: float) -> None:
    """After ``after_seconds``, queue a reconciliation of each of ``sessions`` for the workers."""
    time.sleep(after_seconds)
    for session in sessions:
        enqueue = partial(enqueue_reconcile, ctx.redis, session.isoformat(), why="after a restart")
        until_redis_answers(enqueue, threading.Event(), "reconciliation after a restart")


def run(ctx: Context, instance: str, *, burst: bool) -> int:
    """Recover, then work the order queues (sells first) until SIGTERM, or until empty in burst.

    The caller stops the process at once on a signal until RQ's worker installs its own
    handlers (a warm stop: the job in hand is finished).

    A Redis outage of any length is waited out a second at a time, at start and while working
    (docs/ARCHITECTURE.md, 'Redis outages').
    """
    outage_key = ctx.keys.kis_outage(ctx.settings.kis_env)
    heartbeat = HeartbeatThread(
        ctx.redis,
        ctx.keys,
        SERVICE,
        instance,
        lambda: {
            "queues": list(ORDER_QUEUES),
            **outage_health(read_outage(ctx.redis, outage_key)),
        },
    )
    heartbeat.start()
    try:
        settle_left_orders(ctx, burst=burst)
        log.info("executor %s working on %s (burst=%s)", instance, ", ".join(ORDER_QUEUES), burst)
        work_steadily(
            worker_connection(ctx.settings.redis_url),
            ORDER_QUEUES,
            instance,
            burst=burst,
            logging_level=ctx.settings.log_level,
        )
    finally:
        heartbeat.stop()
    log.info("executor %s stopped", instance)
    return 0
