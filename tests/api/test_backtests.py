"""The backtests under DATA_DIR/backtests/ as the status API serves them: the list, a run's page
and JSON, the status page's links, and ids that try to leave the directory (refused)."""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from services.api.backtests import resolve
from services.api.errors import ApiError
from shared.backtest.summary import read_figures
from shared.backtest.sweep_report import read_sweep
from tests.api.conftest import RunningApi, start_api, stop_api
from tests.backtest.test_kat_backtest import DEMO, RANGE, kat
from tests.conftest import RedisServer

SECRET = "the-contents-of-a-file-outside-backtests"
"""Written beside DATA_DIR/backtests/ and above it: never served."""
SOURCE = ("--picks-dir", str(DEMO / "picks"), "--bars-csv", str(DEMO / "bars.csv.gz"))
ESCAPES = [
    "/backtests/../secret.json/report.json",
    "/backtests/../report.json",
    "/backtests/..%2F..%2Fsecret.json/report.json",
    "/backtests/%2E%2E/report.json",
    "/backtests/..%2Freport.html",
    "/backtests/%2Fetc%2Fpasswd/report.json",
    "/backtests/.hidden/report.json",
    "/backtests/a%00b/report.json",
    "/backtests/outside/report.json",  # a symlink out of the directory
]
"""Paths that try to reach a file outside DATA_DIR/backtests/ (or a hidden one)."""


@dataclass(frozen=True)
class DataDir:
    path: Path
    report_id: str
    sweep_id: str


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    """A data directory with a report and a sweep that ``kat backtest`` wrote as processes."""
    tmp = tmp_path_factory.mktemp("backtests")
    report = kat(tmp, *RANGE, *SOURCE)
    sweep = kat(tmp, *RANGE, *SOURCE, "--sweep", "TAKE_PROFIT_PCT=3,5", "--workers", "2")
    assert report.returncode == 0 and sweep.returncode == 0, report.stderr + sweep.stderr
    data = tmp / "data"
    (data / "secret.json").write_text(json.dumps({"secret": SECRET}))
    (data / "report.json").write_text(json.dumps({"secret": SECRET}))
    (data / "report.html").write_text(SECRET)
    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "report.json").write_text(json.dumps({"secret": SECRET}))
    (data / "backtests" / "outside").symlink_to(elsewhere)
    (data / "backtests" / ".hidden").mkdir()
    (data / "backtests" / ".hidden" / "report.json").write_text(json.dumps({"secret": SECRET}))
    (data / "backtests" / "broken").mkdir()
    (data / "backtests" / "broken" / "report.json").write_text("{not json")

    def directory(done_stdout: str) -> str:
        return Path(done_stdout.splitlines()[-1].removeprefix("report: ")).parent.name

    return DataDir(data, directory(report.stdout), directory(sweep.stdout))


@pytest.fixture
def api_client(make_app: Callable[..., Flask], data_dir: DataDir) -> FlaskClient:
    return make_app(DATA_DIR=str(data_dir.path)).test_client()


def test_the_list_has_each_run_and_its_headline(api_client: FlaskClient, data_dir: DataDir) -> None:
    response = api_client.get("/backtests")
    assert response.status_code == 200
    body = response.get_json()
    [report] = body["reports"]  # the broken, hidden and outside ones are not listed
    figures = read_figures(data_dir.path / "backtests" / data_dir.report_id / "report.json")
    assert report == {
        "id": data_dir.report_id,
        "written_kst": report["written_kst"],
        "start": "2025-12-17",
        "end": "2026-01-16",
        "sessions": 20,
        "start_cash": 10_000_000,
        "final_value": figures.final_value,
        "return_pct": str(figures.return_pct),
        "max_drawdown_pct": str(figures.max_drawdown_pct),
        "trades": figures.trades.trades,
        "win_rate_pct": str(figures.trades.win_rate_pct),
        "buy_and_hold_return_pct": str(figures.buy_and_hold.return_pct),
        "problems": 5,
        "links": {
            "page": f"/backtests/{data_dir.report_id}/report.html",
            "data": f"/backtests/{data_dir.report_id}/report.json",
        },
    }
    assert report["written_kst"].endswith("+09:00")
    [sweep] = body["sweeps"]
    found = read_sweep(data_dir.path / "backtests" / data_dir.sweep_id / "sweep.json")
    assert sweep["id"] == data_dir.sweep_id and sweep["points"] == 2
    assert sweep["metric"] == "return" and sweep["split"] == "0.7"
    assert sweep["best"] == found.rows[0].point
    assert sweep["best_in_sample"] == f"{found.rows[0].in_sample.return_pct:+.2f} %"
    assert sweep["links"]["page"] == f"/backtests/{data_dir.sweep_id}/sweep.html"


def test_an_empty_or_missing_directory_lists_nothing(
    make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    client = make_app(DATA_DIR=str(tmp_path / "nothing-here")).test_client()
    assert client.get("/backtests").get_json() == {"reports": [], "sweeps": []}
    html = client.get("/").get_data(as_text=True)
    assert 'id="backtests-empty"' in html


def test_a_run_s_page_and_json_are_served_as_written(
    api_client: FlaskClient, data_dir: DataDir
) -> None:
    directory = data_dir.path / "backtests" / data_dir.report_id
    page = api_client.get(f"/backtests/{data_dir.report_id}/report.html")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert page.get_data() == (directory / "report.html").read_bytes()
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    data = api_client.get(f"/backtests/{data_dir.report_id}/report.json")
    assert data.status_code == 200 and data.mimetype == "application/json"
    assert data.get_json() == json.loads((directory / "report.json").read_text())
    sweep = api_client.get(f"/backtests/{data_dir.sweep_id}/sweep.html")
    assert sweep.status_code == 200 and b"Overfitting" in sweep.get_data()


def test_a_missing_run_or_file_is_a_404_in_json(api_client: FlaskClient, data_dir: DataDir) -> None:
    cases = {
        "/backtests/20990101-20990102-20990103T000000/report.html": "no report.html in backtest",
        f"/backtests/{data_dir.report_id}/sweep.html": "no sweep.html in backtest",
        f"/backtests/{data_dir.report_id}/secret.json": "a backtest has no file 'secret.json'",
    }
    for url, message in cases.items():
        response = api_client.get(url)
        assert response.status_code == 404, url
        assert response.is_json and response.get_json()["error"].startswith(message), url


def test_ids_that_leave_the_directory_are_refused(
    api_client: FlaskClient, data_dir: DataDir
) -> None:
    for url in ESCAPES:
        response = api_client.get(url)
        assert response.status_code in (400, 404), url
        assert response.is_json, url
        assert SECRET not in response.get_data(as_text=True), url
    bad = api_client.get("/backtests/%2E%2E/report.json").get_json()
    assert bad["error"].startswith("backtest id must be letters, digits, '-' or '_'")
    # Doubled slashes are merged (werkzeug redirects): what remains is a plain id, not there.
    merged = api_client.get("/backtests//etc/report.json")
    assert merged.status_code == 308 and merged.location.endswith("/backtests/etc/report.json")
    assert api_client.get(merged.location).status_code == 404


@pytest.mark.processes
def test_resolve_refuses_parents_absolute_paths_and_symlinks_out(data_dir: DataDir) -> None:
    for backtest_id in ("..", "../secret.json", "/etc", "/tmp/x", "a/b", ".hidden", "", "a" * 101):
        with pytest.raises(ApiError) as refused:
            resolve(data_dir.path, backtest_id, "report.json")
        assert refused.value.status == 400, backtest_id
    with pytest.raises(ApiError) as out:
        resolve(data_dir.path, "outside", "report.json")
    assert out.value.status == 404
    found = resolve(data_dir.path, data_dir.report_id, "report.html")
    assert found == (data_dir.path / "backtests" / data_dir.report_id / "report.html").resolve()


def test_the_status_page_links_the_latest_runs(api_client: FlaskClient, data_dir: DataDir) -> None:
    html = api_client.get("/").get_data(as_text=True)
    assert f'href="/backtests/{data_dir.report_id}/report.html"' in html
    assert f'href="/backtests/{data_dir.sweep_id}/sweep.html"' in html
    assert 'href="/backtests"' in html
    assert html.count('class="backtest"') == 2


# Over HTTP, as a browser or a script sends the path (no client-side normalising) -----------------
@pytest.fixture(scope="session")
def api(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory, data_dir: DataDir
) -> Iterator[RunningApi]:
    running = start_api(
        redis_server, 6, tmp_path_factory.mktemp("api-backtests"), DATA_DIR=str(data_dir.path)
    )
    yield running
    stop_api(running)


def raw_get(base: str, path: str) -> tuple[int, str, bytes]:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=5)
    try:
        conn.putrequest("GET", path, skip_host=False, skip_accept_encoding=True)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type") or "", response.read()
    finally:
        conn.close()


@pytest.mark.slow
def test_over_http_a_report_is_served_and_escapes_are_refused(
    api: RunningApi, data_dir: DataDir
) -> None:
    status, kind, body = raw_get(api.url, f"/backtests/{data_dir.report_id}/report.html")
    assert (status, kind.split(";")[0]) == (200, "text/html")
    path = data_dir.path / "backtests" / data_dir.report_id / "report.html"
    assert body == path.read_bytes()
    for url in ESCAPES:
        status, kind, body = raw_get(api.url, url)
        assert status in (400, 404), (url, status)
        assert kind.startswith("application/json"), url
        assert SECRET.encode() not in body, url
    listed = json.loads(raw_get(api.url, "/backtests")[2])
    assert [r["id"] for r in listed["reports"]] == [data_dir.report_id]
