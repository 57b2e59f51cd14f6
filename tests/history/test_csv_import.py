"""``kat history import FILE``: a good file is stored whole; a bad one is refused whole, each
bad line named with its number, and nothing is written."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

from shared.history.csv_import import parse_bars_csv
from shared.history.store import Status
from shared.trading.bars import Bar, BarKind
from shared.trading.market_calendar import KrxCalendar
from tests.history.conftest import History

GOOD = """\
code,date,time,open,high,low,close,volume
005930,2026-03-03,09:00,70000,70500,69800,70100,1200
005930,2026-03-03,09:01,70100,70200,70000,70000,300
005930,2026-03-03,15:30:00,70300,70300,70300,70300,9000
005930,2026-03-03,,70000,70500,69800,70300,10500
000660,2026-03-04,,150000,152000,149000,151000,800
000660,2026-03-05,,151000,151000,151000,151000,0
"""


def test_a_good_file_is_stored_and_shown(offline: History, tmp_path: Path) -> None:
    path = tmp_path / "bars.csv"
    path.write_text(GOOD, encoding="utf-8")
    done = offline.kat("import", str(path))
    assert done.returncode == 0, done.stderr
    assert "3 minute bars (1 code-days), 2 daily bars, 1 days without trades" in done.stdout

    with offline.store() as store:
        minutes = store.minute_bars(["005930"], date(2026, 3, 3), date(2026, 3, 3))
        day = minutes.day("005930", date(2026, 3, 3))
        assert day is not None
        assert day.bars() == [
            Bar("005930", date(2026, 3, 3), time(9, 0), 70000, 70500, 69800, 70100, 1200),
            Bar("005930", date(2026, 3, 3), time(9, 1), 70100, 70200, 70000, 70000, 300),
            Bar("005930", date(2026, 3, 3), time(15, 30), 70300, 70300, 70300, 70300, 9000),
        ]
        daily = store.daily_bars(["005930", "000660"], date(2026, 3, 1), date(2026, 3, 31))
        assert daily["000660"].bars() == [
            Bar("000660", date(2026, 3, 4), None, 150000, 152000, 149000, 151000, 800)
        ]
        assert daily["005930"].dates() == [date(2026, 3, 3)]
        halted = store.no_trade_days(BarKind.DAY, ["000660"], date(2026, 3, 1), date(2026, 3, 31))
        assert halted == {"000660": {date(2026, 3, 5)}}
        assert {row.source for row in store.coverage()} == {"csv:bars.csv"}
        assert all(
            row.status is Status.COMPLETE for row in store.coverage() if row.day != date(2026, 3, 5)
        )

    shown = offline.kat("show", "--codes", "000660")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[1] == (
        "000660  daily   2026-03-04..2026-03-05  1 sessions  no trades: 2026-03-05  "
        "gaps: none  from csv:bars.csv"
    )

    again = offline.kat("import", str(path))  # the same file again replaces, never duplicates
    assert "4 code-days replaced" in again.stdout
    with offline.store() as store:
        assert len(store.minute_bars(["005930"], date(2026, 3, 3), date(2026, 3, 3))) == 3


BAD_LINES = {
    "005930,2026-03-03,09:02,70000,70500,69800,70100": "7 fields, the header has 8",
    "5930,2026-03-03,09:02,70000,70500,69800,70100,1": "code '5930' is not a 6-digit KRX code",
    "005930,2026/03/03,09:02,70000,70500,69800,70100,1": "date '2026/03/03' is not a date",
    "005930,2026-02-30,09:02,70000,70500,69800,70100,1": "date '2026-02-30' is not a date",
    "005930,2026-03-01,09:02,70000,70500,69800,70100,1": "2026-03-01 is not a KRX session",
    "005930,2026-03-03,08:59,70000,70500,69800,70100,1": "time 08:59 is outside the session",
    "005930,2026-03-03,9h02,70000,70500,69800,70100,1": "time '9h02' is not a time HH:MM",
    "005930,2026-03-03,09:02:30,70000,70500,69800,70100,1": "does not start a minute",
    "005930,2026-03-03,09:02,70000.5,70500,69800,70100,1": "open '70000.5' is not a whole",
    "005930,2026-03-03,09:02,70000,70500,69800,70100,-1": "volume '-1' is not a whole number",
    "005930,2026-03-03,09:02,70000,69000,69800,70100,1": "high 69000 and low 69800 do not",
    "005930,2026-03-03,09:02,0,70500,0,70100,1": "every price must be a positive number",
    "005930,2026-03-03,09:00,70000,70500,69800,70100,1": "005930 2026-03-03 09:00 repeats line 2",
    "": "empty line",
    "005930,2026-03-03,,70000,70500,69800,70100,0": "a day without trades (daily volume 0)",
}


def test_a_bad_file_is_refused_whole_with_every_line_named(
    offline: History, tmp_path: Path
) -> None:
    good = tmp_path / "bars.csv"
    good.write_text(GOOD, encoding="utf-8")
    assert offline.kat("import", str(good)).returncode == 0
    with offline.store() as store:
        before = store.coverage()

    header, first = GOOD.splitlines()[:2]
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join([header, first, *BAD_LINES, first]) + "\n", encoding="utf-8")
    done = offline.kat("import", str(bad))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines[0] == "bad.csv: refused, nothing stored"
    for number, (text, problem) in enumerate(BAD_LINES.items(), start=3):
        assert any(line.startswith(f"line {number}: ") and problem in line for line in lines), (
            text,
            problem,
            done.stderr,
        )
    last = len(BAD_LINES) + 3
    assert f"line {last}: 005930 2026-03-03 09:00 repeats line 2" in lines
    assert len(lines) == 1 + len(BAD_LINES) + 1

    with offline.store() as store:
        assert store.coverage() == before  # nothing written
        assert len(store.minute_bars(["005930"], date(2026, 3, 3), date(2026, 3, 3))) == 3


def test_bad_headers_and_bytes_are_refused(tmp_path: Path) -> None:
    calendar = KrxCalendar()
    cases = {
        b"code,date,open,high,low,close\n": "line 1: the header has no volume column",
        b"code,date,time,open,high,low,close,volume,note\n": "line 1: unknown column 'note'",
        b"code,date,date,open,high,low,close,volume\n": "line 1: column 'date' appears twice",
        b"code,date,time,open,high,low,close,volume\n": "line 2: no bars after the header",
        b"": "line 1: empty file",
        b"code,date,time,open,high,low,close,volume\n005930,\xff\n": "not UTF-8 text",
    }
    for data, problem in cases.items():
        try:
            parse_bars_csv(data, "x.csv", calendar)
        except ValueError as e:
            assert problem in str(e), (data, str(e))
        else:
            raise AssertionError(f"{data!r} was accepted")


def test_a_file_without_a_time_column_holds_daily_bars(offline: History, tmp_path: Path) -> None:
    path = tmp_path / "daily.csv"
    path.write_text(
        "date,code,open,high,low,close,volume\n"
        "2026-03-03,005930,70000,70500,69800,70300,10500\n"
        "2026-03-04,005930,70300,71000,70100,70900,9000\n",
        encoding="utf-8-sig",
    )
    done = offline.kat("import", str(path))
    assert done.returncode == 0, done.stderr
    with offline.store() as store:
        series = store.daily_bars(["005930"], date(2026, 3, 1), date(2026, 3, 31))["005930"]
        assert series.dates() == [date(2026, 3, 3), date(2026, 3, 4)]
        assert list(series.close) == [70300, 70900]
        assert store.minute_bars(["005930"], date(2026, 3, 1), date(2026, 3, 31)).spans == {}

    missing = offline.kat("import", str(tmp_path / "nope.csv"))
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [
        f"kat history: cannot read {tmp_path / 'nope.csv'}: No such file or directory"
    ]
