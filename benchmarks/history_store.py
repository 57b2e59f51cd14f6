"""Benchmark: reading a year of minute bars of 40 codes from the bar store, the read the
backtest makes (docs/DECISIONS.md, 'The bar store').

    python -m benchmarks.history_store                  # 40 codes x 245 sessions x 381 bars
    python -m benchmarks.history_store --codes 5 --sessions 20

Writes synthetic bars into a store in a temporary directory through the store's own writer (a
code's year a transaction, as a CSV import does; a fetch writes a day a transaction, at KIS's
pace), then times :meth:`BarStore.minute_bars` over the
whole range and :meth:`BarStore.daily_bars`, best of three, each in a newly opened read-only
store. With pyarrow installed (not a dependency) it times the same columns read from one Parquet
file per code, the alternative weighed in docs/DECISIONS.md.
"""

from __future__ import annotations

import argparse
import importlib
import tempfile
import time as wall
from collections.abc import Callable
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from shared.history.store import BarStore
from shared.trading.bars import Bar
from shared.trading.market_calendar import KrxCalendar

BARS_A_SESSION = 381
"""Minute bars of one session: continuous trading 09:00-15:19 and the closing auction's bar, so
40 codes over a year make the 3.7 M rows the backtest must read fast."""
FIRST_DAY = date(2025, 3, 4)


def sessions(n: int) -> list[date]:
    calendar, day = KrxCalendar(), FIRST_DAY
    found: list[date] = []
    while len(found) < n:
        if calendar.is_session(day):
            found.append(day)
        day += timedelta(days=1)
    return found


def day_bars(code: str, day: date, rng: np.random.Generator) -> list[Bar]:
    closes = 50_000 + np.cumsum(rng.integers(-50, 51, BARS_A_SESSION))
    return [
        Bar(code, day, time(9 + m // 60, m % 60), int(c), int(c) + 20, int(c) - 20, int(c), m)
        for m, c in enumerate(closes)
    ]


def best_of(runs: int, action: Callable[[], object]) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(runs):
        began = wall.perf_counter()
        result = action()
        best = min(best, wall.perf_counter() - began)
    return best, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codes", type=int, default=40)
    parser.add_argument("--sessions", type=int, default=245)
    args = parser.parse_args()
    codes = [f"{100000 + i:06d}" for i in range(args.codes)]
    days = sessions(args.sessions)
    rng = np.random.default_rng(1)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "history" / "bars.duckdb"
        began = wall.perf_counter()
        with BarStore.open(path) as store:
            for code in codes:  # a code's year at a time, as a CSV import writes it
                year = {(code, day): day_bars(code, day, rng) for day in days}
                store.write_minute_days(year, "bench")
                daily = [Bar(code, d, None, 100, 110, 90, 105, 1000) for d in days]
                store.write_daily_bars(code, daily, "bench")
        written = wall.perf_counter() - began
        size = path.stat().st_size / 1e6

        def read_minutes() -> int:
            # Opened anew each time, so every read is a cold one, as a backtest's is.
            with BarStore.open(path, read_only=True) as store:
                return len(store.minute_bars(codes, days[0], days[-1]))

        def read_daily() -> int:
            with BarStore.open(path, read_only=True) as store:
                return sum(len(s) for s in store.daily_bars(codes, days[0], days[-1]).values())

        minute_seconds, rows = best_of(3, read_minutes)
        daily_seconds, daily_rows = best_of(3, read_daily)
        print(
            f"wrote {rows:,} minute bars ({len(codes)} codes x {len(days)} sessions) "
            f"in {written:.1f} s, a code's year a transaction; file {size:.0f} MB"
        )
        print(f"daily bars: {daily_rows:,} rows read in {daily_seconds:.3f} s")
        parquet = _parquet(path, codes, days)
        if parquet:
            print(parquet)
        print(f"history store: {rows:,} minute bars read in {minute_seconds:.3f} s")
    return 0


def _parquet(path: Path, codes: list[str], days: list[date]) -> str:
    """The same read from one Parquet file per code, when pyarrow is installed."""
    try:
        pq: Any = importlib.import_module("pyarrow.parquet")
    except ImportError:
        return "parquet: pyarrow is not installed, not compared"
    import duckdb

    folder = path.parent / "parquet"
    folder.mkdir()
    with duckdb.connect(str(path), read_only=True) as db:
        for code in codes:
            table = db.sql(
                "SELECT day, minute, open, high, low, close, volume FROM minute_bars "
                "JOIN codes USING (code_id) WHERE code = ? ORDER BY day, minute",
                params=[code],
            ).to_arrow_table()
            pq.write_table(table, folder / f"{code}.parquet")
    size = sum(f.stat().st_size for f in folder.iterdir()) / 1e6

    def read() -> int:
        total = 0
        for code in codes:
            table = pq.read_table(
                folder / f"{code}.parquet",
                filters=[("day", ">=", days[0]), ("day", "<=", days[-1])],
            )
            columns = {name: table.column(name).to_numpy() for name in table.column_names}
            total += len(columns["minute"])
        return total

    seconds, rows = best_of(3, read)
    return f"parquet (a file a code, {size:.0f} MB): {rows:,} minute bars read in {seconds:.3f} s"


if __name__ == "__main__":
    raise SystemExit(main())
