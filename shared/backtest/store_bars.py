"""The bar store (``shared/history/store.py``) as the backtest's :class:`BarSource`.

See docs/ARCHITECTURE.md, 'Backtest' and 'History'. The store reads each kind in one query; this
only regroups its columns by (code, session), as views where it can (no copy of a minute).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import numpy as np

from shared.backtest.bar_source import DAILY_MINUTE, BarArrays, SessionBars
from shared.history.store import BarStore
from shared.trading.bars import BarKind


class StoreBars:
    """Read-only bars of a :class:`BarStore` in the shape the backtest walks."""

    def __init__(self, store: BarStore) -> None:
        self._store = store

    def sessions_covered(
        self, kind: BarKind, codes: Iterable[str], start: date, end: date
    ) -> dict[str, set[date]]:
        return self._store.sessions_covered(kind, list(codes), start, end)

    def minute_bars(self, codes: Iterable[str], start: date, end: date) -> SessionBars:
        minutes = self._store.minute_bars(list(codes), start, end)
        grouped: dict[tuple[str, date], BarArrays] = {}
        for (code, day), (lo, hi) in minutes.spans.items():
            s = slice(lo, hi)
            grouped[(code, day)] = BarArrays(
                minutes.minute[s],
                minutes.open[s],
                minutes.high[s],
                minutes.low[s],
                minutes.close[s],
                minutes.volume[s],
            )
        return grouped

    def daily_bars(self, codes: Iterable[str], start: date, end: date) -> SessionBars:
        grouped: dict[tuple[str, date], BarArrays] = {}
        for code, series in self._store.daily_bars(list(codes), start, end).items():
            for i, day in enumerate(series.dates()):
                grouped[(code, day)] = BarArrays(
                    np.array([DAILY_MINUTE], dtype=np.int64),
                    series.open[i : i + 1],
                    series.high[i : i + 1],
                    series.low[i : i + 1],
                    series.close[i : i + 1],
                    series.volume[i : i + 1],
                )
        return grouped
