"""``kat performance`` as a user runs it: a real process over a journal on its data volume
(docs/ARCHITECTURE.md, 'Track record')."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from shared.state.journal import Journal, month_file
from tests.conftest import ROOT, service_env
from tests.shared.test_journal import trade

pytestmark = pytest.mark.processes

CLOCK = {"CLOCK_START": "2026-03-05T16:00:00+09:00", "CLOCK_SPEED": "1"}


def kat(redis_url: str, data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.cli", "performance", *args],
        env=service_env(redis_url, DATA_DIR=str(data), CLOCK_EPOCH=f"{time.time():.3f}", **CLOCK),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_kat_performance_says_the_record_and_each_bad_input(redis_url: str, tmp_path: Path) -> None:
    journal = Journal(tmp_path, "sim")
    entries = [
        trade(date(2026, 3, 3), "005930", 10_000, 10_500),
        trade(date(2026, 3, 4), "000660", 20_000, 19_400, 5),
    ]
    journal.append(entries)
    with month_file(journal.folder, date(2026, 3, 4)).open("a") as f:
        f.write("not a trade\n")

    shown = kat(redis_url, tmp_path, "--from", "2026-03-01")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == "track record, sells from 2026-03-01 to today (today 2026-03-05)"
    net = sum(e.net for e in entries)
    assert f"net {net:+,} won" in shown.stdout
    assert "trades 2 (1 won, 1 lost), win rate 50.00 %" in shown.stdout
    assert "1 journal line(s) skipped:" in shown.stdout
    assert "trades-2026-03.jsonl line 3: not JSON" in shown.stdout
    codes = [line.split()[0] for line in lines if line.startswith(("005930", "000660"))]
    assert codes == ["000660", "005930"]  # the loser first

    as_csv = kat(redis_url, tmp_path, "--csv", "--to", "2026-03-03")
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [(r["code"], int(r["net"])) for r in rows] == [("005930", entries[0].net)]

    future = kat(redis_url, tmp_path, "--from", "2027-01-01")
    assert future.returncode == 0
    assert "note: the range starts after today (2026-03-05)" in future.stdout

    for args, says in (
        (("--from", "2026-03-04", "--to", "2026-03-01"), "the range is reversed"),
        (("--to", "2026-02-30"), "--to:"),
        (("--from", "yesterday"), "--from:"),
    ):
        refused = kat(redis_url, tmp_path, *args)
        assert refused.returncode == 2, refused.stdout
        assert says in refused.stderr
