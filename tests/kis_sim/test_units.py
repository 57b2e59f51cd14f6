"""Pure pieces checked directly: tick table, limits, the sliding-window limiter, scripted paths."""

from __future__ import annotations

from datetime import datetime

from services.kis_sim.gateway import RateLimiter
from services.kis_sim.paths import parse_paths
from shared.infra.clock import KST
from shared.trading.krx_ticks import is_on_tick, lower_limit, round_to_tick, tick_size, upper_limit


def test_tick_table_and_limits() -> None:
    assert [tick_size(p) for p in (1_999, 2_000, 4_995, 5_000, 19_990, 20_000, 49_950)] == [
        1,
        5,
        5,
        10,
        10,
        50,
        50,
    ]
    assert [tick_size(p) for p in (50_000, 199_900, 200_000, 499_500, 500_000)] == [
        100,
        100,
        500,
        500,
        1_000,
    ]
    assert round_to_tick(70_049) == 70_000 and round_to_tick(70_051) == 70_100
    assert is_on_tick(73_500) and not is_on_tick(73_550)
    assert (upper_limit(70_000), lower_limit(70_000)) == (91_000, 49_000)
    assert (upper_limit(10_050), lower_limit(10_050)) == (13_060, 7_040)


def test_rate_limiter_counts_any_one_second_window() -> None:
    limiter = RateLimiter(2)
    assert limiter.admit("k", 10.0)
    assert limiter.admit("k", 10.5)
    assert not limiter.admit("k", 10.9)  # refused: not recorded
    assert limiter.admit("k", 11.0)  # [10.0, 11.0) is full, but 10.0 left the window
    assert not limiter.admit("k", 11.4)
    assert limiter.admit("other", 11.4)  # per app key
    # An arrival reaching the limiter late is checked against the windows after it too.
    late = RateLimiter(2)
    assert late.admit("k", 5.0) and late.admit("k", 5.9)
    assert not late.admit("k", 5.5)


def test_scripted_path_mixes_daily_and_absolute_points() -> None:
    path = parse_paths(
        {"005930": [["09:00", 100], ["10:00:30", 200], ["2026-03-03T11:00:00+09:00", 300]]}
    ).paths["005930"]
    at = lambda text: path.at(datetime.fromisoformat(text).replace(tzinfo=KST))  # noqa: E731
    assert at("2026-03-03T08:00") == 100  # before any point: the first one's price
    assert at("2026-03-03T10:00:29") == 100
    assert at("2026-03-03T10:00:30") == 200
    assert at("2026-03-03T11:30") == 300
    assert at("2026-03-04T09:30") == 100  # the daily 09:00 point is newer than 11:00 yesterday
    assert at("2026-03-04T08:59") == 300  # nothing today yet: the absolute point still holds
