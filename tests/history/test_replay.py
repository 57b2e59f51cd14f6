"""Stored bars replayed by the simulator: each minute bar becomes its path's four points, and
fetching the day back from the simulator over HTTP gives the same bars."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, time
from pathlib import Path

import requests

from shared.history.csv_import import COLUMNS
from shared.trading.bars import Bar
from tests.history.conftest import History

WEDNESDAY, TUESDAY = date(2026, 3, 4), date(2026, 3, 3)


def random_day(code: str, day: date, seed: int) -> list[Bar]:
    """A session's minute bars with gaps (minutes without trades), every shape of bar."""
    rng = random.Random(seed)  # noqa: S311 - test data
    bars, price = [], 50_000
    for m in range(391):
        if rng.random() < 0.2:
            continue  # no trade this minute: no bar
        open_ = price
        close = max(100, open_ + rng.randint(-300, 300))
        high = max(open_, close) + rng.choice([0, 0, 50, 250])
        low = min(open_, close) - rng.choice([0, 0, 50, 250])
        minute = time(9 + m // 60, m % 60)
        bars.append(Bar(code, day, minute, open_, high, low, close, rng.randint(0, 5_000)))
        price = close
    return bars


def csv_text(bars: list[Bar]) -> str:
    lines = [",".join(COLUMNS)]
    for b in bars:
        when = "" if b.minute is None else f"{b.minute:%H:%M}"
        lines.append(f"{b.code},{b.day},{when},{b.open},{b.high},{b.low},{b.close},{b.volume}")
    return "\n".join(lines) + "\n"


def daily_of(bars: list[Bar]) -> Bar:
    first = bars[0]
    return Bar(
        first.code,
        first.day,
        None,
        first.open,
        max(b.high for b in bars),
        min(b.low for b in bars),
        bars[-1].close,
        sum(b.volume for b in bars),
    )


def test_replayed_bars_come_back_the_same(history: Callable[..., History], tmp_path: Path) -> None:
    h = history(rate=50)
    samsung, hynix = random_day("005930", WEDNESDAY, 1), random_day("000660", WEDNESDAY, 2)
    from_file = samsung + hynix
    stated_daily = Bar("005930", WEDNESDAY, None, 1, 999_999, 1, 2, 123)  # kept as given
    file = tmp_path / "replay.csv"
    file.write_text(csv_text([*from_file, stated_daily]), encoding="utf-8")
    answer = h.admin("POST", "bars", json={"file": str(file)}).json()
    assert answer == {
        "ok": True,
        "codes": ["000660", "005930"],
        "minute_bars": len(from_file),
        "daily_bars": 1,
        "halted": 0,
    }
    as_json = random_day("005930", TUESDAY, 3)
    rows = [
        {
            "code": b.code,
            "date": str(b.day),
            "time": f"{b.minute:%H:%M}",
            "open": b.open,
            "high": b.high,
            "low": b.low,
            "close": b.close,
            "volume": b.volume,
        }
        for b in as_json
    ]
    assert h.admin("POST", "bars", json={"bars": rows}).json()["minute_bars"] == len(as_json)

    done = h.kat("fetch", "--codes", "005930,000660", "--from", "2026-03-03", "--to", "2026-03-04")
    assert done.returncode == 0, done.stderr
    with h.store() as store:
        read = store.minute_bars(["005930", "000660"], TUESDAY, WEDNESDAY)
        daily = store.daily_bars(["005930", "000660"], TUESDAY, WEDNESDAY)
    for sent in (samsung, hynix, as_json):
        got = read.day(sent[0].code, sent[0].day)
        assert got is not None and got.bars() == sent, sent[0]
    assert daily["005930"].bars() == [daily_of(as_json), stated_daily]
    assert daily["000660"].bars()[-1] == daily_of(hynix)


def test_a_bad_replay_is_refused_whole(history: Callable[..., History]) -> None:
    h = history(rate=50)
    good = {"code": "005930", "date": "2026-03-04", "time": "09:00"}
    prices = {"open": 100, "high": 110, "low": 90, "close": 105, "volume": 1}
    assert h.sim is not None
    bad = requests.post(
        f"{h.sim.url}/sim/bars",
        json={"bars": [{**good, **prices}, {**good, **prices, "time": "16:00"}]},
        timeout=10,
    )
    assert bad.status_code == 400
    assert bad.json()["error"].splitlines()[1:] == [
        "bars[1]: time 16:00 is outside the session of 2026-03-04 (09:00-15:30, KST)"
    ]
    assert h.admin("GET", "price/005930").json()["scripted"] is False  # nothing replayed
