"""Wrong API tokens per client: counted in fixed windows, reported once per window, throttled.

See docs/ARCHITECTURE.md, 'Input limits'. Kept in the API process's memory, not in Redis: one
API process serves the control endpoints, a restart forgets at most one window, and a flood of
wrong tokens must not become a flood of Redis writes (nor stop being refused while Redis is down).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

FAILURE_LIMIT = 20
"""Wrong tokens a client may send in one window, unless STATUS_API_FAILURE_LIMIT says otherwise;
the next control request is refused (429)."""
WINDOW_SECONDS = 60.0
"""Length of a counting window, in seconds; a throttled client waits for its window to end."""
MAX_SOURCES = 10_000
"""Clients remembered at once; the oldest windows are forgotten first beyond that."""


@dataclass
class _Window:
    started_monotonic: float
    failures: int = 0


class AuthThrottle:
    """Per client address: wrong tokens in the current window, and whether to refuse it.

    :meth:`failed` records a wrong token and returns a line to log when one is due: the first
    failure of a window (preceded by the last window's total, if it had more than was said), and
    the failure that reaches the limit. Nothing else is logged, however many tokens arrive.
    """

    def __init__(
        self,
        limit: int = FAILURE_LIMIT,
        window_seconds: float = WINDOW_SECONDS,
        now: Callable[[], float] = time.monotonic,
        max_sources: int = MAX_SOURCES,
    ) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self._now = now
        self._max_sources = max_sources
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()

    def retry_after(self, client: str) -> int:
        """Whole seconds until ``client`` may try a token again; 0 when it may now."""
        with self._lock:
            window = self._windows.get(client)
            if window is None or window.failures < self.limit:
                return 0
            left = window.started_monotonic + self.window_seconds - self._now()
            return max(0, math.ceil(left))

    def failed(self, client: str) -> str | None:
        """Record a wrong or missing token from ``client``; the log line due now, if any."""
        with self._lock:
            now = self._now()
            window = self._windows.get(client)
            previous = 0
            if window is not None and now - window.started_monotonic >= self.window_seconds:
                previous = window.failures
                window = None
            if window is None:
                self._make_room(now)
                window = self._windows[client] = _Window(started_monotonic=now)
            window.failures += 1
            return self._report(client, window.failures, previous)

    def sources(self) -> int:
        """How many clients are remembered."""
        with self._lock:
            return len(self._windows)

    def _report(self, client: str, failures: int, previous: int) -> str | None:
        seconds = f"{self.window_seconds:g} s"
        if failures == 1 and previous > 1:
            return (
                f"{client}: {previous} wrong API tokens in the last {seconds};"
                " wrong or missing API token again"
            )
        if failures == 1:
            return f"wrong or missing API token from {client}"
        if failures == self.limit:
            return (
                f"{client}: {failures} wrong API tokens in {seconds};"
                f" control refused (429) for {seconds}"
            )
        return None

    def _make_room(self, now: float) -> None:
        if len(self._windows) < self._max_sources:
            return
        expired = [
            c for c, w in self._windows.items() if now - w.started_monotonic >= self.window_seconds
        ]
        for client in expired:
            del self._windows[client]
        while len(self._windows) >= self._max_sources:
            oldest = min(self._windows, key=lambda c: self._windows[c].started_monotonic)
            del self._windows[oldest]
