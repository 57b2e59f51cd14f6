"""The coarse model: a session with only its daily bar is walked open, low, high, close."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from shared.backtest.config import BacktestConfig
from shared.backtest.results import ProblemKind
from shared.trading.bars import BarKind
from shared.trading.orders import Reason
from tests.backtest.helpers import at, daily, flat, run, write_picks

TUE = date(2026, 3, 3)
CODE = "005930"
PICK = {CODE: ("삼성전자", 10_000)}


def test_a_daily_bar_buys_at_the_open_and_stops_out_at_the_low(tmp_path: Path) -> None:
    # Open 10,100 is in the band: bought at 09:00. The low, 9,700 (-3.96 %), is put at a third
    # of the intraday phase (09:00 + 6 h 15 min / 3 = 11:05) and sells, a tick lower.
    bars = [daily(CODE, TUE, 10_100, 10_700, 9_700, 10_000)]
    config = BacktestConfig(TUE, TUE, bars=BarKind.DAY)
    result = run(config, bars, write_picks(tmp_path, {TUE: PICK}))
    assert [(o.moment, o.reason, o.price_seen) for o in result.orders] == [
        (at(TUE, "09:00:00"), Reason.ENTRY, 10_100),
        (at(TUE, "11:05:00"), Reason.STOP_LOSS, 9_700),
    ]
    assert result.fills[-1].price == 9_690
    assert result.problems == ()  # daily bars asked for: nothing to say


def test_the_close_of_a_daily_bar_stands_for_the_pre_close_and_the_high_for_profit(
    tmp_path: Path,
) -> None:
    # A position bought five sessions ago and flat since: the close is the pre-close's price.
    friday = date(2026, 2, 13)
    days = [friday, *(date(2026, 2, d) for d in (19, 20, 23, 24, 25))]
    bars = [daily(CODE, d, 10_100, 10_100, 10_100, 10_100) for d in days[:-1]]
    bars.append(daily(CODE, days[-1], 10_100, 10_200, 10_000, 10_150))
    config = BacktestConfig(friday, days[-1], bars=BarKind.DAY)
    result = run(config, bars, write_picks(tmp_path, {friday: PICK}))
    sell = result.orders[-1]
    assert (sell.moment, sell.reason, sell.price_seen) == (
        at(days[-1], "15:15:00"),
        Reason.EXPIRY,
        10_150,
    )

    # The high sells a take-profit at two thirds of the intraday phase (13:10).
    bars = [
        daily(CODE, TUE, 10_100, 10_100, 10_100, 10_100),
        daily(CODE, date(2026, 3, 4), 10_200, 10_700, 10_150, 10_300),
    ]
    config = BacktestConfig(TUE, date(2026, 3, 4), bars=BarKind.DAY)
    result = run(config, bars, write_picks(tmp_path / "tp", {TUE: PICK}))
    assert result.orders[-1].moment == at(date(2026, 3, 4), "13:10:00")
    assert result.orders[-1].reason is Reason.TAKE_PROFIT


def test_minute_bars_where_there_are_and_the_daily_bar_elsewhere_named(tmp_path: Path) -> None:
    wed = date(2026, 3, 4)
    bars = [*flat(CODE, TUE, 10_100), daily(CODE, wed, 10_100, 10_700, 10_050, 10_600)]
    result = run(BacktestConfig(TUE, wed), bars, write_picks(tmp_path, {TUE: PICK}))
    assert [(o.session, o.reason, o.moment) for o in result.orders] == [
        (TUE, Reason.ENTRY, at(TUE, "09:00:00")),
        (wed, Reason.TAKE_PROFIT, at(wed, "13:10:00")),
    ]
    (problem,) = [p for p in result.problems if p.code]
    assert (problem.kind, problem.session, problem.code) == (ProblemKind.DAILY_ONLY, wed, CODE)
    assert result.trades[0].problems == (ProblemKind.DAILY_ONLY,)
