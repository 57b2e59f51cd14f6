"""Bars held in memory behind the bar store's read methods: tests, the demo and the benchmark.

Built from :class:`shared.trading.bars.Bar` lists, from columns, or from a CSV file in the
import columns (``code,date,time,open,high,low,close,volume``; ``time`` empty or absent for a
daily bar; docs/ARCHITECTURE.md, 'Backtest'). A session is covered for a code when it has bars
of that kind, or when it is named as halted (known, and without a trade).
"""

from __future__ import annotations

import csv
import gzip
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, time
from pathlib import Path

from shared.backtest.bar_source import DAILY_MINUTE, BarArrays, BarSource, SessionBars
from shared.trading.bars import Bar, BarError, BarKind

CSV_COLUMNS = ("code", "date", "time", "open", "high", "low", "close", "volume")
"""The import columns, in this order (``time`` may be left out for daily bars only)."""


class BarsFileError(ValueError):
    """A bars file that cannot be read as a whole; the message names the line."""


class MemoryBars:
    """Bars by kind and (code, session), with the sessions each code is known for."""

    def __init__(
        self,
        minute: Mapping[tuple[str, date], BarArrays],
        daily: Mapping[tuple[str, date], BarArrays],
        halted: Iterable[tuple[str, date, BarKind]] = (),
    ) -> None:
        self._bars = {BarKind.MINUTE: dict(minute), BarKind.DAY: dict(daily)}
        self._covered: dict[BarKind, dict[str, set[date]]] = {
            kind: defaultdict(set) for kind in BarKind
        }
        for kind, bars in self._bars.items():
            for code, day in bars:
                self._covered[kind][code].add(day)
        for code, day, kind in halted:
            self._covered[kind][code].add(day)

    @classmethod
    def from_bars(
        cls, bars: Iterable[Bar], halted: Iterable[tuple[str, date, BarKind]] = ()
    ) -> MemoryBars:
        """Group ``bars`` by kind, code and session (two bars of one minute: BarError)."""
        rows: dict[tuple[BarKind, str, date], list[tuple[int, int, int, int, int, int]]] = (
            defaultdict(list)
        )
        for bar in bars:
            minute = (
                DAILY_MINUTE if bar.minute is None else bar.minute.hour * 60 + bar.minute.minute
            )
            rows[(bar.kind, bar.code, bar.day)].append(
                (minute, bar.open, bar.high, bar.low, bar.close, bar.volume)
            )
        grouped: dict[BarKind, dict[tuple[str, date], BarArrays]] = {k: {} for k in BarKind}
        for (kind, code, day), group in rows.items():
            group.sort()
            minutes = [r[0] for r in group]
            if len(set(minutes)) != len(minutes):
                what = "daily bar" if kind is BarKind.DAY else "minute"
                raise BarError(f"{code} {day}: the same {what} given twice")
            grouped[kind][(code, day)] = BarArrays.of_rows(group)
        return cls(grouped[BarKind.MINUTE], grouped[BarKind.DAY], halted)

    @classmethod
    def preloaded(
        cls, source: BarSource, codes: Iterable[str], start: date, end: date, kind: BarKind
    ) -> MemoryBars:
        """What a run from ``start`` to ``end`` reads of ``source`` (minute bars only for a
        minute run), read once into memory: a sweep's runs read this, never the store again."""
        wanted = sorted(set(codes))
        minute = source.minute_bars(wanted, start, end) if kind is BarKind.MINUTE else {}
        daily = source.daily_bars(wanted, start, end)
        covered = [
            (code, day, k)
            for k in BarKind
            for code, days in source.sessions_covered(k, wanted, start, end).items()
            for day in days
        ]
        return cls(minute, daily, covered)

    @classmethod
    def from_csv(cls, path: Path) -> MemoryBars:
        """The bars of a CSV file (``.csv`` or gzip ``.csv.gz``) in the import columns."""
        return cls.from_bars(read_bars_csv(path))

    # The bar store's read methods ------------------------------------------------------------
    def sessions_covered(
        self, kind: BarKind, codes: Iterable[str], start: date, end: date
    ) -> dict[str, set[date]]:
        covered = self._covered[kind]
        return {c: {d for d in covered.get(c, set()) if start <= d <= end} for c in set(codes)}

    def minute_bars(self, codes: Iterable[str], start: date, end: date) -> SessionBars:
        return self._select(BarKind.MINUTE, codes, start, end)

    def daily_bars(self, codes: Iterable[str], start: date, end: date) -> SessionBars:
        return self._select(BarKind.DAY, codes, start, end)

    def _select(self, kind: BarKind, codes: Iterable[str], start: date, end: date) -> SessionBars:
        wanted = set(codes)
        return {
            key: bars
            for key, bars in self._bars[kind].items()
            if key[0] in wanted and start <= key[1] <= end
        }


def read_bars_csv(path: Path) -> list[Bar]:
    """Every bar of a CSV file in the import columns, or BarsFileError naming the bad line."""
    try:
        raw = path.read_bytes()
        if path.suffix == ".gz":
            raw = gzip.decompress(raw)
        text = raw.decode("utf-8-sig")
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise BarsFileError(f"{path}: cannot read it: {e}") from None
    except UnicodeDecodeError as e:
        raise BarsFileError(f"{path}: not UTF-8 text (byte {e.start})") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in next(reader, [])]
    expected = [c for c in CSV_COLUMNS if c != "time" or "time" in header]
    if header != expected:
        raise BarsFileError(
            f"{path}: line 1: the header must be {','.join(CSV_COLUMNS)} (got {','.join(header)})"
        )
    bars = []
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        try:
            if len(cells) != len(expected):
                raise ValueError(f"{len(cells)} cells where the header has {len(expected)}")
            bars.append(_bar(dict(zip(expected, (c.strip() for c in cells), strict=True))))
        except (ValueError, BarError) as e:
            raise BarsFileError(f"{path}: line {reader.line_num}: {e}") from None
    return bars


def _bar(row: dict[str, str]) -> Bar:
    code = row["code"]
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        raise ValueError(f"code must be 6 digits, got {code!r}")
    minute = _minute(row.get("time", ""))
    numbers = [int(row[c]) for c in ("open", "high", "low", "close", "volume")]
    return Bar(code, _day(row["date"]), minute, *numbers)


def _day(text: str) -> date:
    if len(text) == 8 and text.isdigit():
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    return date.fromisoformat(text)


def _minute(text: str) -> time | None:
    """``HH:MM``, ``HH:MM:SS``, ``HHMM`` or ``HHMMSS``; empty for a daily bar."""
    if not text:
        return None
    digits = text.replace(":", "")
    if not digits.isdigit() or len(digits) not in (4, 6):
        raise ValueError(f"time must be HH:MM or HHMMSS, got {text!r}")
    parsed = time(int(digits[:2]), int(digits[2:4]), int(digits[4:] or 0))
    if parsed.second:
        raise ValueError(f"a minute bar starts on a whole minute, got {text!r}")
    return parsed
