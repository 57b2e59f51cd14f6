"""The clock: simulated time arithmetic, the shared Redis anchor, and build_clock from settings."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import redis

from shared.infra.clock import (
    KST,
    Clock,
    HeldClock,
    SimulatedClock,
    SystemClock,
    anchor_epoch,
    build_clock,
    running_clock,
)
from shared.infra.redis_keys import Keys
from shared.infra.settings import ConfigError, load_settings

START = datetime.fromisoformat("2026-03-02T08:50:00+09:00")


class FakeRealTime:
    """A real-time source the test moves by hand, recording every real sleep."""

    def __init__(self, now: float) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def simulated(speed: float = 60.0, epoch: float = 1_000.0) -> tuple[SimulatedClock, FakeRealTime]:
    real = FakeRealTime(epoch)
    return SimulatedClock(START, speed, epoch, real_time=real, real_sleep=real.sleep), real


def test_one_real_second_is_one_minute_at_speed_60() -> None:
    clock, real = simulated(speed=60)
    assert clock.now() == START
    real.now += 1
    assert clock.now() == START + timedelta(minutes=1)
    real.now += 0.5
    assert clock.now() == START + timedelta(seconds=90)
    assert clock.now().tzinfo is KST


def test_before_the_epoch_the_clock_reads_earlier_than_start() -> None:
    clock, real = simulated(speed=60)
    real.now -= 10
    assert clock.now() == START - timedelta(minutes=10)


def test_sleep_divides_by_speed() -> None:
    clock, real = simulated(speed=60)
    clock.sleep(600)
    assert real.sleeps == [10.0]
    assert clock.now() == START + timedelta(minutes=10)
    clock.sleep(0)
    clock.sleep(-5)
    assert real.sleeps == [10.0]


def test_sleep_until() -> None:
    clock, real = simulated(speed=60)
    clock.sleep_until(START - timedelta(hours=1))
    clock.sleep_until(START)
    assert real.sleeps == []
    opens = datetime.fromisoformat("2026-03-02T09:00:00+09:00")
    clock.sleep_until(opens)
    assert real.sleeps == [10.0]
    assert clock.now() == opens
    # A moment given in another zone means the same instant.
    clock.sleep_until(datetime.fromisoformat("2026-03-02T00:30:00+00:00"))
    assert clock.now() == datetime.fromisoformat("2026-03-02T09:30:00+09:00")
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.sleep_until(datetime(2026, 3, 2, 10))


def test_simulated_clock_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        SimulatedClock(datetime(2026, 3, 2, 9), 60, 0.0)
    with pytest.raises(ValueError, match="speed"):
        SimulatedClock(START, 0, 0.0)


def test_system_clock_sleeps_real_time() -> None:
    clock = SystemClock()
    before = datetime.now(KST)
    clock.sleep(0.05)
    clock.sleep_until(datetime.now(KST) + timedelta(seconds=0.05))
    clock.sleep_until(datetime.now(KST) - timedelta(days=1))  # past: returns at once
    elapsed = (datetime.now(KST) - before).total_seconds()
    assert 0.09 <= elapsed < 1.0


def test_anchor_epoch_first_writer_wins(redis_client: redis.Redis) -> None:
    keys = Keys("test:")
    first = anchor_epoch(redis_client, keys, START, 60, real_time=lambda: 1_700_000_000.25)
    second = anchor_epoch(redis_client, keys, START, 60, real_time=lambda: 1_800_000_000.5)
    assert first == second == 1_700_000_000.25
    stored = redis_client.get(keys.clock_epoch(START.isoformat(), 60))
    assert stored == b"1700000000.25"
    # A different speed is a different simulation with its own anchor.
    other = anchor_epoch(redis_client, keys, START, 120, real_time=lambda: 1_800_000_000.5)
    assert other == 1_800_000_000.5


def test_build_clock_anchors_in_redis(redis_url: str, redis_client: redis.Redis) -> None:
    env = {"REDIS_URL": redis_url, "CLOCK_START": START.isoformat(), "CLOCK_SPEED": "60"}
    first = build_clock(load_settings(env), redis_client)
    second = build_clock(load_settings(env), redis.Redis.from_url(redis_url))
    assert isinstance(first, SimulatedClock) and isinstance(second, SimulatedClock)
    assert first.epoch == second.epoch
    assert first.speed == 60
    assert redis_client.get(Keys("kat:").clock_epoch(START.isoformat(), 60)) is not None
    assert abs((first.now() - START).total_seconds()) < 60 * 5  # just anchored: near start


def test_build_clock_with_epoch_writes_nothing(redis_client: redis.Redis) -> None:
    settings = load_settings(
        {"CLOCK_START": START.isoformat(), "CLOCK_SPEED": "30", "CLOCK_EPOCH": "1700000000.5"}
    )
    clock = build_clock(settings, redis_client)
    assert isinstance(clock, SimulatedClock)
    assert clock.epoch == 1_700_000_000.5
    assert clock.speed == 30
    assert redis_client.dbsize() == 0
    assert build_clock(settings, None).now().tzinfo is KST  # no Redis needed either


def test_build_clock_needs_redis_for_the_anchor() -> None:
    settings = load_settings({"CLOCK_START": START.isoformat()})
    with pytest.raises(ValueError, match="CLOCK_EPOCH"):
        build_clock(settings, None)


def test_build_clock_without_start_is_the_system_clock() -> None:
    clock: Clock = build_clock(load_settings({}), None)
    assert isinstance(clock, SystemClock)
    assert clock.speed == 1.0
    now = clock.now()
    assert abs((now - datetime.now(KST)).total_seconds()) < 2
    assert now.tzinfo is KST
    assert str(now.tzinfo) == "Asia/Seoul"
    assert now.utcoffset() == timedelta(hours=9)


def test_start_given_in_utc_is_reported_in_kst() -> None:
    settings = load_settings(
        {
            "CLOCK_START": "2026-03-01T23:50:00+00:00",
            "CLOCK_SPEED": "60",
            "CLOCK_EPOCH": "1772409000",
        }
    )
    assert build_clock(settings, None).now().tzinfo is KST
    assert settings.clock_start is not None and settings.clock_epoch is not None
    clock = SimulatedClock(
        settings.clock_start,
        settings.clock_speed,
        settings.clock_epoch,
        real_time=lambda: 1772409000.0,
    )
    now = clock.now()
    assert now.tzinfo is KST
    assert now.isoformat() == "2026-03-02T08:50:00+09:00"


def test_a_held_clock_reads_start_until_anchored_then_runs_from_the_anchor() -> None:
    real = FakeRealTime(1_000.0)
    anchor: list[float] = []
    clock = HeldClock(
        START, 60, lambda: anchor[0] if anchor else None, real_time=real, real_sleep=real.sleep
    )
    real.now += 30
    assert clock.now() == START
    assert clock.at_real(1_010.0) == START
    anchor.append(1_040.0)
    real.now = 1_041.0
    assert clock.now() == START + timedelta(minutes=1)
    assert clock.at_real(1_000.0) == START  # before the anchor: still the start, never earlier


def test_a_held_clock_sleeps_until_the_anchor_then_its_clock_time() -> None:
    real = FakeRealTime(1_000.0)

    def anchored_after_half_a_second() -> float | None:
        return 1_000.5 if real.now >= 1_000.5 else None

    clock = HeldClock(START, 60, anchored_after_half_a_second, real, real.sleep, poll_seconds=0.25)
    clock.sleep_until(START + timedelta(minutes=10))
    assert real.sleeps == [0.25, 0.25, 10.0]
    assert clock.now() == START + timedelta(minutes=10)
    clock.sleep_until(START)  # passed: no sleep
    clock.sleep(0)
    assert real.sleeps == [0.25, 0.25, 10.0]


def test_a_held_clock_starts_when_the_anchor_is_written(
    redis_url: str, redis_client: redis.Redis
) -> None:
    env = {
        "REDIS_URL": redis_url,
        "CLOCK_START": START.isoformat(),
        "CLOCK_SPEED": "60",
        "CLOCK_HOLD": "true",
    }
    keys = Keys("kat:")
    clock = build_clock(load_settings(env), redis_client, publish=True)
    assert isinstance(clock, HeldClock)
    assert redis_client.get(keys.clock_epoch(START.isoformat(), 60)) is None  # nobody anchored
    assert clock.now() == START
    follower = running_clock(redis_client, keys)  # what kat reads from kat:clock:running
    assert isinstance(follower, HeldClock) and follower.now() == START

    epoch = anchor_epoch(redis_client, keys, START, 60)
    assert clock.running() is not None and clock.running().epoch == epoch  # type: ignore[union-attr]
    assert START <= clock.now() < START + timedelta(minutes=5)
    assert follower.now() >= START


def test_hold_needs_a_start_and_no_epoch() -> None:
    with pytest.raises(ConfigError, match="CLOCK_START: is required"):
        load_settings({"CLOCK_HOLD": "true"})
    with pytest.raises(ConfigError, match="CLOCK_HOLD: waits for an anchor"):
        load_settings(
            {"CLOCK_START": START.isoformat(), "CLOCK_HOLD": "1", "CLOCK_EPOCH": "1772409000"}
        )
