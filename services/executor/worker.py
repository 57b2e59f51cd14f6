"""The worker loop: recover what a previous executor left, then run RQ jobs in this process."""

from __future__ import annotations

import logging
import signal
import threading
import time
from types import FrameType

from services.executor.context import SERVICE, Context
from services.executor.reconcile import Reconciler
from shared.control import HeartbeatThread
from shared.kis.errors import KisError
from shared.queues import ORDER_QUEUES
from shared.redis_client import until_redis_answers, worker_connection
from shared.rq_worker import work_steadily

log = logging.getLogger(__name__)


def recover(ctx: Context) -> None:
    """Settle the orders of today's and the previous session before taking new jobs.

    Orders a killed executor left ``submitting`` are decided once they turn stale (a live
    sibling's in-flight order is left alone until then), so this may wait up to
    ORDER_STALE_SECONDS when there is something to settle.
    """
    today = ctx.clock.now().date()
    sessions = [ctx.calendar.previous_session(today).day, today]
    reconciler = Reconciler(ctx)
    wait = reconciler.wait_seconds(sessions)
    if wait > 0:
        log.info("waiting %.1fs for unsettled orders to become decidable", wait)
        time.sleep(wait)
    for session in sessions:
        try:
            reconciler.reconcile_session(session)
        except KisError as e:
            log.error("could not reconcile %s at start: %s", session, e)


def _stop_now(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def run(ctx: Context, instance: str, *, burst: bool) -> int:
    """Recover, then work the order queues (sells first) until SIGTERM, or until empty in burst.

    A Redis outage of any length is waited out a second at a time, at start and while working
    (docs/ARCHITECTURE.md, 'Redis outages').
    """
    heartbeat = HeartbeatThread(
        ctx.redis, ctx.keys, SERVICE, instance, lambda: {"queues": list(ORDER_QUEUES)}
    )
    heartbeat.start()
    # Until RQ installs its own handlers (warm stop: finish the current job), stop at once.
    signal.signal(signal.SIGTERM, _stop_now)
    try:
        until_redis_answers(lambda: recover(ctx), threading.Event(), "recovery at start")
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
