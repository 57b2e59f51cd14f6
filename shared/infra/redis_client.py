"""Redis clients that ride out an outage: short capped retries, no idle timeouts.

Every process builds its clients here, so a Redis that goes away and comes back is met the same
way everywhere. See docs/ARCHITECTURE.md, 'Redis outages'.

- A command that fails to connect or loses its connection is tried again a few times, waiting
  at most :data:`RETRY_CAP_SECONDS` between tries; then the error reaches the caller, whose loop
  goes on (each service's loop waits at most a second before it looks again). So no wait ever
  grows past a second, however long Redis was away, and work resumes within a second of its
  return.
- Pooled connections broken by a restart are replaced on their next use.
- The connection an RQ worker blocks on (:func:`worker_connection`) has no 5 s socket timeout:
  redis-py's default would cut RQ's long blocking dequeue of an idle worker and make RQ log a
  connection error and back off.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TypeVar

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

T = TypeVar("T")

RETRY_BASE_SECONDS = 0.05
"""First wait before a command is tried again after a connection error."""
RETRY_CAP_SECONDS = 1.0
"""Longest wait between two tries of a command."""
RETRIES = 3
"""Tries after the first before the error is raised to the caller's loop."""
SOCKET_TIMEOUT_SECONDS = 5.0
"""Read timeout of an ordinary command (none blocks for long)."""
CONNECT_TIMEOUT_SECONDS = 2.0
"""Seconds to open a connection: a Redis that is away is noticed quickly."""
OUTAGE_PAUSE_SECONDS = 1.0
"""How long a service loop waits after a Redis error before it looks again."""


def capped_retry() -> Retry:
    """A fresh retry policy: a few tries, never more than a second apart."""
    return Retry(
        ExponentialWithJitterBackoff(cap=RETRY_CAP_SECONDS, base=RETRY_BASE_SECONDS), RETRIES
    )


def connect(
    url: str,
    *,
    socket_timeout: float | None = SOCKET_TIMEOUT_SECONDS,
    connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
) -> redis.Redis:
    """A client for ``url`` with the capped retry policy and TCP keepalive."""
    return redis.Redis.from_url(
        url,
        socket_timeout=socket_timeout,
        socket_connect_timeout=connect_timeout,
        socket_keepalive=True,
        retry=capped_retry(),
    )


def worker_connection(url: str) -> redis.Redis:
    """The connection an RQ worker blocks on: its own pool, without a read timeout.

    RQ raises the read timeout of the pool it is given above its dequeue timeout, but only for
    connections made after that; a pool shared with the rest of the process already holds
    connections with the 5 s default, and one of them times out under the blocking dequeue.
    """
    return connect(url, socket_timeout=None)


def until_redis_answers(action: Callable[[], T], stop: threading.Event, what: str) -> T | None:
    """``action()``; while Redis is unavailable, tried again every second (None after ``stop``)."""
    warned = False
    while not stop.is_set():
        try:
            return action()
        except redis.RedisError as e:
            if not warned:
                log.warning("%s: Redis unavailable (%s); trying again every second", what, e)
                warned = True
            stop.wait(OUTAGE_PAUSE_SECONDS)
    return None
