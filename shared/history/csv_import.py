"""Bars from a CSV file (data from elsewhere): checked whole first, then stored all or nothing.

The format (docs/ARCHITECTURE.md, 'History'): UTF-8, comma-separated, a header line naming the
columns ``code,date,time,open,high,low,close,volume`` (any order; ``time`` may be left out), then
one bar a line:

- ``code``: the 6-digit KRX code; ``date``: ``YYYY-MM-DD``, a KRX session by the configured
  calendar;
- ``time``: the minute the bar starts, ``HH:MM`` (or ``HH:MM:00``), KST, inside that session's
  hours; empty (or no column) for a daily bar;
- ``open``, ``high``, ``low``, ``close``: whole won, above 0, high and low containing the others;
  ``volume``: whole shares, 0 or more. A daily bar with volume 0 records a session without
  trades (halted): no bar is stored for it, the day is named.

A file with any bad line is refused whole, every problem named with its line number (up to
:data:`MAX_PROBLEMS`), and nothing is written. The simulator reads the same format to replay bars.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING

from shared.trading.bars import Bar, BarKind, bar_problem
from shared.trading.market_calendar import KrxCalendar

if TYPE_CHECKING:
    from shared.history.store import BarStore

COLUMNS = ("code", "date", "time", "open", "high", "low", "close", "volume")
"""Every column a bars file may have."""
OPTIONAL = frozenset({"time"})
MAX_PROBLEMS = 20
"""Problems listed before the rest are only counted."""
CODE = re.compile(r"[0-9]{6}")
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MINUTE = re.compile(r"([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?")
WHOLE = re.compile(r"[0-9]+")


class CsvError(ValueError):
    """A bars file that is refused whole; the message lists each problem with its line."""

    def __init__(self, name: str, problems: list[str]) -> None:
        shown = problems[:MAX_PROBLEMS]
        more = len(problems) - len(shown)
        tail = [f"... and {more} more"] if more else []
        super().__init__("\n".join([f"{name}: refused, nothing stored", *shown, *tail]))
        self.problems = problems


@dataclass(frozen=True)
class CsvBars:
    """A checked file: minute bars, daily bars and days recorded without trades."""

    source: str
    minute: tuple[Bar, ...]
    daily: tuple[Bar, ...]
    no_trades: tuple[tuple[str, date], ...]


@dataclass(frozen=True)
class ImportReport:
    """What an import stored."""

    minute_bars: int
    minute_days: int
    daily_bars: int
    no_trades: int
    replaced: int
    """(code, day, kind) already in the store that the file replaced."""


def read_bars_csv(path: Path, calendar: KrxCalendar) -> CsvBars:
    """Parse and check ``path``, plain or gzip (``.gz``): CsvError listing every problem, OSError
    if unreadable."""
    data = path.read_bytes()
    if path.suffix == ".gz":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as e:
            raise CsvError(path.name, [f"not a readable gzip file: {e}"]) from None
    return parse_bars_csv(data, path.name, calendar)


def parse_bars_csv(data: bytes, name: str, calendar: KrxCalendar) -> CsvBars:
    """Parse and check a bars file's bytes; ``name`` is used in messages and the source."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise CsvError(name, [f"byte {e.start}: not UTF-8 text"]) from None
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows:
        raise CsvError(name, ["line 1: empty file: the header line is missing"])
    header = [cell.strip().lower() for cell in rows[0]]
    problems = _header_problems(header)
    if problems:
        raise CsvError(name, problems)
    parser = _Lines(header, calendar)
    for number, cells in enumerate(rows[1:], start=2):
        parser.line(number, cells)
    if not parser.problems and not parser.seen:
        parser.problems.append("line 2: no bars after the header")
    if parser.problems:
        raise CsvError(name, parser.problems)
    return CsvBars(
        f"csv:{name}", tuple(parser.minute), tuple(parser.daily), tuple(parser.no_trades)
    )


def import_csv(store: BarStore, bars: CsvBars) -> ImportReport:
    """Store a checked file in one transaction: each (code, day) it names is replaced whole."""
    from shared.history.store import Status

    by_day: dict[tuple[str, date], list[Bar]] = defaultdict(list)
    for bar in bars.minute:
        by_day[(bar.code, bar.day)].append(bar)
    by_code: dict[str, list[Bar]] = defaultdict(list)
    for bar in bars.daily:
        by_code[bar.code].append(bar)
    codes = sorted({code for code, _ in by_day} | set(by_code) | {c for c, _ in bars.no_trades})
    days = [day for _, day in by_day] + [b.day for b in bars.daily] + [d for _, d in bars.no_trades]
    before = {(row.code, row.day, row.kind) for row in store.coverage(codes, min(days), max(days))}
    written: set[tuple[str, date, BarKind]] = set()
    with store.transaction():
        store.write_minute_days(by_day, bars.source)
        written.update((code, day, BarKind.MINUTE) for code, day in by_day)
        for code, daily in sorted(by_code.items()):
            store.write_daily_bars(code, daily, bars.source)
            written.update((code, bar.day, BarKind.DAY) for bar in daily)
        for code, day in bars.no_trades:
            store.mark(code, day, BarKind.DAY, Status.NO_TRADES, bars.source)
            written.add((code, day, BarKind.DAY))
    return ImportReport(
        minute_bars=len(bars.minute),
        minute_days=len(by_day),
        daily_bars=len(bars.daily),
        no_trades=len(bars.no_trades),
        replaced=len(written & before),
    )


def _header_problems(header: list[str]) -> list[str]:
    problems = []
    unknown = [name for name in header if name not in COLUMNS]
    if unknown:
        problems.append(
            f"line 1: unknown column {unknown[0]!r}; the columns are {','.join(COLUMNS)}"
        )
    missing = [name for name in COLUMNS if name not in header and name not in OPTIONAL]
    if missing:
        problems.append(f"line 1: the header has no {', '.join(missing)} column")
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        problems.append(f"line 1: column {repeated[0]!r} appears twice")
    return problems


class _Lines:
    """Checks data lines one by one, collecting bars and problems."""

    def __init__(self, header: list[str], calendar: KrxCalendar) -> None:
        self.header = header
        self.calendar = calendar
        self.problems: list[str] = []
        self.minute: list[Bar] = []
        self.daily: list[Bar] = []
        self.no_trades: list[tuple[str, date]] = []
        self.seen: dict[tuple[str, date, time | None], int] = {}
        self._traded: dict[tuple[str, date], int] = {}
        self._halted: dict[tuple[str, date], int] = {}

    def line(self, number: int, cells: list[str]) -> None:
        if not cells or all(not cell.strip() for cell in cells):
            self._problem(number, "empty line")
            return
        if len(cells) != len(self.header):
            self._problem(number, f"{len(cells)} fields, the header has {len(self.header)}")
            return
        row = {name: cell.strip() for name, cell in zip(self.header, cells, strict=True)}
        problem = self._check(number, row)
        if problem:
            self._problem(number, problem)

    def _check(self, number: int, row: dict[str, str]) -> str:
        code = row["code"]
        if not CODE.fullmatch(code):
            return f"code {code!r} is not a 6-digit KRX code"
        day, problem = _day(row["date"])
        if day is None:
            return problem
        session = self.calendar.session(day)
        if session is None:
            return f"{day} is not a KRX session (see KRX_EXTRA_CLOSED, KRX_SPECIAL_SESSIONS)"
        minute, problem = _minute(row.get("time", ""))
        if problem:
            return problem
        if minute is not None and not session.opens.time() <= minute <= session.closes.time():
            hours = f"{session.opens:%H:%M}-{session.closes:%H:%M}"
            return f"time {minute:%H:%M} is outside the session of {day} ({hours}, KST)"
        numbers: dict[str, int] = {}
        for name in ("open", "high", "low", "close", "volume"):
            if not WHOLE.fullmatch(row[name]):
                unit = "shares" if name == "volume" else "won"
                return f"{name} {row[name]!r} is not a whole number of {unit}"
            numbers[name] = int(row[name])
        o, h, lo, c, v = (numbers[k] for k in ("open", "high", "low", "close", "volume"))
        problem = bar_problem(o, h, lo, c, v)
        if problem:
            return problem
        key = (code, day, minute)
        if key in self.seen:
            when = f" {minute:%H:%M}" if minute else ""
            return f"{code} {day}{when} repeats line {self.seen[key]}"
        halted = minute is None and v == 0
        clash = (self._traded if halted else self._halted).get((code, day))
        if clash is not None:
            return (
                f"{code} {day}: a day without trades (daily volume 0) has bars too (line {clash})"
            )
        self.seen[key] = number
        (self._halted if halted else self._traded).setdefault((code, day), number)
        if halted:
            self.no_trades.append((code, day))
        else:
            (self.daily if minute is None else self.minute).append(
                Bar(code, day, minute, o, h, lo, c, v)
            )
        return ""

    def _problem(self, number: int, text: str) -> None:
        self.problems.append(f"line {number}: {text}")


def _day(text: str) -> tuple[date | None, str]:
    if DATE.fullmatch(text):
        try:
            return datetime.strptime(text, "%Y-%m-%d").date(), ""
        except ValueError:
            pass
    return None, f"date {text!r} is not a date YYYY-MM-DD"


def _minute(text: str) -> tuple[time | None, str]:
    if not text:
        return None, ""
    match = MINUTE.fullmatch(text)
    if match:
        hour, minute, second = (int(g) if g else 0 for g in match.groups())
        if hour < 24 and minute < 60 and second == 0:
            return time(hour, minute), ""
        if hour < 24 and minute < 60 and second < 60:
            return None, f"time {text!r} does not start a minute (a minute bar's seconds are 00)"
    return None, f"time {text!r} is not a time HH:MM"
