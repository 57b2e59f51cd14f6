"""Picks for past sessions: dated files read as PICKS_DIR is live, or a universe of codes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from shared.backtest.config import BacktestConfig
from shared.backtest.market_data import BacktestInputError
from shared.backtest.picks_source import PicksDir, Universe
from shared.backtest.results import ProblemKind
from shared.trading.market_calendar import KrxCalendar
from tests.backtest.helpers import daily, flat, run, write_picks

MON, TUE, WED, THU = (date(2026, 3, d) for d in (2, 3, 4, 5))
FRI_BEFORE = date(2026, 2, 27)  # 2026-03-02 is the 삼일절 substitute holiday
A, B = "000010", "000020"


def test_each_session_trades_its_own_file_and_bad_files_are_named(tmp_path: Path) -> None:
    directory = write_picks(tmp_path, {TUE: {A: ("가", 10_000)}})
    (directory / "select_dict_20260304.json").write_text('{"000020": ["나", 0]}')  # bad target
    (directory / "notes.txt").write_text("not a picks file")
    bars = [*flat(A, TUE, 10_100), *flat(B, WED, 10_100), *flat(A, WED, 10_100)]
    result = run(BacktestConfig(TUE, THU), bars, directory)
    # Tuesday buys A; Wednesday's file is refused whole (no buys); Thursday has no file.
    assert [(o.session, o.code) for o in result.orders] == [(TUE, A)]
    picks = [p for p in result.problems if p.kind is ProblemKind.PICKS]
    assert [(p.session, p.code) for p in picks] == [(WED, ""), (THU, "")]
    assert "select_dict_20260304.json" in picks[0].detail and "no buys" in picks[0].detail
    assert (
        picks[1].detail
        == "no picks file for 1 of 3 sessions (2026-03-05 to 2026-03-05): no buys on them"
    )


def test_two_files_for_one_session_are_refused_rather_than_guessed(tmp_path: Path) -> None:
    directory = write_picks(tmp_path, {TUE: {A: ("가", 10_000)}})
    (directory / "20260303.csv").write_text("code,name,target\n000020,나,10000\n")
    source = PicksDir(directory, KrxCalendar())
    given = source.for_session(TUE, {})
    assert given.picks == () and "several picks files" in given.problems[0]


def test_a_universe_picks_every_code_at_the_previous_close(tmp_path: Path) -> None:
    # Targets: Friday's close for Tuesday (Monday is a holiday), Tuesday's for Wednesday.
    bars = [
        daily(A, FRI_BEFORE, 10_000, 10_000, 10_000, 10_000),
        daily(B, FRI_BEFORE, 20_000, 20_000, 20_000, 20_000),
        *flat(A, TUE, 10_100),
        *flat(B, TUE, 19_900),
        *flat(A, WED, 10_100),
        *flat(B, WED, 20_000),
    ]
    result = run(BacktestConfig(TUE, WED), bars, Universe([A, B]))
    assert [(o.session, o.code, o.price_seen, o.limit_price) for o in result.orders] == [
        (TUE, A, 10_100, 10_490),  # band [10,000, 10,500)
        # B's Tuesday close, 19,900, is Wednesday's target: 20,000 is in [19,900, 20,895).
        (WED, B, 20_000, 20_850),
    ]
    # Tuesday: 5,000,000 each; A takes 495 x 10,100 + fee 702. Wednesday: A is held (dropped
    # from the plan), so B gets all of the 4,999,798 won orderable: 249 shares at 20,000, of
    # which KIS allows 239 at the limit 20,850.
    assert [(o.quantity, o.sent_quantity) for o in result.orders] == [(495, 495), (249, 239)]


def test_a_universe_code_without_a_close_is_named_and_bad_codes_refused() -> None:
    universe = Universe(["000010", " 000020 "])
    given = universe.for_session(TUE, {A: 10_000})
    assert [p.code for p in given.picks] == [A]
    assert given.problems == ("000020 has no close before 2026-03-03: not a pick that session",)
    with pytest.raises(BacktestInputError, match="6-digit codes"):
        Universe(["5930"])
