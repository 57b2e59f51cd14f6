"""Bars: what numbers make one, and the order a bar's prices are walked in."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from shared.infra.clock import KST
from shared.trading.bars import Bar, BarError, BarKind, bar_path, path_moments

DAY = date(2026, 3, 3)


def test_a_minute_bar_walks_open_low_high_close_every_15_seconds() -> None:
    bar = Bar("005930", DAY, time(9, 1), 70000, 70500, 69800, 70100, 1200)
    assert bar.kind is BarKind.MINUTE
    assert bar_path(bar) == (70000, 69800, 70500, 70100)
    assert [m.time() for m in path_moments(bar)] == [
        time(9, 1, 0),
        time(9, 1, 15),
        time(9, 1, 30),
        time(9, 1, 45),
    ]
    assert path_moments(bar)[0] == datetime(2026, 3, 3, 9, 1, tzinfo=KST)


def test_a_daily_bar_has_no_moments() -> None:
    bar = Bar("005930", DAY, None, 70000, 70500, 69800, 70100, 1200)
    assert bar.kind is BarKind.DAY
    with pytest.raises(BarError, match="daily bar"):
        path_moments(bar)


@pytest.mark.parametrize(
    ("prices", "volume", "problem"),
    [
        ((70000, 69000, 69800, 70100), 1, "do not contain"),
        ((70000, 70500, 70200, 70100), 1, "do not contain"),
        ((0, 70500, 69800, 70100), 1, "positive"),
        ((70000, 70500, 69800, 70100), -1, "negative"),
    ],
)
def test_impossible_numbers_are_refused_with_the_bar_named(
    prices: tuple[int, int, int, int], volume: int, problem: str
) -> None:
    with pytest.raises(BarError, match=problem) as caught:
        Bar("005930", DAY, time(9, 0), *prices, volume)
    assert "005930 2026-03-03 09:00:00" in str(caught.value)
