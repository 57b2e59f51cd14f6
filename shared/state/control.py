"""Operator control flags (paused, halted), heartbeats, and the one-leader lock.

``paused`` stops new orders from being sent until ``resume``; ``halted`` also cancels every
order not yet sent, and stays until an operator clears it.

The times these records carry are real Unix seconds (``*_epoch``: a heartbeat's age, when a flag
was set), whatever the system clock says (docs/ARCHITECTURE.md, 'Timestamps name their clock').
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import redis

from shared.infra.redis_keys import SESSION_RETENTION_SECONDS, Keys, text

log = logging.getLogger(__name__)

PAUSED = "paused"
HALTED = "halted"
FLAGS = (PAUSED, HALTED)
"""Every control flag."""

HEARTBEAT_TTL_SECONDS = 30
"""A heartbeat older than this has expired: the process is taken for dead."""
HEARTBEAT_INTERVAL_SECONDS = 10.0
"""Real seconds between two beats of a :class:`HeartbeatThread`."""

REFRESH_IF_OURS = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
RELEASE_IF_OURS = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def instance_id() -> str:
    """A name for this process: host, pid and a random suffix."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class Controls:
    """Read and set the control flags."""

    client: redis.Redis
    keys: Keys

    def set(self, flag: str, by: str, reason: str = "") -> None:
        if flag not in FLAGS:
            raise ValueError(f"unknown flag {flag!r}")
        note = {"by": by, "reason": reason, "set_epoch": time.time()}
        self.client.hset(self.keys.control(), flag, json.dumps(note, ensure_ascii=False))

    def clear(self, flag: str) -> None:
        self.client.hdel(self.keys.control(), flag)

    def active(self) -> dict[str, dict[str, object]]:
        """The flags set now, with who set them, when (``set_epoch``) and why."""
        raw = self.client.hgetall(self.keys.control())
        return {text(k): _renamed(json.loads(v), "at", "set_epoch") for k, v in raw.items()}

    @property
    def paused(self) -> bool:
        return bool(self.client.hexists(self.keys.control(), PAUSED))

    @property
    def halted(self) -> bool:
        return bool(self.client.hexists(self.keys.control(), HALTED))


def died_here(instance: str, payload: Mapping[str, object]) -> bool:
    """Whether a heartbeat is that of a process of this host that no longer runs.

    A SIGKILLed process cannot remove its heartbeat, which then says "alive" for up to
    HEARTBEAT_TTL_SECONDS. On the host it ran on, its pid tells sooner: no such process, no
    instance (docs/ARCHITECTURE.md, 'Chaos run'). Another host's heartbeat, one without a pid, or
    one whose pid runs (ours included) is taken at its word.
    """
    host = instance.rsplit("-", 2)[0]
    pid = payload.get("pid")
    if host != socket.gethostname() or not isinstance(pid, int) or isinstance(pid, bool):
        return False
    if pid <= 0 or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def beat(client: redis.Redis, keys: Keys, service: str, instance: str, **state: object) -> None:
    """Say this process is alive (the key expires after :data:`HEARTBEAT_TTL_SECONDS`)."""
    record = {"service": service, "instance": instance, "beat_epoch": time.time(), **state}
    payload = json.dumps(record)
    client.set(keys.heartbeat(service, instance), payload, ex=HEARTBEAT_TTL_SECONDS)


class HeartbeatThread:
    """Beats from a daemon thread, so a long job or a blocking dequeue never looks like death.

    ``state()`` adds fields to every beat (queues, outbox length, ...). A ``healthy: False``
    field says the process is alive but a part of it is not working (the notifier's sender):
    :func:`is_healthy` reads it. ``problem`` (one line) and ``problem_since_epoch`` say what and
    since when, for ``kat health`` and the status page. See docs/ARCHITECTURE.md, 'Redis
    outages' and 'Notifications'.
    """

    def __init__(
        self,
        client: redis.Redis,
        keys: Keys,
        service: str,
        instance: str,
        state: Callable[[], dict[str, object]] = dict,
    ) -> None:
        self._redis = client
        self._keys = keys
        self.service = service
        self.instance = instance
        self._state = state
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def start(self) -> None:
        self.beat()
        self._thread.start()

    def beat(self) -> None:
        try:
            beat(
                self._redis,
                self._keys,
                self.service,
                self.instance,
                pid=os.getpid(),
                **self._state(),
            )
        except redis.RedisError as e:
            log.warning("heartbeat not written: %s", e)
        except Exception:
            # The heartbeat must outlive a bug in ``state()``; the beat it skips says the rest.
            log.exception("heartbeat not written")

    def stop(self) -> None:
        """Stop beating and remove the heartbeat: a clean stop is not a death."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        try:
            self._redis.delete(self._keys.heartbeat(self.service, self.instance))
        except redis.RedisError as e:
            log.warning("heartbeat not removed: %s", e)

    def _run(self) -> None:
        while not self._stop.wait(HEARTBEAT_INTERVAL_SECONDS):
            self.beat()


def heartbeats(client: redis.Redis, keys: Keys) -> list[dict[str, object]]:
    """Every live heartbeat, with ``age`` in real seconds."""
    found = []
    now = time.time()
    for key in client.scan_iter(match=keys.heartbeats(), count=100):
        raw = client.get(key)
        if raw is not None:
            data = _renamed(json.loads(raw), "at", "beat_epoch")
            data["age"] = round(now - float(data["beat_epoch"]), 3)
            found.append(data)
    return sorted(found, key=lambda d: (str(d["service"]), str(d["instance"])))


def is_healthy(heartbeat: dict[str, object]) -> bool:
    """False when a live heartbeat says a part of its process is not working."""
    return heartbeat.get("healthy", True) is not False


class LeaderLock:
    """At most one holder of a role at a time; the lock lapses if the holder stops refreshing."""

    def __init__(self, client: redis.Redis, key: str, holder: str, ttl_seconds: float) -> None:
        self._redis = client
        self._key = key
        self.holder = holder
        self._ttl_ms = int(ttl_seconds * 1000)
        self._refresh = client.register_script(REFRESH_IF_OURS)
        self._release = client.register_script(RELEASE_IF_OURS)

    def acquire_or_refresh(self) -> bool:
        """True while this instance leads: refresh the lock if ours, else try to take it."""
        if self._refresh(keys=[self._key], args=[self.holder, self._ttl_ms]) == 1:
            return True
        return bool(self._redis.set(self._key, self.holder, nx=True, px=self._ttl_ms))

    def release(self) -> None:
        self._release(keys=[self._key], args=[self.holder])

    def current(self) -> str | None:
        raw = self._redis.get(self._key)
        return text(raw) if raw else None


def stop_entries(client: redis.Redis, keys: Keys, session: date, reason: str) -> bool:
    """No more entry buys on ``session``; True the first time (the caller says so, once).

    Set when the system's state of a running session was lost (docs/ARCHITECTURE.md, 'When our
    state is lost'): exits go on, but no new position is opened on a plan that may be gone.
    """
    payload = json.dumps({"reason": reason, "stopped_epoch": time.time()}, ensure_ascii=False)
    return bool(
        client.set(keys.entries_stopped(session), payload, nx=True, ex=SESSION_RETENTION_SECONDS)
    )


def resume_all(client: redis.Redis, keys: Keys) -> list[str]:
    """Clear pause, halt and every session's stop of new buys; what was cleared, one phrase
    each (docs/ARCHITECTURE.md, 'Flatten'). A stop whose cause remains (the day's loss limit)
    is set again by the next check that finds it."""
    cleared = []
    controls = Controls(client, keys)
    for flag, note in sorted(controls.active().items()):
        controls.clear(flag)
        why = f": {note['reason']}" if note.get("reason") else ""
        cleared.append(f"{flag} (by {note.get('by', '?')}{why})")
    for key in sorted(client.scan_iter(match=keys.entries_stopped_all(), count=100)):
        raw = client.getdel(key)
        if raw is None:
            continue
        session = text(key).rsplit(":", 1)[-1]
        reason = str(json.loads(raw).get("reason", "stopped"))
        cleared.append(f"new buys stopped on {session} ({reason})")
    return cleared


def entries_stopped(client: redis.Redis, keys: Keys, session: date) -> str | None:
    """Why entry buys are stopped on ``session``, or None when they are not."""
    raw = client.get(keys.entries_stopped(session))
    if raw is None:
        return None
    return str(json.loads(raw).get("reason", "stopped"))


def _renamed(data: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    """``data`` with its field ``old`` named ``new``: a record written before timestamps named
    their clock (control flags have no TTL, a heartbeat of a process not yet upgraded lives on)."""
    if old in data and new not in data:
        data[new] = data.pop(old)
    return data
