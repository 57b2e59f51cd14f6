"""report.html as ``kat backtest`` writes it beside report.json: self-contained, and showing the
figures report.json has (a real process on the shipped demo data, offline)."""

from __future__ import annotations

import html
import json
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from shared.backtest.figures import ReportFigures, figures
from shared.backtest.results import BacktestResult
from shared.backtest.summary import read_figures
from tests.backtest.test_kat_backtest import DEMO, RANGE, kat

pytestmark = pytest.mark.processes


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's report directory, written by ``kat backtest`` as a process."""
    tmp = tmp_path_factory.mktemp("report-html")
    bars = str(DEMO / "bars.csv.gz")
    done = kat(tmp, *RANGE, "--picks-dir", str(DEMO / "picks"), "--bars-csv", bars)
    assert done.returncode == 0, done.stderr
    page = Path(done.stdout.splitlines()[-1].removeprefix("report: "))
    assert page.name == "report.html" and page.is_file()
    return page.parent


def text_of(page: str) -> str:
    """The page's text, tags dropped and entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def signed(value: int) -> str:
    return ("+" if value > 0 else "−" if value < 0 else "") + f"{abs(value):,}"


def test_the_page_is_self_contained(demo: Path) -> None:
    page = (demo / "report.html").read_text()
    assert page.startswith("<!doctype html>")
    links = re.findall(r"""(?:src|href|xlink:href)\s*=\s*["']?([^"' >]+)""", page)
    assert links == [], links  # nothing fetched: no stylesheet, script, font or image link
    assert "<script" not in page.lower() and "@import" not in page
    assert re.search(r"https?://", page) is None
    assert "url(" not in page
    assert page.count("<style>") == 1 and page.count("<svg") == 2


def test_report_json_keeps_the_figures_the_page_shows(demo: Path) -> None:
    data = json.loads((demo / "report.json").read_text())
    result = BacktestResult.read(demo / "report.json")
    stored = read_figures(demo / "report.json")
    assert stored == figures(result)  # the figures are those of the result beside them
    assert ReportFigures.from_json(data["metrics"]) == stored
    assert stored.final_value == result.equity[-1].value
    assert stored.trades.trades == len(result.trades) == 34
    assert stored.sessions == 20 and len(stored.buy_and_hold.values) == 20
    assert sum(m.end_value - m.start_value for m in stored.months) == (
        stored.final_value - stored.start_cash
    )
    assert [m.month for m in stored.months] == ["2025-12", "2026-01"]
    assert {c.code for c in stored.codes} == {"900010", "900020", "900030", "900040"}
    assert sum(c.net for c in stored.codes) == stored.trades.net
    assert stored.problems == {"daily_only": 1, "gap": 1, "halted": 1, "picks": 1, "split": 1}


def test_the_page_shows_the_figures_of_report_json(demo: Path) -> None:
    page = (demo / "report.html").read_text()
    text = text_of(page)
    result = BacktestResult.read(demo / "report.json")
    f = read_figures(demo / "report.json")

    def shown(element: str) -> str:
        found = re.search(rf'id="{element}"[^>]*>([^<]*)<', page)
        assert found, element
        return html.unescape(found.group(1))

    assert shown("final-value") == f"{f.final_value:,}"
    assert shown("return") == f"{signed_pct(f.return_pct)} %"
    assert shown("buy-and-hold-return") == f"{signed_pct(f.buy_and_hold.return_pct)} %"
    assert shown("max-drawdown") == f"{f.max_drawdown_pct} %"
    assert shown("trades") == str(f.trades.trades)
    assert shown("win-rate") == f"{f.trades.win_rate_pct} %"
    assert shown("profit-factor") == f"{f.trades.profit_factor}"
    assert f.trades.expectancy is not None
    expectancy = int(f.trades.expectancy.quantize(Decimal(1), ROUND_HALF_UP))
    assert shown("expectancy") == signed(expectancy)  # won a trade, to the won
    assert shown("exposure") == f"{f.exposure_pct} %"
    assert shown("average-hold") == f"{f.trades.average_hold}"
    assert shown("net") == signed(f.trades.net)
    # The equity curve has a vertex per session, beside buy-and-hold's.
    [rules] = re.findall(r'<polyline class="line" points="([^"]+)"', page)
    [hold] = re.findall(r'<polyline class="hold" points="([^"]+)"', page)
    assert len(rules.split()) == len(hold.split()) == len(result.equity)
    assert re.search(r'<polygon class="fall" points="[^"]+"', page)
    # Monthly returns, every trade with its reason and costs, every code, every problem.
    for month in f.months:
        assert f"{signed_pct(month.return_pct)} %" in text
    assert page.count('<tr class="trade">') == len(result.trades)
    for trade in result.trades:
        row = f"{trade.code} {trade.entry_session} {trade.entry_moment:%H:%M} {trade.entry_price:,}"
        assert row in text
        assert f"{trade.fees:,} {trade.tax:,} {signed(trade.gross)} {signed(trade.net)}" in text
    assert "take-profit (above +5 %)" in text and "stop-loss (below -3 %)" in text
    assert page.count('class="code-row"') == len(f.codes)
    for code in f.codes:
        assert f"{signed(code.pnl)} {signed(code.buy_and_hold_pnl)}" in text
    assert page.count('<tr class="problem">') == len(result.problems)
    for problem in result.problems:
        code = problem.code or "–"
        assert f"{problem.session} {code} {problem.kind.value} {problem.detail}" in text
    # The settings used and what the model leaves out.
    assert "TAKE_PROFIT_PCT 5" in text and "STOP_LOSS_PCT -3" in text
    assert "What this model does not capture" in text
    assert "the coarse model" in text  # the demo has a session with its daily bar only


def signed_pct(value: Decimal) -> str:
    return ("+" if value > 0 else "−" if value < 0 else "") + f"{abs(value):,.2f}"


def test_names_from_picks_files_are_escaped(tmp_path: Path) -> None:
    picks = tmp_path / "picks"
    picks.mkdir()
    for day in ("2026-01-05", "2026-01-06"):
        (picks / f"{day}.json").write_text(
            json.dumps({"900010": ["<script>alert(1)</script>", 1000]})
        )
    bars = str(DEMO / "bars.csv.gz")
    done = kat(
        tmp_path,
        "--from",
        "2026-01-05",
        "--to",
        "2026-01-06",
        "--picks-dir",
        str(picks),
        "--bars-csv",
        bars,
        "--out",
        "run",
    )
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "run" / "report.html").read_text()
    assert "<script" not in page
