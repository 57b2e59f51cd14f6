"""Where the backtest reads bars: the three read methods of the bar store, as a protocol.

See docs/ARCHITECTURE.md, 'Backtest'. The bar store (``shared/history/store.py``, DuckDB) has
exactly these methods; :class:`shared.backtest.memory_bars.MemoryBars` is the in-memory one
(tests, the demo, the benchmark). Bars come as columns, one :class:`BarArrays` per (code,
session), so a year of minute bars is read in one query and searched with numpy.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Protocol

import numpy as np
import numpy.typing as npt

from shared.trading.bars import BarKind

IntArray = npt.NDArray[np.int64]

DAILY_MINUTE = -1
"""``BarArrays.minute`` of a daily bar (it starts at no minute)."""


@dataclass(frozen=True, eq=False)
class BarArrays:
    """One code's bars of one session, in time order, as equally long integer columns.

    ``minute`` is the minute a bar starts, in minutes after midnight KST (570 is 09:30), or
    :data:`DAILY_MINUTE` for the session's daily bar; prices in won, volume in shares.
    """

    minute: IntArray
    open: IntArray
    high: IntArray
    low: IntArray
    close: IntArray
    volume: IntArray

    def __len__(self) -> int:
        return len(self.minute)

    @classmethod
    def of_rows(cls, rows: Iterable[tuple[int, int, int, int, int, int]]) -> BarArrays:
        """Columns from ``(minute, open, high, low, close, volume)`` rows in time order."""
        table = np.array(list(rows), dtype=np.int64).reshape(-1, 6)
        return cls(*(np.ascontiguousarray(table[:, i]) for i in range(6)))

    @functools.cached_property
    def traded(self) -> bool:
        """Whether any share changed hands in these bars (a halted day's bars trade none);
        summed once (the driver asks for every code at every session of every run)."""
        return bool(len(self) and int(self.volume.sum()) > 0)


SessionBars = Mapping[tuple[str, date], BarArrays]
"""Bars by (code, session)."""


class BarSource(Protocol):
    """The bar store's read side, as the backtest uses it (``start`` and ``end`` included)."""

    def sessions_covered(
        self, kind: BarKind, codes: Iterable[str], start: date, end: date
    ) -> dict[str, set[date]]:
        """The sessions whose bars of ``kind`` are known for each code: fetched or imported,
        including sessions known to have had no trade (a halted day)."""
        ...

    def minute_bars(self, codes: Iterable[str], start: date, end: date) -> SessionBars:
        """Every minute bar of ``codes`` from ``start`` to ``end``, by (code, session)."""
        ...

    def daily_bars(self, codes: Iterable[str], start: date, end: date) -> SessionBars:
        """Every daily bar of ``codes`` from ``start`` to ``end``: one row per (code, session)."""
        ...
