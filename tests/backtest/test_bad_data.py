"""Bad data is named in the result, never filled: a gap, a halted day, a pick without bars, a
split; and a bars file that cannot be read is refused with its line."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from shared.backtest.config import BacktestConfig
from shared.backtest.market_data import BacktestInputError
from shared.backtest.memory_bars import MemoryBars
from shared.backtest.picks_source import Universe
from shared.backtest.results import DataProblem, ProblemKind
from shared.history.csv_import import CsvError
from shared.trading.bars import Bar, BarKind
from shared.trading.market_calendar import KrxCalendar
from tests.backtest.helpers import at, daily, flat, run, write_picks

TUE, WED = date(2026, 3, 3), date(2026, 3, 4)
A, B = "000010", "000020"


def named(problems: tuple[DataProblem, ...], kind: ProblemKind) -> list[tuple[date, str, str]]:
    return [(p.session, p.code, p.detail) for p in problems if p.kind is kind]


def kept(bars: list[Bar], keep: Callable[[str], bool]) -> list[Bar]:
    """The bars whose minute (``HH:MM``) ``keep`` accepts."""
    return [b for b in bars if b.minute is not None and keep(b.minute.strftime("%H:%M"))]


def test_a_gap_is_named(tmp_path: Path) -> None:
    bars = kept(flat(A, TUE, 9_900), lambda hhmm: not "10:00" <= hhmm < "10:10")
    result = run(BacktestConfig(TUE, TUE), bars, write_picks(tmp_path, {TUE: {A: ("가", 10_000)}}))
    assert named(result.problems, ProblemKind.GAP) == [
        (TUE, A, "10 of 380 minutes without a bar (10:00-10:09): not walked, never filled")
    ]


def test_a_gap_lists_its_first_runs(tmp_path: Path) -> None:
    there = {"09:00", "09:02", "09:05", "09:09", "09:14"}
    bars = kept(flat(A, TUE, 9_900), there.__contains__)
    result = run(BacktestConfig(TUE, TUE), bars, write_picks(tmp_path, {TUE: {A: ("가", 10_000)}}))
    ((_, _, detail),) = named(result.problems, ProblemKind.GAP)
    assert detail.startswith("375 of 380 minutes without a bar (09:01, 09:03-09:04, 09:06-09:08")
    assert "and 2 more" in detail


def test_a_halted_day_is_named_whether_known_empty_or_without_volume(tmp_path: Path) -> None:
    bars = [
        daily(A, date(2026, 2, 27), 10_000, 10_000, 10_000, 10_000),
        daily(B, date(2026, 2, 27), 10_000, 10_000, 10_000, 10_000),
        daily(B, TUE, 10_000, 10_000, 10_000, 10_000, volume=0),  # KIS's bar of a halted day
        *flat(A, WED, 10_100),
        *flat(B, WED, 10_100),
    ]
    result = run(
        BacktestConfig(TUE, WED), bars, Universe([A, B]), halted=[(A, TUE, BarKind.MINUTE)]
    )
    assert named(result.problems, ProblemKind.HALTED) == [
        (TUE, A, "known without a bar: a halted day, nothing traded"),
        (TUE, B, "no volume: a halted day, nothing traded"),
    ]
    # Nothing traded on the halted day at the prices of its empty bar; both buy on Wednesday.
    assert [(o.session, o.code) for o in result.orders] == [(WED, A), (WED, B)]


def test_a_pick_without_bars_is_named(tmp_path: Path) -> None:
    bars = flat(A, TUE, 10_100)
    picks = write_picks(tmp_path, {TUE: {A: ("가", 10_000), B: ("나", 10_000)}})
    result = run(BacktestConfig(TUE, TUE), bars, picks)
    assert named(result.problems, ProblemKind.NO_BARS) == [
        (TUE, B, "a pick without bars for the session (not fetched or imported): nothing traded")
    ]
    # B's half of the cash stays unspent, as live would leave it.
    assert [o.code for o in result.orders] == [A]


def test_a_split_is_named_from_a_jump_beyond_the_daily_limit(tmp_path: Path) -> None:
    bars = [*flat(A, TUE, 20_000), *flat(A, WED, 10_000)]
    picks = write_picks(tmp_path, {TUE: {A: ("가", 19_900)}})
    result = run(BacktestConfig(TUE, WED), bars, picks)
    assert named(result.problems, ProblemKind.SPLIT) == [
        (
            WED,
            A,
            "price 10,000 is beyond KRX's ±30 % of the previous close 20,000 (14,000 to"
            " 26,000): a split or an adjustment? prices not adjusted",
        )
    ]
    # The position bought at 20,000 meets the halved price: a stop loss, with the split named.
    (trade,) = result.trades
    assert (trade.reason, trade.exit_moment, trade.problems) == (
        "stop_loss",
        at(WED, "09:00:00"),
        (ProblemKind.SPLIT,),
    )


def test_no_bars_at_all_is_refused_in_one_line(tmp_path: Path) -> None:
    picks = write_picks(tmp_path, {TUE: {A: ("가", 10_000)}})
    with pytest.raises(BacktestInputError, match=r"^no minute or daily bars of 1 code\(s\)"):
        run(BacktestConfig(TUE, TUE), flat(B, TUE, 10_000), picks)


def test_a_bars_file_is_refused_whole_with_its_line(tmp_path: Path) -> None:
    """The backtest reads a bars file as ``kat history import`` does (one reader, gzip too)."""
    good = "code,date,time,open,high,low,close,volume\n000010,2026-03-03,09:00,100,110,90,105,7\n"
    path = tmp_path / "bars.csv.gz"
    path.write_bytes(gzip.compress(good.encode()))
    bars = MemoryBars.from_csv(path, KrxCalendar())
    (arrays,) = bars.minute_bars([A], TUE, TUE).values()
    assert (int(arrays.minute[0]), int(arrays.high[0]), int(arrays.volume[0])) == (540, 110, 7)
    bad = tmp_path / "bad.csv"
    bad.write_text(good + "000010,2026-03-03,09:01,100,90,95,100,7\n")
    with pytest.raises(CsvError, match=r"bad.csv: refused, nothing stored\nline 3: .*high 90"):
        MemoryBars.from_csv(bad, KrxCalendar())
    bad.write_text("code,date,open,high,low,close\n")
    with pytest.raises(CsvError, match="line 1: the header has no volume column"):
        MemoryBars.from_csv(bad, KrxCalendar())
