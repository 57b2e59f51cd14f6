"""The read-only answers kept for a second, so many clients cost one set of Redis reads.

See docs/ARCHITECTURE.md, 'Status API'. Fifty clients polling ``/status`` each made the API
read Redis and build the answer fifty times (p99 0.6 to 1 s on this machine,
docs/benchmarks.md); every one now gets the answer the first of them caused, no older than
``STATUS_API_CACHE_SECONDS`` (1 s). One request per path and query string builds an answer at a
time, the others wait for it. A control request of this process clears everything kept, so a
pause is shown by the next read; a change made elsewhere (``kat``, the scheduler) shows within
the second.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Response, request

MAX_KEPT = 256
"""Most answers kept at once (each path and query string is its own)."""
BUILD_LOCKS = 16
"""Locks that let one request per key build its answer (keys share them by hash)."""


@dataclass(frozen=True)
class _Kept:
    until: float
    body: bytes
    status: int
    content_type: str


class ReadCache:
    """Answers by path and query string, each kept for ``seconds`` of real time (0: none)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._kept: dict[str, _Kept] = {}
        self._lock = threading.Lock()
        self._building = [threading.Lock() for _ in range(BUILD_LOCKS)]

    def answer(self, make: Callable[[], Response]) -> Response:
        """The kept answer to this request, else ``make()``'s, kept when it is a 200."""
        key = request.full_path
        with self._building[hash(key) % BUILD_LOCKS]:
            kept = self._kept.get(key)
            if kept is not None and kept.until > time.monotonic():
                return Response(kept.body, status=kept.status, content_type=kept.content_type)
            response = make()
            if response.status_code == 200 and self.seconds > 0:
                until = time.monotonic() + self.seconds
                self._keep(key, _Kept(until, response.get_data(), 200, response.content_type))
            return response

    def clear(self) -> None:
        """Forget every answer (a control request changed what they show)."""
        with self._lock:
            self._kept.clear()

    def _keep(self, key: str, kept: _Kept) -> None:
        with self._lock:
            now = time.monotonic()
            for old in [k for k, v in self._kept.items() if v.until <= now]:
                del self._kept[old]
            if len(self._kept) < MAX_KEPT:
                self._kept[key] = kept
