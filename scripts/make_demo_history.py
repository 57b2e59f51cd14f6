"""Write the backtest demo's synthetic dataset: examples/backtest/ (bars and picks files).

    .venv/bin/python scripts/make_demo_history.py [--out examples/backtest]

Deterministic: the same files every run (seeded model, :mod:`shared.backtest.synthetic`; gzip
without a timestamp). Four made-up codes over 2025-12-17 to 2026-01-16, a range with the
year-end closure and the first session of 2026 (opening at 10:00). Minute bars in the import
columns (``code,date,time,open,high,low,close,volume``) with each session's daily bar, and one
picks file per session. On purpose, the data has the problems the report must name:

- 900020: 25 minutes missing on 2025-12-23 (a gap);
- 900030: halted on 2026-01-07 (a daily bar without volume, no minute bars);
- 900040: a 2-for-1 split before 2026-01-09 (prices halve overnight);
- 900010: no minute bars on 2026-01-13 (its daily bar walked: the coarse model);
- no picks file for 2026-01-14.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import sys
from datetime import date
from pathlib import Path

import numpy as np

from shared.backtest.bar_source import BarArrays, IntArray
from shared.backtest.driver import trading_sessions
from shared.backtest.synthetic import daily_bar, history, on_ticks
from shared.trading.market_calendar import KrxCalendar

ROOT = Path(__file__).resolve().parent.parent
SEED = 2026
START, END = date(2025, 12, 17), date(2026, 1, 16)
NAMES = {"900010": "데모전자", "900020": "데모화학", "900030": "데모바이오", "900040": "데모건설"}
PICKS_PER_SESSION = 3
GAP = ("900020", date(2025, 12, 23), 11 * 60, 11 * 60 + 25)
HALTED = ("900030", date(2026, 1, 7))
SPLIT = ("900040", date(2026, 1, 9))
DAILY_ONLY = ("900010", date(2026, 1, 13))
NO_PICKS = date(2026, 1, 14)


def bars_of_demo() -> tuple[dict[tuple[str, date], BarArrays], dict[tuple[str, date], BarArrays]]:
    """The demo's minute and daily bars, problems included (the session before START too)."""
    calendar = KrxCalendar()
    sessions = trading_sessions(calendar, START, END)
    before = calendar.previous_session(START)
    minute, daily = history(SEED, list(NAMES), [before, *sessions])
    code, day, start, end = GAP
    bars = minute[(code, day)]
    keep = (bars.minute < start) | (bars.minute >= end)
    minute[(code, day)] = BarArrays(*(column[keep] for column in _columns(bars)))
    code, day = HALTED
    previous = daily[(code, calendar.previous_session(day).day)]
    close = int(previous.close[-1])
    del minute[(code, day)]
    daily[(code, day)] = BarArrays.of_rows([(-1, close, close, close, close, 0)])
    code, day = SPLIT
    for key in [k for k in minute if k[0] == code and k[1] >= day]:
        minute[key] = _halved(minute[key])
        daily[key] = daily_bar(minute[key])
    del minute[DAILY_ONLY]
    return minute, daily


def _columns(bars: BarArrays) -> tuple[IntArray, ...]:
    return (bars.minute, bars.open, bars.high, bars.low, bars.close, bars.volume)


def _halved(bars: BarArrays) -> BarArrays:
    """The bars after a 2-for-1 split: half the price on its tick, twice the shares."""
    open_, high, low, close = (on_ticks(column / 2.0) for column in _columns(bars)[1:5])
    return BarArrays(bars.minute, open_, high, low, close, bars.volume * 2)


def bars_csv(
    minute: dict[tuple[str, date], BarArrays], daily: dict[tuple[str, date], BarArrays]
) -> bytes:
    """The bars in the import columns, daily bars with an empty time; gzip without a time."""
    out = io.StringIO()
    out.write("code,date,time,open,high,low,close,volume\n")
    for code, day in sorted(set(minute) | set(daily)):
        for bars, minute_bar in ((daily.get((code, day)), False), (minute.get((code, day)), True)):
            if bars is None:
                continue
            for m, o, h, low, c, v in zip(*_columns(bars), strict=True):
                time = f"{m // 60:02d}:{m % 60:02d}" if minute_bar else ""
                out.write(f"{code},{day.isoformat()},{time},{o},{h},{low},{c},{v}\n")
    return gzip.compress(out.getvalue().encode(), compresslevel=9, mtime=0)


def picks_files(daily: dict[tuple[str, date], BarArrays]) -> dict[str, str]:
    """One JSON file per session but NO_PICKS: three codes, targets 0-3 % under the close
    before."""
    calendar = KrxCalendar()
    rng = np.random.default_rng([SEED, 1])
    codes = list(NAMES)
    files = {}
    for session in trading_sessions(calendar, START, END):
        before = calendar.previous_session(session.day).day
        chosen = sorted(rng.choice(len(codes), size=PICKS_PER_SESSION, replace=False))
        below = rng.uniform(0.97, 1.0, size=PICKS_PER_SESSION)
        closes = np.array([int(daily[(codes[i], before)].close[-1]) for i in chosen])
        targets = on_ticks(closes * below)
        picks = {codes[i]: [NAMES[codes[i]], int(t)] for i, t in zip(chosen, targets, strict=True)}
        if session.day != NO_PICKS:
            files[f"{session.day.isoformat()}.json"] = json.dumps(picks, ensure_ascii=False) + "\n"
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=ROOT / "examples" / "backtest")
    args = parser.parse_args(argv)
    minute, daily = bars_of_demo()
    picks_dir = args.out / "picks"
    picks_dir.mkdir(parents=True, exist_ok=True)
    for old in picks_dir.glob("*.json"):
        old.unlink()
    for name, text in picks_files(daily).items():
        (picks_dir / name).write_text(text)
    data = bars_csv(minute, daily)
    (args.out / "bars.csv.gz").write_bytes(data)
    print(f"wrote {args.out}/bars.csv.gz ({len(data):,} bytes) and {picks_dir}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
