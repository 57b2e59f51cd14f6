"""The worker loop: recover what a previous executor left, then run RQ jobs in this process."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from types import FrameType

import redis
from rq import SimpleWorker

from services.executor.context import SERVICE, Context
from services.executor.reconcile import Reconciler
from shared.control import beat
from shared.kis.errors import KisError
from shared.queues import ORDER_QUEUES, SERIALIZER, queue

log = logging.getLogger(__name__)

HEARTBEAT_INTERVAL_SECONDS = 10.0
"""Real seconds between heartbeats (they expire after 30 s)."""


class Heartbeat:
    """Beats from a daemon thread, so a long job or a blocking dequeue never looks like death."""

    def __init__(self, ctx: Context, instance: str) -> None:
        self._ctx = ctx
        self.instance = instance
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def start(self) -> None:
        self.beat()
        self._thread.start()

    def beat(self) -> None:
        try:
            beat(
                self._ctx.redis,
                self._ctx.keys,
                SERVICE,
                self.instance,
                pid=os.getpid(),
                queues=list(ORDER_QUEUES),
            )
        except redis.RedisError as e:
            log.warning("heartbeat not written: %s", e)

    def stop(self) -> None:
        """Stop beating and remove the heartbeat: a clean stop is not a death."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        try:
            self._ctx.redis.delete(self._ctx.keys.heartbeat(SERVICE, self.instance))
        except redis.RedisError as e:
            log.warning("heartbeat not removed: %s", e)

    def _run(self) -> None:
        while not self._stop.wait(HEARTBEAT_INTERVAL_SECONDS):
            self.beat()


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
    """Recover, then work the order queues (sells first) until SIGTERM, or until empty in burst."""
    heartbeat = Heartbeat(ctx, instance)
    heartbeat.start()
    # Until RQ installs its own handlers (warm stop: finish the current job), stop at once.
    signal.signal(signal.SIGTERM, _stop_now)
    try:
        recover(ctx)
        queues = [queue(ctx.redis, name) for name in ORDER_QUEUES]
        worker = SimpleWorker(queues, connection=ctx.redis, name=instance, serializer=SERIALIZER)
        log.info("executor %s working on %s (burst=%s)", instance, ", ".join(ORDER_QUEUES), burst)
        worker.work(burst=burst, logging_level=ctx.settings.log_level)
    finally:
        heartbeat.stop()
    log.info("executor %s stopped", instance)
    return 0
