"""The result as report.json: every order, fill, trade, equity point, problem and the config,
to JSON and back without loss; and the demo data is what its script makes."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, time
from pathlib import Path

import pytest

from shared.backtest.config import BacktestConfig
from shared.backtest.results import BacktestResult
from shared.backtest.summary import headline, write_report
from tests.backtest.helpers import flat, minutes, run, write_picks
from tests.conftest import ROOT

TUE, WED = date(2026, 3, 3), date(2026, 3, 4)


def test_a_result_round_trips_through_report_json(tmp_path: Path) -> None:
    bars = [
        *minutes("000010", TUE, [("09:00", 10_100, 10_100, 10_100, 10_100)]),
        *minutes("000010", TUE, [("09:05", 10_700, 10_700, 10_700, 10_700)]),
        *flat("000020", TUE, 20_100),
        *flat("000020", WED, 20_100),
    ]
    picks = write_picks(
        tmp_path / "picks", {TUE: {"000010": ("가", 10_000), "000020": ("나", 20_000)}}
    )
    special = {date(2026, 3, 7): (time(9, 0), time(12, 0))}  # KRX_SPECIAL_SESSIONS, kept
    result = run(BacktestConfig(TUE, WED, special_sessions=special), bars, picks)
    assert result.trades and result.open_positions and result.problems

    path = write_report(result, tmp_path / "run")
    assert path == tmp_path / "run" / "report.json"
    data = json.loads(path.read_text())
    assert BacktestResult.read(path) == result
    order = data["orders"][0]
    assert (order["side"], order["reason"], order["moment"]) == (
        "buy",
        "entry",
        "2026-03-03T09:00:00+09:00",
    )
    assert data["config"]["thresholds"] == {
        "take_profit_pct": "5",
        "stop_loss_pct": "-3",
        "buy_band_ratio": "1.05",
        "expiry_sessions": 5,
        "buy_cutoff": 900,
        "preclose_cutoff": 600,
    }
    assert data["equity"][-1]["value"] == result.final_value
    assert data["config"]["special_sessions"] == {"2026-03-07": ["09:00:00", "12:00:00"]}

    plan = data["plans"][0]
    assert (plan["session"], plan["cash"], plan["buy_amount"], plan["held_picks"]) == (
        "2026-03-03",
        10_000_000,
        5_000_000,
        [],
    )
    assert [p["target"] for p in plan["picks"]] == [10_000, 20_000]
    # Wednesday has no picks file: an empty plan.
    assert data["plans"][1]["held_picks"] == [] and data["plans"][1]["picks"] == []
    assert data["prices"] == {
        "000010": {"2026-03-03": {"open": 10_100, "close": 10_700}},
        "000020": {
            "2026-03-03": {"open": 20_100, "close": 20_100},
            "2026-03-04": {"open": 20_100, "close": 20_100},
        },
    }

    figures = headline(result)
    assert (figures.sessions, figures.trades, figures.wins, figures.open_positions) == (2, 1, 1, 1)
    assert figures.final_value == result.equity[-1].value


@pytest.mark.processes
def test_the_demo_data_is_what_its_script_makes(tmp_path: Path) -> None:
    made = subprocess.run(
        [sys.executable, "scripts/make_demo_history.py", "--out", str(tmp_path)],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    shipped = ROOT / "examples" / "backtest"
    assert (tmp_path / "bars.csv.gz").read_bytes() == (shipped / "bars.csv.gz").read_bytes()
    names = sorted(p.name for p in (shipped / "picks").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "picks").iterdir())
    for name in names:
        assert (tmp_path / "picks" / name).read_text() == (shipped / "picks" / name).read_text()
    assert (shipped / "bars.csv.gz").stat().st_size < 400_000
