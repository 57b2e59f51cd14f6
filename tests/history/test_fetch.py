"""``kat history fetch`` against a simulator process over HTTP, into a store in tmp_path."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date

import numpy as np
import pytest
import redis

from shared.history.store import Status
from shared.infra.redis_keys import Keys
from shared.kis.reachability import read_outage
from shared.trading.bars import BarKind
from tests.conftest import ROOT, free_port, wait_for
from tests.history.conftest import History

DAILY, PAST, TODAY = "FHKST03010100", "FHKST03010230", "FHKST03010200"
SESSION_BARS = 391
"""Minute bars of a 09:00-15:30 session in the simulator: 09:00 to 15:29, and 15:30 (the close)."""
PAGES_A_DAY = 4
"""Past-day answers for one session: 120 rows from 15:30 back, then from each page's earliest
minute again (OTA's walk), 391 bars in 120 + 119 + 119 + 34."""

History_ = Callable[..., History]


def test_daily_and_minute_bars_of_a_range_under_a_5_per_second_limit(history: History_) -> None:
    h = history(rate=5)
    began = time.monotonic()
    done = h.kat(
        "fetch", "--codes", "005930", "000660", "--from", "2026-02-26", "--to", "2026-03-04"
    )
    elapsed = time.monotonic() - began
    assert done.returncode == 0, done.stderr
    assert "fetched 10 of 10 steps" in done.stdout  # a daily step a code, a minute step a day

    sessions = [date(2026, 2, 26), date(2026, 2, 27), date(2026, 3, 3), date(2026, 3, 4)]
    requests = h.requests()
    # One daily answer a code (4 sessions fit in 100), four past-minute answers a session.
    assert requests[DAILY] == 2
    assert requests[PAST] == 2 * len(sessions) * PAGES_A_DAY
    stats = h.stats()
    assert stats["rate_limited"] == 0  # the shared limiter kept to KIS's (the simulator's) 5/s
    kis_requests = requests[DAILY] + requests[PAST]
    assert elapsed >= (kis_requests - 5) / 5

    with h.store() as store:
        for kind in (BarKind.DAY, BarKind.MINUTE):
            covered = store.sessions_covered(kind, ["005930", "000660"], sessions[0], sessions[-1])
            assert covered == {"005930": set(sessions), "000660": set(sessions)}
        minutes = store.minute_bars(["005930", "000660"], sessions[0], sessions[-1])
        daily = store.daily_bars(["005930", "000660"], sessions[0], sessions[-1])
        for code in ("005930", "000660"):
            assert daily[code].dates() == sessions
            for i, day in enumerate(sessions):
                bars = minutes.day(code, day)
                assert bars is not None and len(bars) == SESSION_BARS, (code, day)
                assert bars.minute[0] == 9 * 60 and bars.minute[-1] == 15 * 60 + 30
                assert np.all(np.diff(bars.minute) == 1)
                # Two endpoints, one session: the pages joined without a hole or an overlap.
                assert bars.open[0] == daily[code].open[i]
                assert bars.high.max() == daily[code].high[i]
                assert bars.low.min() == daily[code].low[i]
                assert bars.close[-1] == daily[code].close[i]
                assert bars.volume.sum() == daily[code].volume[i]


def test_an_interrupted_fetch_resumes_without_asking_again(history: History_) -> None:
    # Interrupted once two sessions' pages are in (8 of 56), with about 5 s of fetching left at
    # 10 a second: on a loaded machine the interrupt came after the last page at 20 a second.
    h = history(rate=10)
    args = ("fetch", "--codes", "005930,000660", "--from", "2026-02-23", "--to", "2026-03-04")
    running = h.start(*args)
    wait_for(lambda: h.requests().get(PAST, 0) >= 2 * PAGES_A_DAY, timeout=60, what="two days")
    running.send_signal(signal.SIGINT)
    _, err = running.communicate(timeout=30)
    assert running.returncode == 130, err
    assert "run the same command again" in err

    first = h.requests()
    with h.store() as store:
        stored = store.sessions_covered(
            BarKind.MINUTE, ["005930", "000660"], date(2026, 2, 23), date(2026, 3, 4)
        )
        daily = store.sessions_covered(
            BarKind.DAY, ["005930", "000660"], date(2026, 2, 23), date(2026, 3, 4)
        )
    done_days = sum(len(days) for days in stored.values())
    sessions = len(daily["005930"])
    assert sessions == 7 and daily["000660"] == daily["005930"]  # 02-23..27, 03-03, 03-04: first
    assert 0 < done_days < 2 * sessions

    resumed = h.kat(*args)
    assert resumed.returncode == 0, resumed.stderr
    second = {tr: n - first.get(tr, 0) for tr, n in h.requests().items()}
    assert second.get(DAILY, 0) == 0
    assert second[PAST] == (2 * sessions - done_days) * PAGES_A_DAY  # only the missing days

    with h.store() as store:
        minutes = store.minute_bars(["005930", "000660"], date(2026, 2, 23), date(2026, 3, 4))
    assert len(minutes.spans) == 2 * sessions
    assert len(minutes) == 2 * sessions * SESSION_BARS

    again = h.kat(*args)
    assert again.returncode == 0 and "fetched 0 of 0 steps" in again.stdout
    assert h.requests().get(PAST) == first[PAST] + second[PAST]


def test_todays_minute_bars_are_fetched_again_until_the_close(history: History_) -> None:
    # One clock minute a real second: the session closes 8 real seconds after the start.
    h = history(rate=20, start="2026-03-05T15:22:00+09:00", speed=60)
    args = ("fetch", "--codes", "005930", "--from", "2026-03-05", "--kind", "minute")
    early = h.kat(*args)
    assert early.returncode == 0, early.stderr
    assert "partial: 005930 2026-03-05" in early.stdout
    with h.store() as store:
        (row,) = store.coverage(["005930"])
        assert row.status is Status.PARTIAL and 0 < row.rows < SESSION_BARS
        assert store.sessions_covered(
            BarKind.MINUTE, ["005930"], date(2026, 3, 5), date(2026, 3, 5)
        ) == {"005930": set()}

    before = h.requests().get(TODAY, 0)
    wait_for(
        lambda: h.admin("GET", "health").json()["now"] >= "2026-03-05T15:31:05",
        timeout=30,
        what="the close",
    )
    late = h.kat(*args)
    assert late.returncode == 0, late.stderr
    assert "partial" not in late.stdout
    assert h.requests()[TODAY] > before  # fetched again
    with h.store() as store:
        (row,) = store.coverage(["005930"])
        assert row.status is Status.COMPLETE and row.rows == SESSION_BARS
        bars = store.minute_bars(["005930"], date(2026, 3, 5), date(2026, 3, 5)).day(
            "005930", date(2026, 3, 5)
        )
        assert bars is not None and bars.minute[-1] == 15 * 60 + 30

    settled = h.requests()[TODAY]
    final = h.kat(*args)
    assert final.returncode == 0 and "fetched 0 of 0 steps" in final.stdout
    assert h.requests()[TODAY] == settled  # complete now: never asked again


def test_halted_days_are_recorded_and_shown(history: History_) -> None:
    # 03-04: halted (the simulator answers a zero-volume daily row and no minutes); 02-27: the
    # simulator's KRX is closed, so KIS has nothing for a day our calendar calls a session.
    h = history(rate=20, KRX_EXTRA_CLOSED="2026-02-27")
    h.admin("POST", "bars", json={"halted": {"005930": ["2026-03-04"]}})
    done = h.kat("fetch", "--codes", "005930", "--from", "2026-02-26", "--to", "2026-03-04")
    assert done.returncode == 0, done.stderr
    for day in ("2026-02-27", "2026-03-04"):
        for kind in ("daily", "minute"):
            assert f"no trades: 005930 {day} ({kind})" in done.stdout

    with h.store() as store:
        for kind in (BarKind.DAY, BarKind.MINUTE):
            assert store.no_trade_days(kind, ["005930"], date(2026, 2, 26), date(2026, 3, 4)) == {
                "005930": {date(2026, 2, 27), date(2026, 3, 4)}
            }
        minutes = store.minute_bars(["005930"], date(2026, 2, 26), date(2026, 3, 4))
        assert minutes.days("005930") == [date(2026, 2, 26), date(2026, 3, 3)]
        assert store.daily_bars(["005930"], date(2026, 2, 26), date(2026, 3, 4))[
            "005930"
        ].dates() == [
            date(2026, 2, 26),
            date(2026, 3, 3),
        ]

    asked = h.requests()
    again = h.kat("fetch", "--codes", "005930", "--from", "2026-02-26", "--to", "2026-03-04")
    assert again.returncode == 0 and h.requests() == asked  # known halted: not asked again

    shown = h.kat("show")
    assert shown.returncode == 0, shown.stderr
    daily_line, minute_line = shown.stdout.splitlines()[1:]
    assert daily_line.startswith("005930  daily   2026-02-26..2026-03-04  2 sessions")
    assert "no trades: 2026-02-27, 2026-03-04" in daily_line and "gaps: none" in daily_line
    assert minute_line.startswith("005930  minute  2026-02-26..2026-03-04  2 sessions (782 bars)")


def test_bad_input_is_refused_with_one_line(
    history: History_, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    h = history(rate=20, SIM_UNLISTED_CODES="unknown")
    refused_before_asking = {
        (
            "--codes",
            "005930",
            "--from",
            "2026-03-04",
            "--to",
            "2026-03-03",
        ): "--from 2026-03-04 is after --to 2026-03-03",
        (
            "--codes",
            "005930",
            "--from",
            "2026-03-04",
            "--to",
            "2026-03-06",
        ): "--to 2026-03-06 is in the future (today is 2026-03-05)",
        ("--codes", "5930", "--from", "2026-03-04"): "'5930' is not a 6-digit KRX stock code",
        (
            "--codes",
            "005930",
            "--from",
            "2026-13-01",
        ): "--from: '2026-13-01' is not a date YYYY-MM-DD",
    }
    unknown = ("--codes", "005930,999999", "--from", "2026-03-04", "--to", "2026-03-04")
    said = [
        (args, message, h.kat_here(monkeypatch, capsys, "fetch", *args))
        for args, message in refused_before_asking.items()
    ]
    # The unknown code through a process: its exit path, after KIS answered.
    said.append((unknown, "KIS does not list 999999", h.kat("fetch", *unknown)))
    for args, message, done in said:
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], (args, done.stderr)
    # Refused before anything was asked, but the unknown code (found by KIS's answer).
    assert set(h.requests()) <= {"-", DAILY}
    with h.store() as store:
        assert {row.code for row in store.coverage()} == {"005930"}  # its daily bar, fetched first


def test_minute_bars_older_than_a_year_are_not_asked_for(history: History_) -> None:
    h = history(rate=20)  # today is 2026-03-05: KIS keeps minute bars from 2025-03-05 on
    args = ("--codes", "005930", "--from", "2025-02-27", "--to", "2025-03-06", "--kind", "minute")
    done = h.kat("fetch", *args)
    assert done.returncode == 0, done.stderr
    assert (
        "minute bars of 2025-02-27..2025-03-04 are older than a year, which KIS no longer keeps"
        in done.stdout
    )
    assert h.requests()[PAST] == 2 * PAGES_A_DAY  # 2025-03-05 and 2025-03-06 only
    with h.store() as store:
        assert store.minute_bars(["005930"], date(2025, 2, 1), date(2025, 3, 6)).days("005930") == [
            date(2025, 3, 5),
            date(2025, 3, 6),
        ]


def test_kis_unreachable_ends_the_fetch_with_one_line(
    offline: History, redis_client: redis.Redis
) -> None:
    """No KIS at the address: the first read's last try ends the run (exit 1, one line), it
    does not go on code by code and day by day in silence; the outage is recorded for the
    services' health."""
    env = offline.env | {
        "KIS_SIM_URL": f"http://127.0.0.1:{free_port()}",
        "KIS_RETRY_BACKOFF_SECONDS": "0.05",
    }
    fetch = ("fetch", "--codes", "005930,000660", "--from", "2026-02-02", "--to", "2026-03-04")
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "services.cli", "history", *fetch],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    took = time.monotonic() - started
    assert done.returncode == 1, (done.stdout, done.stderr)
    failures = [line for line in done.stderr.splitlines() if line.startswith("history fetch")]
    assert len(failures) == 1 and "KIS unreachable" in failures[0], done.stderr
    assert took < 30, took
    outage = read_outage(redis_client, Keys().kis_outage("sim"))
    assert outage is not None and "KIS unreachable (ConnectionError)" in outage.detail
