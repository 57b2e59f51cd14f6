"""A clock for driving the scheduler step by step: it moves only when told to."""

from __future__ import annotations

import time
from datetime import datetime, timedelta


class ManualClock:
    """A clock that moves only when told to."""

    speed = 1.0

    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def at_real(self, epoch: float) -> datetime:
        """Real moments map onto the clock at their distance from the real now."""
        return self.current - timedelta(seconds=time.time() - epoch)

    def sleep(self, seconds: float) -> None:
        self.current += timedelta(seconds=max(seconds, 0))

    def sleep_until(self, moment: datetime) -> None:
        self.current = max(self.current, moment)
