"""The report's figures as pure functions, on cases computed by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from shared.trading import metrics
from shared.trading.metrics import Drawdown, MonthReturn


def test_win_rate_counts_trades_above_zero_after_costs() -> None:
    assert metrics.win_rate_pct([100, -50, 0, 30]) == Decimal("50.00")  # 0 is not a win
    assert metrics.win_rate_pct([1, 1, 1]) == Decimal("100.00")
    assert metrics.win_rate_pct([1, -1, -1]) == Decimal("33.33")
    assert metrics.win_rate_pct([]) is None


def test_profit_factor() -> None:
    assert metrics.profit_factor([100, -50, 30]) == Decimal("2.60")  # 130 / 50
    assert metrics.profit_factor([-10, -30]) == Decimal("0.00")
    # No losing trade: no factor (infinite), told apart from no trade by the gross profit.
    assert metrics.profit_factor([100, 30]) is None
    assert metrics.gross_profit([100, 30]) == 130
    assert metrics.profit_factor([]) is None
    assert metrics.gross_profit([]) == 0
    assert metrics.profit_factor([0, 0]) is None
    assert metrics.gross_loss([100, -50, -1]) == 51


def test_expectancy_is_the_average_net_of_a_trade() -> None:
    assert metrics.expectancy([100, -50, 30]) == Decimal("26.67")
    assert metrics.expectancy([-7]) == Decimal("-7.00")
    assert metrics.expectancy([]) is None
    # +10 % on 1,000 won and -10 % on 500 won: 0 % on average, per trade (not per won).
    assert metrics.expectancy_pct([100, -50], [1000, 500]) == Decimal("0.00")
    assert metrics.expectancy_pct([], []) is None


def test_average_hold() -> None:
    assert metrics.average([0, 1, 5]) == Decimal("2.00")
    assert metrics.average([]) is None


def test_the_drawdown_of_a_rising_curve_is_zero() -> None:
    assert metrics.max_drawdown(100, [101, 102, 150]) == Drawdown(Decimal("0.00"), 0, None, None)
    assert metrics.max_drawdown(100, [100, 100]) == Drawdown(Decimal("0.00"), 0, None, None)
    assert metrics.drawdowns_pct(100, [101, 102, 150]) == [0, 0, 0]


def test_the_drawdown_of_a_falling_curve_starts_at_the_cash() -> None:
    assert metrics.max_drawdown(100, [90, 80]) == Drawdown(Decimal("20.00"), 20, None, 1)
    assert metrics.drawdowns_pct(100, [90, 80]) == [Decimal("10.00"), Decimal("20.00")]


def test_the_deepest_fall_is_measured_from_its_own_peak() -> None:
    # 120 -> 90 is 25 % (30 won); 130 -> 117 is 10 % (13 won).
    found = metrics.max_drawdown(100, [120, 90, 130, 117])
    assert found == Drawdown(Decimal("25.00"), 30, 0, 1)
    assert metrics.drawdowns_pct(100, [120, 90, 130, 117]) == [0, 25, 0, 10]
    # A deeper fall in won can be a shallower one in percent: percent decides.
    assert metrics.max_drawdown(100, [50, 1000, 700]).pct == Decimal("50.00")


def test_an_empty_range() -> None:
    assert metrics.max_drawdown(100, []) == Drawdown(Decimal("0.00"), 0, None, None)
    assert metrics.drawdowns_pct(100, []) == []
    assert metrics.exposure_pct([], []) is None
    assert metrics.time_in_market_pct([], []) is None
    assert metrics.monthly_returns(100, [], []) == []


def test_exposure_is_the_mean_share_held_in_stocks_at_the_close() -> None:
    assert metrics.exposure_pct([0, 50, 100], [100, 100, 200]) == Decimal("33.33")
    assert metrics.exposure_pct([0, 0], [100, 100]) == Decimal("0.00")


def test_time_in_market_counts_sessions_from_a_buy_to_its_sell() -> None:
    days = [date(2026, 3, d) for d in (2, 3, 4, 5, 6)]
    assert metrics.time_in_market_pct(days, [(days[1], days[2])]) == Decimal("40.00")
    overlapping = [(days[0], days[1]), (days[1], days[1]), (days[4], days[4])]
    assert metrics.time_in_market_pct(days, overlapping) == Decimal("60.00")
    assert metrics.time_in_market_pct(days, []) == Decimal("0.00")


def test_monthly_returns_compound_to_the_run() -> None:
    days = [date(2026, 1, 30), date(2026, 1, 31), date(2026, 2, 2), date(2026, 2, 27)]
    days.append(date(2026, 3, 3))
    months = metrics.monthly_returns(100, days, [105, 110, 99, 121, 121])
    assert months == [
        MonthReturn("2026-01", 100, 110, Decimal("10.00")),
        MonthReturn("2026-02", 110, 121, Decimal("10.00")),
        MonthReturn("2026-03", 121, 121, Decimal("0.00")),
    ]


def test_ranks_share_ties() -> None:
    assert metrics.ranks([10, 30, 30, 20]) == [1, Decimal("3.5"), Decimal("3.5"), 2]


def test_rank_correlation() -> None:
    assert metrics.rank_correlation([1, 2, 3, 4], [10, 20, 30, 40]) == Decimal("1.00")
    assert metrics.rank_correlation([1, 2, 3, 4], [4, 3, 2, 1]) == Decimal("-1.00")
    # Ranks only: any increasing relation is a perfect one, infinities included.
    assert metrics.rank_correlation([1, 2, float("inf")], [0, 5, 6]) == Decimal("1.00")
    # d = (0, 0, -1, 1): 1 - 6 * 2 / (4 * 15) = 0.8
    assert metrics.rank_correlation([1, 2, 3, 4], [1, 2, 4, 3]) == Decimal("0.80")
    assert metrics.rank_correlation([1, 2], [2, 1]) is None
    assert metrics.rank_correlation([1, 1, 1], [1, 2, 3]) is None
    with pytest.raises(ValueError):
        metrics.rank_correlation([1, 2, 3], [1, 2])
