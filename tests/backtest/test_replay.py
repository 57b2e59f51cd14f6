"""The replay driver: a short session played by the fast driver and by the whole system (Redis,
the simulator replaying the bars, the scheduler and executor as processes, a 60x clock) places
the same orders: two buys at the open, a take-profit and a stop-loss, no buy of a pick above
its band (docs/ARCHITECTURE.md, 'Backtest', 'Replay'). Also: the comparison itself on
hand-made orders, the sampling, and the command's refusals.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

from shared.backtest.config import BacktestConfig
from shared.backtest.memory_bars import MemoryBars
from shared.backtest.picks_source import PicksDir
from shared.replay.compare import PlacedOrder, compare_orders
from shared.replay.driver import play_prepared, prepare_day, sample_days
from shared.trading.market_calendar import KrxCalendar
from tests.backtest.helpers import at, daily, flat, minutes, write_picks
from tests.backtest.test_kat_backtest import DEMO, RANGE, kat

DAY = date(2026, 3, 4)
BEFORE = KrxCalendar().previous_session(DAY).day
CASH = 9_000_000
PICKS = {
    "000100": ("take-profit", 10_000),
    "000200": ("stop-loss", 20_000),
    "000300": ("above the band", 30_000),
}


def bars() -> MemoryBars:
    """Ten minutes of the session: each pick flat in its band at the open (bought there, at the
    same price whichever point the order meets); 000100 then 6 % up (take-profit at +5 %),
    000200 3.5 % down (stop-loss at -3 %); 000300 above its band throughout."""
    day_before = [
        bar
        for code, (_, target) in PICKS.items()
        for bar in [
            *flat(code, BEFORE, target, "15:00", "15:05"),
            daily(code, BEFORE, *[target] * 4),
        ]
    ]
    today = [
        *flat("000100", DAY, 10_000, "09:00", "09:04"),
        *minutes("000100", DAY, [("09:04", 10_000, 10_200, 10_000, 10_200)]),
        *flat("000100", DAY, 10_600, "09:06", "09:10"),
        *flat("000200", DAY, 20_000, "09:00", "09:06"),
        *minutes("000200", DAY, [("09:06", 20_000, 20_000, 19_300, 19_300)]),
        *flat("000200", DAY, 19_300, "09:07", "09:10"),
        *flat("000300", DAY, 31_600, "09:00", "09:10"),
    ]
    return MemoryBars.from_bars([*day_before, *today])


def test_both_drivers_place_the_same_orders(tmp_path: Path) -> None:
    config = BacktestConfig(DAY, DAY, cash=CASH)
    picks = PicksDir(write_picks(tmp_path / "picks", {DAY: PICKS}), config.calendar())
    prepared = prepare_day(config, picks, bars(), DAY)
    assert [(o.code, o.side, o.reason) for o in prepared.fast] == [
        ("000100", "buy", "entry"),
        ("000200", "buy", "entry"),
        ("000100", "sell", "take_profit"),
        ("000200", "sell", "stop_loss"),
    ]

    started = time.monotonic()
    agreement = play_prepared(prepared, tmp_path / "replay", speed=60)
    seconds = time.monotonic() - started

    assert agreement.agrees, "\n".join(agreement.lines())
    assert [(f.key, r.key) for f, r in agreement.matched] == [(f.key, f.key) for f in prepared.fast]
    assert seconds < 60


def test_orders_match_on_code_side_quantity_limit_and_time() -> None:
    buy = PlacedOrder("000100", "buy", 300, 10_500, at(DAY, "09:00"), "entry")
    sell = PlacedOrder("000100", "sell", 300, None, at(DAY, "09:06"), "take_profit")
    replayed = [
        PlacedOrder("000100", "buy", 300, 10_500, at(DAY, "09:00:20")),
        PlacedOrder("000100", "sell", 300, None, at(DAY, "09:09")),  # 3 minutes late
        PlacedOrder("000200", "buy", 10, 20_950, at(DAY, "09:01")),
    ]
    agreement = compare_orders(DAY, [buy, sell], replayed)
    assert [f for f, _ in agreement.matched] == [buy]
    assert agreement.only_fast == (sell,)
    assert [o.code for o in agreement.only_replay] == ["000200", "000100"]  # in time order
    assert not agreement.agrees
    assert agreement.lines()[0] == (f"{DAY}: DIFFER, 1 orders in both, 1 fast only, 2 replay only")


def test_sessions_are_sampled_evenly() -> None:
    days = [date(2026, 1, d) for d in range(1, 11)]
    assert sample_days(days, 3) == [days[0], days[4], days[9]]  # round(4.5) is 4
    assert sample_days(days, 20) == days
    assert sample_days(days, 1) == [days[5]]


def test_bad_replay_options_get_one_line_and_exit_2(tmp_path: Path) -> None:
    demo = ("--picks-dir", str(DEMO / "picks"), "--bars-csv", str(DEMO / "bars.csv.gz"))
    cases = {
        ("--sample", "3"): "kat backtest: --sample only with --replay",
        ("--replay", "--sweep", "TAKE_PROFIT_PCT=3,5"): (
            "kat backtest: --replay and --sweep do not go together"
        ),
        ("--replay", "--sample", "2", "--sessions", "2025-12-18"): (
            "kat backtest: give --sample or --sessions, not both"
        ),
        ("--replay", "--sessions", "2025-12-20"): (
            "kat backtest: --sessions: 2025-12-20 is not a session from 2025-12-17 to 2026-01-16"
            " with picks"
        ),
        ("--replay", "--replay-speed", "0"): "kat backtest: --replay-speed must be above 0, got 0",
    }
    for args, message in cases.items():
        result = kat(tmp_path, *RANGE, *demo, *args)
        assert (result.returncode, result.stderr.strip(), result.stdout) == (2, message, "")
