"""What RQ holds: job counts per queue and registry, the workers and their jobs, recent failures."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import redis
from rq import Queue, Worker
from rq.exceptions import DeserializationError, NoSuchJobError
from rq.job import Job
from rq.registry import (
    BaseRegistry,
    DeferredJobRegistry,
    FailedJobRegistry,
    FinishedJobRegistry,
    ScheduledJobRegistry,
    StartedJobRegistry,
)

from shared.messaging.queues import ALL_QUEUES, SERIALIZER

log = logging.getLogger(__name__)

STATES = ("queued", "started", "scheduled", "deferred", "failed", "finished")
"""The job counts given for every queue."""
REGISTRIES: dict[str, type[BaseRegistry]] = {
    "started": StartedJobRegistry,
    "scheduled": ScheduledJobRegistry,
    "deferred": DeferredJobRegistry,
    "failed": FailedJobRegistry,
    "finished": FinishedJobRegistry,
}
"""RQ's registry class for every state but ``queued`` (the queue's own list)."""
LATEST_FAILURES = 10
"""How many failed jobs ``/queues`` lists, newest first."""


def counts(client: redis.Redis, name: str) -> dict[str, int]:
    """Jobs of queue ``name`` in each state.

    ``cleanup=False``: RQ's cleanup moves expired jobs between registries, and the API only reads.
    """
    found = {"queued": Queue(name, connection=client, serializer=SERIALIZER).count}
    for state, registry in REGISTRIES.items():
        found[state] = registry(name, connection=client, serializer=SERIALIZER).get_job_count(
            cleanup=False
        )
    return found


def workers(client: redis.Redis) -> list[dict[str, Any]]:
    """Every registered RQ worker with its state and the job it is running, if any."""
    found = []
    for worker in Worker.all(connection=client, serializer=SERIALIZER):
        job_id = worker.get_current_job_id()
        current = None
        if job_id is not None:
            current = {"id": job_id, "description": None, "func": None}
            try:
                job = Job.fetch(job_id, connection=client, serializer=SERIALIZER)
            except NoSuchJobError:
                job = None
            if job is not None:
                current.update(description=job.description, func=_func_name(job))
        found.append(
            {
                "name": worker.name,
                "hostname": worker.hostname,
                "pid": worker.pid,
                "state": str(worker.get_state()),
                "queues": worker.queue_names(),
                "current_job": current,
                "last_heartbeat_epoch": _epoch(worker.last_heartbeat),
                "successful_jobs": worker.successful_job_count,
                "failed_jobs": worker.failed_job_count,
            }
        )
    return sorted(found, key=lambda w: str(w["name"]))


def failures(client: redis.Redis, limit: int = LATEST_FAILURES) -> list[dict[str, Any]]:
    """The latest failed jobs of every queue, newest first, each with the last line of its error."""
    found = []
    for name in ALL_QUEUES:
        registry = FailedJobRegistry(name, connection=client, serializer=SERIALIZER)
        # Scored by expiry (failure time + failure_ttl): the highest scores failed last.
        ids = registry.get_job_ids(0, limit - 1, desc=True, cleanup=False)
        for job in Job.fetch_many(ids, connection=client, serializer=SERIALIZER):
            if job is None:
                continue
            found.append(
                {
                    "id": job.id,
                    "queue": name,
                    "func": _func_name(job),
                    "description": job.description,
                    "enqueued_epoch": _epoch(job.enqueued_at),
                    "ended_epoch": _epoch(job.ended_at),
                    "error": _last_line(_error_text(job)),
                }
            )
    found.sort(key=lambda f: f["ended_epoch"] or 0.0, reverse=True)
    return found[:limit]


def overview(client: redis.Redis) -> dict[str, Any]:
    return {
        "queues": [{"name": name, **counts(client, name)} for name in ALL_QUEUES],
        "workers": workers(client),
        "failures": failures(client),
    }


def _func_name(job: Job) -> str | None:
    # Only JSON-serialized jobs are decoded: the API never unpickles what it finds in Redis.
    try:
        return job.func_name
    except DeserializationError:
        return None


def _error_text(job: Job) -> str:
    try:
        result = job.latest_result()
    except Exception as e:  # a result written by another serializer must not break the page
        log.debug("result of job %s unreadable: %s", job.id, e)
        result = None
    if result is not None and result.exc_string:
        return str(result.exc_string)
    # Jobs failed before RQ kept results (or whose result expired) still carry exc_info.
    return str(getattr(job, "_exc_info", None) or "")


def _last_line(traceback: str) -> str | None:
    lines = [line.strip() for line in traceback.strip().splitlines() if line.strip()]
    return lines[-1] if lines else None


def _epoch(moment: datetime | None) -> float | None:
    """One of RQ's times (real, naive UTC) in Unix seconds."""
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
