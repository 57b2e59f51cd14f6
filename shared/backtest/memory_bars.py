"""Bars held in memory behind the bar store's read methods: tests, the demo and the benchmark.

Built from :class:`shared.trading.bars.Bar` lists, from columns, or from a CSV file in the
import columns, read by the importer of ``kat history import`` (docs/ARCHITECTURE.md, 'History'). A
session is covered for a code when it has bars of that kind, or when it is named as halted (known,
and without a trade).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path

from shared.backtest.bar_source import DAILY_MINUTE, BarArrays, BarSource, SessionBars
from shared.history.csv_import import read_bars_csv
from shared.trading.bars import Bar, BarError, BarKind
from shared.trading.market_calendar import KrxCalendar


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
    def from_csv(cls, path: Path, calendar: KrxCalendar) -> MemoryBars:
        """The bars of a CSV file (``.csv`` or gzip ``.csv.gz``) read and checked as
        ``kat history import`` reads it (``shared/history/csv_import.py``: CsvError naming every
        bad line), its days without trades among the halted."""
        checked = read_bars_csv(path, calendar)
        halted = [(code, day, BarKind.DAY) for code, day in checked.no_trades]
        return cls.from_bars([*checked.minute, *checked.daily], halted)

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
