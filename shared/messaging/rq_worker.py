"""An RQ worker that rides out a Redis outage of any length and never exits on its own.

RQ's own loop doubles its wait after each failed dequeue up to 60 s, so work resumed up to a
minute after Redis came back; and an error outside the dequeue (maintenance, a heartbeat, the
teardown) ends ``work()`` altogether. Here the wait is capped at a second, and a loop around
``work()`` starts it again until a stop is asked for. See docs/ARCHITECTURE.md, 'Redis outages'.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Any

import redis
from rq import SimpleWorker

from shared.infra.redis_client import OUTAGE_PAUSE_SECONDS
from shared.messaging.queues import SERIALIZER, queue

log = logging.getLogger(__name__)


class SteadyWorker(SimpleWorker):
    """RQ's in-process worker, looking for Redis again every second while it is away."""

    max_connection_wait_time = OUTAGE_PAUSE_SECONDS
    exponential_backoff_factor = 1.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stop_asked = False
        """Set by SIGTERM/SIGINT: the loop ended because someone asked, not because of Redis."""

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        self.stop_asked = True
        super().request_stop(signum, frame)  # type: ignore[no-untyped-call]


def work_steadily(
    connection: redis.Redis,
    queue_names: Sequence[str],
    name: str,
    *,
    burst: bool,
    logging_level: str,
    describe_jobs: bool = True,
    stop: threading.Event | None = None,
) -> None:
    """Work ``queue_names`` as worker ``name`` until SIGTERM (or until empty in ``burst``).

    ``connection`` must be the worker's own (``shared.infra.redis_client.worker_connection``). When
    RQ's loop ends for any other reason than a stop request, the stale registration is cleared
    once Redis answers and a new loop starts under the same name, so jobs keep naming the
    process that heartbeats.
    """
    stop = stop or threading.Event()
    while not stop.is_set():
        worker = SteadyWorker(
            [queue(connection, q) for q in queue_names],
            connection=connection,
            name=name,
            serializer=SERIALIZER,
            log_job_description=describe_jobs,
        )
        try:
            worker.work(burst=burst, logging_level=logging_level)
        except redis.RedisError as e:
            log.warning("worker loop interrupted: Redis unavailable (%s)", e)
        except ValueError as e:
            # register_birth: the previous loop's registration is still there (cleared below).
            log.warning("worker loop not started: %s", e)
        if burst or worker.stop_asked:
            return
        _stop_on_signal(stop)
        log.warning("worker loop ended without a stop request; starting it again")
        _clear_registration(worker, stop)


def _stop_on_signal(stop: threading.Event) -> None:
    """Between two loops RQ's handlers are not ours to rely on: a signal just sets ``stop``."""

    def handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def _clear_registration(worker: SteadyWorker, stop: threading.Event) -> None:
    """Mark the ended loop's worker dead, waiting for Redis a second at a time."""
    while not stop.is_set():
        try:
            worker.register_death()  # type: ignore[no-untyped-call]
            return
        except redis.RedisError as e:
            log.debug("Redis still unavailable (%s)", e)
            stop.wait(OUTAGE_PAUSE_SECONDS)
