"""``kat backtest`` as a user runs it: a real process on the shipped demo data, with no network;
input refused before any work also by its ``main`` in this process (:func:`kat_here`)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from services.cli.main import main
from shared.backtest.results import BacktestResult, ProblemKind
from tests.conftest import ROOT, run_main

pytestmark = pytest.mark.processes

DEMO = ROOT / "examples" / "backtest"
RANGE = ("--from", "2025-12-17", "--to", "2026-01-16")

NO_NETWORK = """
import socket

def _refuse(*args, **kwargs):
    raise OSError("this process may not use the network")

socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
socket.socket.sendto = _refuse
socket.create_connection = _refuse
socket.getaddrinfo = _refuse
"""
"""A sitecustomize that makes every connection attempt of the process fail."""


def backtest_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    """The whole environment of ``kat backtest`` in these tests: no env file, its own data
    directory, and a Redis that cannot answer (the backtest needs none)."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "KAT_ENV_FILE": "",
        "DATA_DIR": str(tmp_path / "data"),
        "REDIS_URL": "redis://127.0.0.1:1/0",
        **settings,
    }


def kat(tmp_path: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    guard = tmp_path / "guard"
    guard.mkdir(exist_ok=True)
    (guard / "sitecustomize.py").write_text(NO_NETWORK)
    return subprocess.run(
        [sys.executable, "-m", "services.cli", "backtest", *args],
        env={**backtest_env(tmp_path, **settings), "PYTHONPATH": f"{guard}:{ROOT}"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def kat_here(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, *args: str
) -> tuple[int, str, str]:
    """``kat backtest`` by its ``main`` in this process (``run_main``), in the environment
    :func:`kat` gives its process: (exit code, stderr stripped, stdout). For input refused before
    any work, where a process proves nothing more (its exit path: :func:`kat`)."""
    ran = run_main(main, ["backtest", *args], backtest_env(tmp_path), tmp_path, monkeypatch, capsys)
    return ran.returncode, ran.stderr.strip(), ran.stdout


def history_import(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``kat history import`` into the same DATA_DIR as :func:`kat`."""
    return subprocess.run(
        [sys.executable, "-m", "services.cli", "history", "import", *args],
        env={
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", "/tmp"),
            "PYTHONPATH": str(ROOT),
            "KAT_ENV_FILE": "",
            "DATA_DIR": str(tmp_path / "data"),
            "REDIS_URL": "redis://127.0.0.1:1/0",
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_guard_refuses_the_network(tmp_path: Path) -> None:
    kat(tmp_path)  # writes the guard
    probe = subprocess.run(
        [sys.executable, "-c", "import socket; socket.create_connection(('127.0.0.1', 9))"],
        env={"PYTHONPATH": str(tmp_path / "guard")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.returncode == 1 and "may not use the network" in probe.stderr


def test_the_demo_runs_offline_and_writes_its_report(tmp_path: Path) -> None:
    bars = str(DEMO / "bars.csv.gz")
    result = kat(tmp_path, *RANGE, "--picks-dir", str(DEMO / "picks"), "--bars-csv", bars)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("backtest 2025-12-17 to 2026-01-16: 20 sessions, minute bars")
    assert re.fullmatch(
        r"value 10,000,000 -> [0-9,]+ won \([+-][0-9.]+ %\), max drawdown .*", lines[1]
    )
    assert lines[3] == "data problems: daily_only 1, gap 1, halted 1, picks 1, split 1"
    assert lines[-2].startswith("json: ") and lines[-1].startswith("report: ")
    report = Path(lines[-2].removeprefix("json: "))
    assert Path(lines[-1].removeprefix("report: ")) == report.with_name("report.html")
    assert report.parent.parent == tmp_path / "data" / "backtests"
    run = BacktestResult.read(report)
    assert run.sessions[0].isoformat() == "2025-12-17" and len(run.sessions) == 20
    assert run.orders and run.trades and len(run.equity) == 20
    assert {p.kind for p in run.problems} == set(ProblemKind) - {ProblemKind.NO_BARS}
    # The first session of 2026 opens at 10:00: nothing happens before.
    first_of_2026 = [o for o in run.orders if o.session.isoformat() == "2026-01-02"]
    assert all(o.moment.hour >= 10 for o in first_of_2026)


def test_bad_input_gets_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bars = ("--bars-csv", str(DEMO / "bars.csv.gz"))
    cases = {
        ("--from", "2026-01-16", "--to", "2025-12-17", "--universe", "900010", *bars): (
            "kat backtest: --from 2026-01-16 is after --to 2025-12-17"
        ),
        ("--from", "2026-01-01", "--to", "2026-01-01", "--universe", "900010", *bars): (
            "kat backtest: no KRX session from 2026-01-01 to 2026-01-01"
        ),
        ("--from", "2026-01-05", "--to", "2026-01-06", "--universe", "123456", *bars): (
            "kat backtest: no minute or daily bars of 1 code(s) from 2026-01-02 to 2026-01-06:"
            " fetch or import them first (kat history)"
        ),
    }
    first, *others = cases.items()
    result = kat(tmp_path, *first[0])
    assert (result.returncode, result.stderr.strip(), result.stdout) == (2, first[1], "")
    for args, message in others:
        assert kat_here(monkeypatch, capsys, tmp_path, *args) == (2, message, "")


def test_the_thresholds_and_calendar_come_from_the_live_settings(tmp_path: Path) -> None:
    # From the store: a bars file read with KRX_EXTRA_CLOSED set is refused for its bars of
    # that day, as `kat history import` refuses them (one reader of bars files).
    assert history_import(tmp_path, str(DEMO / "bars.csv.gz")).returncode == 0
    args = (*RANGE, "--universe", "900010,900020", "--out", "run")
    default = kat(tmp_path, *args)
    wider = kat(
        tmp_path,
        *args[:-1],
        "wider",
        TAKE_PROFIT_PCT="7",
        STOP_LOSS_PCT="-4",
        KRX_EXTRA_CLOSED="2026-01-05",
    )
    assert default.returncode == 0 and wider.returncode == 0, wider.stderr
    config = BacktestResult.read(tmp_path / "wider" / "report.json").config
    assert (str(config.thresholds.take_profit_pct), str(config.thresholds.stop_loss_pct)) == (
        "7",
        "-4",
    )
    run = BacktestResult.read(tmp_path / "wider" / "report.json")
    assert len(run.sessions) == 19 and "2026-01-05" not in {d.isoformat() for d in run.sessions}
    exits = {t.reason.value for t in run.trades}
    assert exits <= {"take_profit", "stop_loss", "expiry"}
    before = BacktestResult.read(tmp_path / "run" / "report.json")
    assert [t.exit_price for t in run.trades] != [t.exit_price for t in before.trades]
    gains = [t for t in run.trades if t.reason.value == "take_profit"]
    assert all((t.exit_price - t.entry_price) * 100 > 6 * t.entry_price for t in gains)


def test_the_bar_store_replays_what_the_csv_file_replays(tmp_path: Path) -> None:
    """``kat history import`` then ``kat backtest`` from the store (no --bars-csv): the same
    orders, trades and problems as the same file read in memory; no store is a clear refusal."""
    picks = ("--picks-dir", str(DEMO / "picks"))
    missing = kat(tmp_path, *RANGE, *picks)
    assert missing.returncode == 2
    assert missing.stderr.startswith("kat backtest: no bar store at ")
    imported = history_import(tmp_path, str(DEMO / "bars.csv.gz"))
    assert imported.returncode == 0, imported.stderr
    from_store = kat(tmp_path, *RANGE, *picks, "--out", "store")
    from_file = kat(
        tmp_path, *RANGE, *picks, "--bars-csv", str(DEMO / "bars.csv.gz"), "--out", "csv"
    )
    assert from_store.returncode == 0 and from_file.returncode == 0, from_store.stderr
    # Everything but the paths of the two reports (the last two lines, json: and report:).
    assert from_store.stdout.splitlines()[:-2] == from_file.stdout.splitlines()[:-2]
    store = BacktestResult.read(tmp_path / "store" / "report.json")
    file = BacktestResult.read(tmp_path / "csv" / "report.json")
    assert (store.orders, store.trades, store.problems) == (file.orders, file.trades, file.problems)
