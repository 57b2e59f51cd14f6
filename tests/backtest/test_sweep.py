"""``kat backtest --sweep`` as a process on the demo data: the grid run on every core, ranked
in-sample with out-of-sample beside it, the overfitting warning, and bad grids refused."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from shared.backtest.config import BacktestConfig
from shared.backtest.memory_bars import MemoryBars
from shared.backtest.picks_source import PicksDir
from shared.backtest.summary import read_figures
from shared.backtest.sweep import run_sweep
from shared.backtest.sweep_grid import parse_grid
from shared.backtest.sweep_report import read_sweep
from shared.backtest.sweep_results import Metric
from shared.trading.market_calendar import KrxCalendar
from tests.backtest.test_kat_backtest import DEMO, RANGE, kat, kat_here

pytestmark = pytest.mark.processes

SOURCE = ("--picks-dir", str(DEMO / "picks"), "--bars-csv", str(DEMO / "bars.csv.gz"))
GRID = ("--sweep", "TAKE_PROFIT_PCT=3,5", "STOP_LOSS_PCT=-2,-3")


@pytest.fixture(scope="session")
def swept(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    tmp = tmp_path_factory.mktemp("sweep")
    done = kat(tmp, *RANGE, *SOURCE, *GRID, "--split", "0.7", "--workers", "2")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    return Path(lines[-1].removeprefix("report: ")).parent, lines


def test_the_grid_is_ranked_in_sample_with_out_of_sample_beside_it(
    swept: tuple[Path, list[str]],
) -> None:
    directory, lines = swept
    # DATA_DIR/backtests/sweep-<range>-<when>/
    assert (directory.parent.parent.name, directory.parent.name) == ("data", "backtests")
    assert directory.name.startswith("sweep-20251217-20260116-")
    assert re.fullmatch(
        r"sweep 2025-12-17 to 2026-01-16: 4 points of TAKE_PROFIT_PCT x STOP_LOSS_PCT on 2"
        r" processes in [0-9.]+ s",
        lines[0],
    )
    # 20 sessions: the first 14 in-sample, the last 6 out-of-sample.
    assert lines[1] == (
        "ranked by return in-sample 2025-12-17 to 2026-01-08 (14 sessions); out-of-sample"
        " 2026-01-09 to 2026-01-16 (6 sessions) beside it"
    )
    assert "| in-sample:" in lines[2] and "| out-of-sample:" in lines[2]
    rows = lines[3:7]
    assert [int(r.split()[0]) for r in rows] == [1, 2, 3, 4]
    assert sum(r.endswith("(live)") for r in rows) == 1
    assert any(line.startswith("WARNING: Overfitting: the best of 4 settings") for line in lines)

    sweep = read_sweep(directory / "sweep.json")
    assert sweep.metric is Metric.RETURN and sweep.split == Decimal("0.7")
    assert sweep.in_sample == (date(2025, 12, 17), date(2026, 1, 8))
    assert sweep.out_of_sample == (date(2026, 1, 9), date(2026, 1, 16))
    assert [r.rank for r in sweep.rows] == [1, 2, 3, 4]
    returns = [r.in_sample.return_pct for r in sweep.rows]
    assert returns == sorted(returns, reverse=True)
    assert sorted(tuple(r.point.values()) for r in sweep.rows) == [
        ("3", "-2"),
        ("3", "-3"),
        ("5", "-2"),
        ("5", "-3"),
    ]
    [live] = [r for r in sweep.rows if r.live]
    assert live.point == {"TAKE_PROFIT_PCT": "5", "STOP_LOSS_PCT": "-3"}
    for row, line in zip(sweep.rows, rows, strict=True):
        assert f"{row.in_sample.return_pct:+.2f} %" in line.split("|")[1]
        assert f"{row.out_of_sample.return_pct:+.2f} %" in line.split("|")[2]
        assert row.in_sample.sessions == 14 and row.out_of_sample.sessions == 6


def test_each_row_is_the_backtest_of_its_settings(
    swept: tuple[Path, list[str]], tmp_path: Path
) -> None:
    """The top row, in-sample and out-of-sample, against kat backtest with its settings."""
    sweep = read_sweep(swept[0] / "sweep.json")
    top = sweep.rows[0]
    for part, run in (("in", top.in_sample), ("out", top.out_of_sample)):
        done = kat(
            tmp_path,
            "--from",
            run.start.isoformat(),
            "--to",
            run.end.isoformat(),
            *SOURCE,
            "--out",
            part,
            **top.point,
        )
        assert done.returncode == 0, done.stderr
        single = read_figures(tmp_path / part / "report.json")
        assert (single.final_value, single.return_pct, single.trades.trades) == (
            run.final_value,
            run.return_pct,
            run.trades,
        )
        assert (single.max_drawdown_pct, single.trades.profit_factor) == (
            run.max_drawdown_pct,
            run.profit_factor,
        )


def test_the_page_warns_and_is_self_contained(swept: tuple[Path, list[str]]) -> None:
    page = (swept[0] / "sweep.html").read_text()
    sweep = read_sweep(swept[0] / "sweep.json")
    assert 'id="warning"' in page and "Overfitting: the best of 4 settings" in page
    assert re.findall(r"""(?:src|href)\s*=""", page) == [] and "<script" not in page
    assert re.search(r"https?://", page) is None
    assert page.count('class="sweep-row') == 4
    assert page.count('<circle class="dot') == 4  # in-sample against out-of-sample
    assert page.count("<tr><th>3</th>") == 1 and page.count("<tr><th>5</th>") == 1  # the grid
    assert "2025-12-17 to 2026-01-08 (14 sessions" in page
    data = json.loads((swept[0] / "sweep.json").read_text())
    assert data["warning"] == sweep.warning and data["grid"] == {
        "TAKE_PROFIT_PCT": ["3", "5"],
        "STOP_LOSS_PCT": ["-2", "-3"],
    }


def test_one_process_or_two_rank_alike() -> None:
    bars = MemoryBars.from_csv(DEMO / "bars.csv.gz", KrxCalendar())
    config = BacktestConfig(date(2025, 12, 17), date(2026, 1, 16))
    picks = PicksDir(DEMO / "picks", config.calendar())
    axes = parse_grid(["EXPIRY_SESSIONS=2,5", "BUY_BAND_RATIO=1.03,1.05"])
    one = run_sweep(config, picks, bars, axes, Metric.MAX_DRAWDOWN, Decimal("0.5"), workers=1)
    two = run_sweep(config, picks, bars, axes, Metric.MAX_DRAWDOWN, Decimal("0.5"), workers=2)
    assert (one.workers, two.workers) == (1, 2)
    assert one.rows == two.rows
    drawdowns = [r.in_sample.max_drawdown_pct for r in one.rows]
    assert drawdowns == sorted(drawdowns)  # the smallest drawdown first
    assert {r.in_sample.sessions for r in one.rows} == {10}


BAD = {
    ("--sweep", "FOO=1,2"): (
        "kat backtest: --sweep FOO=1,2: FOO is not a setting a sweep can vary (one of"
        " TAKE_PROFIT_PCT, STOP_LOSS_PCT, BUY_BAND_RATIO, EXPIRY_SESSIONS, BUY_CUTOFF_MINUTES,"
        " PRECLOSE_CUTOFF_MINUTES)"
    ),
    ("--sweep", "TAKE_PROFIT_PCT=3,abc"): (
        "kat backtest: --sweep TAKE_PROFIT_PCT=abc: input should be a valid decimal"
    ),
    ("--sweep", "STOP_LOSS_PCT=-3,2"): (
        "kat backtest: --sweep STOP_LOSS_PCT=2: input should be less than 0"
    ),
    ("--sweep", "EXPIRY_SESSIONS=2.5"): (
        "kat backtest: --sweep EXPIRY_SESSIONS=2.5: input should be a valid integer, unable to"
        " parse string as an integer"
    ),
    ("--sweep", "TAKE_PROFIT_PCT=3,3"): (
        "kat backtest: --sweep TAKE_PROFIT_PCT=3,3: a value is given twice"
    ),
    ("--sweep", "TAKE_PROFIT_PCT"): (
        "kat backtest: --sweep TAKE_PROFIT_PCT: write NAME=V1,V2,... (e.g. TAKE_PROFIT_PCT=3,5,7)"
    ),
    ("--sweep", "BUY_CUTOFF_MINUTES=5", "PRECLOSE_CUTOFF_MINUTES=10"): (
        "kat backtest: --sweep: at BUY_CUTOFF_MINUTES=5 PRECLOSE_CUTOFF_MINUTES=10"
        " PRECLOSE_CUTOFF_MINUTES is not under BUY_CUTOFF_MINUTES"
    ),
    ("--sweep", "TAKE_PROFIT_PCT=3", "--split", "1.5"): (
        "kat backtest: --split must be between 0 and 1 (0.7: 70 % in-sample), got 1.5"
    ),
    ("--sweep", "TAKE_PROFIT_PCT=3", "--split", "0.01"): (
        "kat backtest: --split 0.01 of 20 sessions leaves no session in sample: widen the range"
        " or change --split"
    ),
    ("--sweep", "TAKE_PROFIT_PCT=3", "--metric", "sharpe"): (
        "kat backtest: --metric sharpe: one of return, profit_factor, expectancy, win_rate,"
        " max_drawdown"
    ),
    ("--sweep", "TAKE_PROFIT_PCT=3", "--workers", "0"): (
        "kat backtest: --workers must be 1 or more, got 0"
    ),
    ("--metric", "return"): "kat backtest: --metric only with --sweep",
}


@pytest.mark.parametrize("args", list(BAD), ids=[" ".join(a) for a in BAD])
def test_a_bad_grid_is_refused_in_one_line(
    args: tuple[str, ...],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """In this process (kat_here): the refusal's exit path is test_kat_backtest.py's."""
    assert kat_here(monkeypatch, capsys, tmp_path, *RANGE, *SOURCE, *args) == (2, BAD[args], "")
    assert not (tmp_path / "data" / "backtests").exists()
