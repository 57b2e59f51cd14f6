"""The one clock every process reads: real KST time or a shared simulated time.

See docs/ARCHITECTURE.md, 'Clock and calendar'.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

from shared.infra.redis_keys import Keys
from shared.infra.settings import Settings

if TYPE_CHECKING:
    from redis import Redis

KST = ZoneInfo("Asia/Seoul")
"""KRX's time zone, used whatever the machine's own TZ is."""


class Clock(Protocol):
    """What every process reads time from; loops take one as an argument so tests can drive them."""

    speed: float
    """Clock seconds per real second (1.0 for real time)."""

    def now(self) -> datetime:
        """The current time, an aware datetime in KST."""
        ...

    def at_real(self, epoch: float) -> datetime:
        """What the clock read (or will read) at real Unix time ``epoch``, e.g. a file's mtime."""
        ...

    def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of clock time; returns at once when ``seconds <= 0``."""
        ...

    def sleep_until(self, moment: datetime) -> None:
        """Sleep until the clock reads ``moment`` (aware); returns at once if it has passed."""
        ...


def _require_aware(moment: datetime, what: str) -> None:
    # A naive datetime would be read in the machine's TZ, which is exactly what we never want.
    if moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {moment.isoformat()}")


class SystemClock:
    """Real time in Asia/Seoul."""

    speed: float = 1.0

    def now(self) -> datetime:
        """The current time in KST."""
        return datetime.now(KST)

    def at_real(self, epoch: float) -> datetime:
        """Real time ``epoch`` in KST."""
        return datetime.fromtimestamp(epoch, KST)

    def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` real seconds."""
        if seconds > 0:
            time.sleep(seconds)

    def sleep_until(self, moment: datetime) -> None:
        """Sleep until ``moment``; returns at once if it has passed."""
        _require_aware(moment, "moment")
        self.sleep((moment - self.now()).total_seconds())

    def __repr__(self) -> str:
        return "SystemClock()"


class SimulatedClock:
    """Time that equalled ``start`` at real unix time ``epoch`` and runs ``speed`` times faster.

    Processes that share ``start``, ``speed`` and ``epoch`` read the same time without talking to
    each other; before ``epoch`` the clock reads earlier than ``start``, which is harmless.
    """

    def __init__(
        self,
        start: datetime,
        speed: float,
        epoch: float,
        real_time: Callable[[], float] = time.time,
        real_sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        _require_aware(start, "start")
        if not speed > 0:
            raise ValueError(f"speed must be > 0, got {speed}")
        self.start = start.astimezone(KST)
        self.speed = float(speed)
        self.epoch = float(epoch)
        self._real_time = real_time
        self._real_sleep = real_sleep

    def now(self) -> datetime:
        """``start + (real_time() - epoch) * speed``, in KST."""
        return self.at_real(self._real_time())

    def at_real(self, epoch: float) -> datetime:
        """``start + (epoch - self.epoch) * speed``, in KST."""
        return self.start + timedelta(seconds=(epoch - self.epoch) * self.speed)

    def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of simulated time, that is ``seconds / speed`` real seconds."""
        if seconds > 0:
            self._real_sleep(seconds / self.speed)

    def sleep_until(self, moment: datetime) -> None:
        """Sleep until the simulated time reaches ``moment``; returns at once if it has passed."""
        _require_aware(moment, "moment")
        self.sleep((moment - self.now()).total_seconds())

    def __repr__(self) -> str:
        return (
            f"SimulatedClock(start={self.start.isoformat()}, speed={self.speed:g}, "
            f"epoch={self.epoch!r})"
        )


class HeldClock:
    """A simulated clock held at ``start`` until its epoch is anchored, then a
    :class:`SimulatedClock` from that epoch (``CLOCK_HOLD``, docs/ARCHITECTURE.md, 'The clock').

    ``find_epoch`` returns the anchor once someone has written it (the tests do, once every
    process of a simulated day is up), None before. While held, ``now()`` reads ``start`` and a
    sleep waits for the anchor first, then sleeps its clock time after it.
    """

    def __init__(
        self,
        start: datetime,
        speed: float,
        find_epoch: Callable[[], float | None],
        real_time: Callable[[], float] = time.time,
        real_sleep: Callable[[float], None] = time.sleep,
        poll_seconds: float = 0.05,
    ) -> None:
        _require_aware(start, "start")
        if not speed > 0:
            raise ValueError(f"speed must be > 0, got {speed}")
        self.start = start.astimezone(KST)
        self.speed = float(speed)
        self._find_epoch = find_epoch
        self._real_time = real_time
        self._real_sleep = real_sleep
        self._poll_seconds = poll_seconds
        self._running: SimulatedClock | None = None

    def running(self) -> SimulatedClock | None:
        """The clock since its anchor, or None while it is held (the anchor is looked for)."""
        if self._running is None:
            epoch = self._find_epoch()
            if epoch is not None:
                self._running = SimulatedClock(
                    self.start, self.speed, epoch, self._real_time, self._real_sleep
                )
        return self._running

    def now(self) -> datetime:
        """``start`` while held, then the simulated time."""
        running = self.running()
        return self.start if running is None else running.now()

    def at_real(self, epoch: float) -> datetime:
        """``start`` for any moment before the anchor (or while held), else the simulated time."""
        running = self.running()
        return self.start if running is None else max(self.start, running.at_real(epoch))

    def sleep(self, seconds: float) -> None:
        """Wait for the anchor, then sleep ``seconds`` of simulated time."""
        if seconds > 0:
            self._wait_for_anchor().sleep(seconds)

    def sleep_until(self, moment: datetime) -> None:
        """Wait for the anchor, then until the simulated time reaches ``moment``."""
        _require_aware(moment, "moment")
        if moment > self.start:
            self._wait_for_anchor().sleep_until(moment)

    def _wait_for_anchor(self) -> SimulatedClock:
        while (running := self.running()) is None:
            self._real_sleep(self._poll_seconds)
        return running

    def __repr__(self) -> str:
        state = "held" if self._running is None else f"epoch={self._running.epoch!r}"
        return f"HeldClock(start={self.start.isoformat()}, speed={self.speed:g}, {state})"


def anchor_epoch(
    redis: Redis,
    keys: Keys,
    start: datetime,
    speed: float,
    real_time: Callable[[], float] = time.time,
) -> float:
    """The unix time at which simulated time equals ``start``, shared by every process.

    The first process to ask writes its own ``real_time()`` (SET NX); everyone, the writer
    included, returns what Redis holds, so all processes agree even when they race.
    """
    key = keys.clock_epoch(start.astimezone(KST).isoformat(), speed)
    # No TTL on purpose: a process restarted mid-run must rejoin the same timeline, and an
    # expired anchor would let a newcomer start a second one beside the running processes.
    redis.set(key, repr(float(real_time())), nx=True)
    stored = redis.get(key)
    if stored is None:
        raise RuntimeError(f"clock anchor {key} vanished right after SET NX")
    return float(stored)


def build_clock(
    settings: Settings,
    redis: Redis | None,
    *,
    publish: bool = False,
    follow_running: bool = False,
) -> Clock:
    """The clock the settings ask for: real time, or a simulated clock anchored in Redis.

    With ``publish`` (the scheduler, the executor, the simulator) the clock is published in
    ``clock:running`` (deleted on real time). With ``follow_running`` (``kat``) and no
    ``CLOCK_START`` of its own, the running system's simulated clock is taken from there, so a
    command acts on the day the services trade (docs/ARCHITECTURE.md, 'Clock and calendar')."""
    keys = Keys(settings.redis_prefix)
    start = settings.clock_start
    if start is None:
        if redis is None:
            return SystemClock()
        if follow_running:
            return running_clock(redis, keys) or SystemClock()
        if publish:
            redis.delete(keys.clock_running())
        return SystemClock()
    epoch = settings.clock_epoch
    if settings.clock_hold:
        if redis is None:
            raise ValueError("CLOCK_HOLD waits for the anchor in Redis: build_clock needs Redis")
        held = held_clock(redis, keys, start, settings.clock_speed)
        if publish:
            running = {"start_kst": held.start.isoformat(), "speed": held.speed, "hold": True}
            redis.set(keys.clock_running(), json.dumps(running))
        return held
    if epoch is None:
        if redis is None:
            raise ValueError(
                "CLOCK_START is set without CLOCK_EPOCH: the simulated clock's anchor lives in "
                "Redis, so build_clock needs a Redis connection (or set CLOCK_EPOCH)"
            )
        epoch = anchor_epoch(redis, keys, start, settings.clock_speed)
    clock = SimulatedClock(start, settings.clock_speed, epoch)
    if redis is not None and publish:
        running = {"start_kst": clock.start.isoformat(), "speed": clock.speed, "epoch": epoch}
        redis.set(keys.clock_running(), json.dumps(running))
    return clock


def held_clock(redis: Redis, keys: Keys, start: datetime, speed: float) -> HeldClock:
    """A clock held at ``start`` until :func:`anchor_epoch` is called for it (by anyone)."""
    # Imported here: the trading rules import this module and must not load the Redis client.
    from redis.exceptions import RedisError

    key = keys.clock_epoch(start.astimezone(KST).isoformat(), speed)

    def find_epoch() -> float | None:
        try:
            stored = redis.get(key)
        except RedisError:
            return None  # still held: the anchor is read again on the next call
        return None if stored is None else float(stored)

    return HeldClock(start, speed, find_epoch)


def running_clock(redis: Redis, keys: Keys) -> SimulatedClock | HeldClock | None:
    """The simulated clock the services published, or None (real time, nothing ran, or no
    Redis to ask: a command that needs none, such as ``kat history import``, still runs)."""
    # Imported here: the trading rules import this module and must not load the Redis client.
    from redis.exceptions import RedisError

    try:
        raw = redis.get(keys.clock_running())
    except RedisError:
        return None
    if raw is None:
        return None
    try:
        data = json.loads(raw)
        start = datetime.fromisoformat(str(data["start_kst"]))
        if data.get("hold"):
            return held_clock(redis, keys, start, float(data["speed"]))
        return SimulatedClock(start, float(data["speed"]), float(data["epoch"]))
    except (ValueError, KeyError, TypeError):
        return None
