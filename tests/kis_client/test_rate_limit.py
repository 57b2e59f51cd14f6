"""The shared rate limiter against a real Redis: window math, waiting, and sharing."""

from __future__ import annotations

import threading
import time

import pytest
import redis

from shared.kis.rate_limit import RateLimiter, Window


def limiter(client: redis.Redis, window: Window) -> RateLimiter:
    return RateLimiter(client, "kat:test:rate", "kat:test:rate-waits", window)


@pytest.mark.parametrize(
    ("rate", "margin", "limit", "seconds"),
    [(1.0, 0.0, 1, 1.0), (18.0, 0.025, 18, 1.025), (0.5, 0.0, 1, 2.0), (2.5, 0.0, 2, 0.8)],
)
def test_window_for_rate(rate: float, margin: float, limit: int, seconds: float) -> None:
    window = Window.for_rate(rate, margin)
    assert window.limit == limit
    assert window.seconds == pytest.approx(seconds)


def test_grants_the_limit_then_says_how_long_to_wait(redis_client: redis.Redis) -> None:
    rl = limiter(redis_client, Window(limit=3, seconds=0.3))
    assert [rl.try_acquire() for _ in range(3)] == [0, 0, 0]
    wait = rl.try_acquire()
    assert 0.2 < wait <= 0.3
    time.sleep(wait + 0.01)
    assert rl.try_acquire() == 0


def test_acquire_waits_and_counts_the_wait(redis_client: redis.Redis) -> None:
    rl = limiter(redis_client, Window(limit=2, seconds=0.25))
    started = time.monotonic()
    for _ in range(6):
        rl.acquire()
    # 6 slots at 2 per 0.25 s: the last pair is granted two windows after the first.
    assert time.monotonic() - started >= 0.5
    assert int(redis_client.get("kat:test:rate-waits") or 0) >= 2


def test_instances_share_one_window(redis_client: redis.Redis) -> None:
    window = Window(limit=5, seconds=0.5)
    granted: list[float] = []
    lock = threading.Lock()

    def hammer() -> None:
        rl = limiter(redis.Redis(connection_pool=redis_client.connection_pool), window)
        for _ in range(5):
            rl.acquire()
            with lock:
                granted.append(time.monotonic())

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    granted.sort()
    # Never more than 5 grants inside any 0.5 s window (a little slack for thread wake-up).
    for i in range(len(granted) - 5):
        assert granted[i + 5] - granted[i] >= 0.49


def test_gives_up_after_the_timeout(redis_client: redis.Redis) -> None:
    rl = limiter(redis_client, Window(limit=1, seconds=5))
    rl.acquire()
    with pytest.raises(TimeoutError):
        rl.acquire(timeout=0.2)


def test_a_slot_is_dated_again_when_its_answer_is_back(redis_client: redis.Redis) -> None:
    rl = limiter(redis_client, Window(limit=1, seconds=0.3))
    with rl.slot():
        time.sleep(0.2)  # the request leaves late, or KIS answers late
        answered = time.monotonic()
    assert rl.try_acquire() > 0.25  # a whole window from the answer, not from the grant
    rl.acquire()
    assert time.monotonic() - answered >= 0.29


def test_a_slot_that_left_the_window_before_its_answer_comes_back(
    redis_client: redis.Redis,
) -> None:
    rl = limiter(redis_client, Window(limit=1, seconds=0.1))
    with rl.slot():
        time.sleep(0.15)  # the window moved on while the request was out
    assert rl.try_acquire() > 0.05
