"""Which picks file belongs to which session: a pure choice from names and write times."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from shared.infra.clock import KST
from shared.trading.picks_files import choose_picks_file, session_in_name

SESSION = date(2026, 11, 24)
PREVIOUS_CLOSE = datetime(2026, 11, 23, 15, 30, tzinfo=KST)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("select_dict_20261124.pkl", SESSION),
        ("2026-11-24.json", SESSION),
        ("picks-2026-11-24.csv", SESSION),
        ("select_dict.pkl", None),
        ("picks_20261324.json", None),  # month 13: not a date
        ("2026112412.json", None),  # a longer run of digits is not a date
        ("20261123_to_20261124.json", None),  # two dates: ambiguous
    ],
)
def test_the_session_a_name_carries(name: str, expected: date | None) -> None:
    assert session_in_name(Path(name)) == expected


def choose(
    picks_file: str | None = None,
    picks_dir: str | None = None,
    listing: tuple[str, ...] = (),
    written: datetime = datetime(2026, 11, 23, 20, 0, tzinfo=KST),
) -> tuple[str | None, str]:
    choice = choose_picks_file(
        SESSION,
        picks_file=Path(picks_file) if picks_file else None,
        picks_dir=Path(picks_dir) if picks_dir else None,
        listing=[Path(picks_dir or ".") / name for name in listing],
        previous_close=PREVIOUS_CLOSE,
        written_kst=lambda _path: written,
    )
    return (choice.path.name if choice.path else None), choice.problem


def test_a_directory_gives_the_file_named_for_the_session() -> None:
    files = ("select_dict_20261121.pkl", "select_dict_20261124.pkl", "notes-20261124.txt")
    assert choose(picks_dir="picks", listing=files) == ("select_dict_20261124.pkl", "")


def test_a_directory_without_the_sessions_file_gives_none_and_says_so() -> None:
    path, problem = choose(picks_dir="picks", listing=("select_dict_20261121.pkl",))
    assert path is None and "no picks file for 2026-11-24" in problem


def test_two_files_for_one_session_are_refused_rather_than_guessed() -> None:
    path, problem = choose(picks_dir="picks", listing=("2026-11-24.json", "picks_20261124.csv"))
    assert path is None and "several picks files" in problem


def test_a_dated_picks_file_trades_on_its_session_only() -> None:
    assert choose("select_dict_20261124.pkl") == ("select_dict_20261124.pkl", "")
    path, problem = choose("select_dict_20261121.pkl")
    assert path is None and "is for 2026-11-21, not 2026-11-24" in problem


def test_an_undated_picks_file_counts_only_when_written_after_the_previous_close() -> None:
    assert choose("select_dict.pkl") == ("select_dict.pkl", "")
    at_the_close = choose("select_dict.pkl", written=PREVIOUS_CLOSE)
    assert at_the_close[0] is None and "before the previous session closed" in at_the_close[1]
    days_old = choose("select_dict.pkl", written=datetime(2026, 11, 20, 18, tzinfo=KST))
    assert days_old[0] is None and "yesterday's picks are not traded again" in days_old[1]


def test_nothing_configured_is_no_file_and_no_problem() -> None:
    assert choose() == (None, "")
