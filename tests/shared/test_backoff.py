"""One backoff formula: each retry loop waits the same sequence as before it shared the helper."""

from __future__ import annotations

import pytest

from services.executor.placing import resend_delays
from services.notifier.outbox import discord_backoff
from shared.infra.backoff import backoff_delay
from shared.kis.stream import StreamTimings, reconnect_delay
from shared.kis.transport import read_retry_delays


def test_the_wait_doubles_from_the_first_up_to_the_cap() -> None:
    assert [backoff_delay(n, 0.5, 6.0) for n in range(1, 6)] == [0.5, 1.0, 2.0, 4.0, 6.0]
    assert [backoff_delay(n, 0.5) for n in range(1, 6)] == [0.5, 1.0, 2.0, 4.0, 8.0]
    assert backoff_delay(0, 0.5, 6.0) == backoff_delay(-3, 0.5, 6.0) == 0.5


def test_a_long_outage_keeps_the_cap_instead_of_overflowing() -> None:
    assert backoff_delay(5_000, 0.5, 30.0) == 30.0


def test_jitter_spreads_the_wait_by_its_fraction_with_the_random_source_given() -> None:
    drawn: list[tuple[float, float]] = []

    def lowest(low: float, high: float) -> float:
        drawn.append((low, high))
        return low

    assert backoff_delay(3, 0.5, 30.0, jitter=0.25, uniform=lowest) == 1.5
    assert drawn == [(0.75, 1.25)]
    assert backoff_delay(3, 0.5, 30.0, jitter=0.25, uniform=lambda _, high: high) == 2.5
    spread = {backoff_delay(1, 1.0, jitter=0.5) for _ in range(50)}
    assert len(spread) > 1 and all(0.5 <= d <= 1.5 for d in spread)
    with pytest.raises(ValueError, match="jitter"):
        backoff_delay(1, 1.0, jitter=1.0)


def test_the_kis_transport_waits_between_its_five_read_tries() -> None:
    # Was min(first * 2 ** (attempt - 1), 4.0) after each of the first four failed tries.
    assert read_retry_delays(0.25) == (0.25, 0.5, 1.0, 2.0)
    assert read_retry_delays(1.5) == (1.5, 3.0, 4.0, 4.0)


def test_an_order_is_resent_after_two_four_and_eight_backoff_units() -> None:
    # Was KIS_RETRY_BACKOFF_SECONDS times (2, 4, 8), uncapped.
    assert resend_delays(0.25) == (0.5, 1.0, 2.0)
    assert resend_delays(30.0) == (60.0, 120.0, 240.0)


def test_the_notifier_backs_off_from_a_quarter_second_to_fifteen() -> None:
    # Was min(15, 0.25 * 2 ** (failures - 1)).
    assert [discord_backoff(n) for n in range(1, 9)] == [0.25, 0.5, 1, 2, 4, 8, 15, 15]


def test_the_stream_reconnects_with_a_quarter_of_jitter_either_way() -> None:
    # Was min(cap, first * 2 ** max(0, failures - 1)) * uniform(0.75, 1.25).
    timings = StreamTimings()
    exact = [reconnect_delay(n, timings, lambda low, high: (low + high) / 2) for n in range(8)]
    assert exact == [0.5, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0]
    assert reconnect_delay(7, timings, lambda low, _: low) == 22.5
    assert reconnect_delay(7, timings, lambda _, high: high) == 37.5
