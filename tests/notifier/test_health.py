"""The notifier's heartbeat says healthy only while its sender loop keeps turning."""

from __future__ import annotations

import threading

import redis

from services.notifier.outbox import Sender
from services.notifier.worker import SENDER_LOCK_ROLE, STALL_SECONDS, sender_health
from shared.state.control import LeaderLock
from tests.notifier.conftest import KEYS


def test_a_sender_loop_that_stopped_turning_is_unhealthy(redis_client: redis.Redis) -> None:
    lock = LeaderLock(redis_client, KEYS.leader(SENDER_LOCK_ROLE), "me", 20)
    sender = Sender(lambda: 0, None, None, lock, threading.Event())
    assert sender.step(burst=True) is False  # one real turn: nothing to do
    turned = sender.turned_monotonic
    assert sender_health(sender, turned + 1) == {"healthy": True, "sender": "running"}
    stuck = sender_health(sender, turned + STALL_SECONDS + 1)
    assert stuck["healthy"] is False and str(stuck["sender"]).startswith("stuck for")
