"""The backtests under ``DATA_DIR/backtests/``, read only: ``GET /backtests`` lists them,
``GET /backtests/{backtest_id}/{name}`` serves a run's page or JSON, the status page links them.

See docs/ARCHITECTURE.md, 'Status API' and 'Backtest'. An id is a directory name of letters,
digits, ``-`` and ``_`` only (services/api/params.py), and the file it names must resolve inside
``DATA_DIR/backtests/``: no parent, absolute path or symlink out is ever served. A report's
figures are read once per version of its file (a run's files are written once).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Response
from flask_openapi3 import APIBlueprint

from services.api import answers
from services.api.answers import answer
from services.api.context import ctx
from services.api.errors import ApiError
from services.api.inputs import BacktestPath
from services.api.openapi import BAD_REQUEST, STATUS_TAG, error
from services.api.params import parse_backtest_id
from shared.backtest.config import BacktestConfig
from shared.backtest.figures import ReportFigures
from shared.backtest.layout import BACKTESTS, REPORT_HTML, REPORT_JSON, SWEEP_HTML, SWEEP_JSON
from shared.backtest.sweep_results import SweepResult, figure
from shared.infra.clock import KST
from shared.messaging.typed_json import ShapeError, decode_object

log = logging.getLogger(__name__)

PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
"""A report's page runs nothing and loads nothing: its CSS and SVG are inline."""
CACHE_LIMIT = 1000
"""Most reports whose figures are kept in memory."""
STATUS_PAGE_ROWS = 5
"""Backtests the status page shows (``GET /backtests`` lists them all)."""
TYPES = {".html": "text/html", ".json": "application/json"}

blueprint = APIBlueprint("backtests", __name__, abp_tags=[STATUS_TAG])


@blueprint.get(
    "/backtests",
    summary="The backtests and sweeps under DATA_DIR/backtests/, latest first, with headlines",
    responses={200: answers.Backtests},
)
def backtests() -> Response:
    return answer(answers.Backtests, listing(ctx().settings.data_dir))


@blueprint.get(
    "/backtests/<backtest_id>/<name>",
    summary="A backtest's page (report.html, sweep.html) or its figures (report.json, sweep.json)",
    responses={
        200: {
            "description": "The file: a self-contained page, or the JSON it was drawn from",
            "content": {
                "text/html": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "object"}},
            },
        },
        400: BAD_REQUEST,
        404: error("No such backtest, or it has no such file"),
    },
)
def backtest_file(path: BacktestPath) -> Response:
    found = resolve(ctx().settings.data_dir, path.backtest_id, path.name)
    response = Response(found.read_bytes(), mimetype=TYPES[found.suffix])
    response.headers["X-Content-Type-Options"] = "nosniff"
    if found.suffix == ".html":
        response.headers["Content-Security-Policy"] = PAGE_POLICY
    return response


# Files -----------------------------------------------------------------------------------------
def resolve(data_dir: Path, backtest_id: str, name: str) -> Path:
    """The file ``name`` of backtest ``backtest_id``, inside ``DATA_DIR/backtests/`` only:
    ApiError 400 for an id that is not a plain name, 404 when there is no such file."""
    parse_backtest_id(backtest_id)
    if name not in (REPORT_HTML, REPORT_JSON, SWEEP_HTML, SWEEP_JSON):
        raise ApiError(404, f"a backtest has no file {name[:40]!r}")
    base = (data_dir / BACKTESTS).resolve()
    found = (base / backtest_id / name).resolve()
    if not found.is_relative_to(base) or not found.is_file():
        raise ApiError(404, f"no {name} in backtest {backtest_id!r}")
    return found


@dataclass(frozen=True)
class _Cached:
    version: tuple[int, int]
    entry: dict[str, Any] | None


Reader = Callable[[str, dict[str, Any]], dict[str, Any] | None]
"""Makes a listing's entry of a run's JSON (its id, its data)."""

_CACHE: dict[Path, _Cached] = {}
_CACHE_LOCK = threading.Lock()


def listing(data_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """Every readable report and sweep, the latest written first (an unreadable one is logged
    and left out)."""
    base = data_dir / BACKTESTS
    reports: list[dict[str, Any]] = []
    sweeps: list[dict[str, Any]] = []
    try:
        directories = [d for d in base.iterdir() if d.is_dir()]
    except OSError:
        directories = []
    for directory in directories:
        if not _plain_name(directory.name):
            continue
        report = _entry(directory / REPORT_JSON, _report)
        if report is not None:
            reports.append(report)
        sweep = _entry(directory / SWEEP_JSON, _sweep)
        if sweep is not None:
            sweeps.append(sweep)
    reports.sort(key=lambda e: (e["written_kst"], e["id"]), reverse=True)
    sweeps.sort(key=lambda e: (e["written_kst"], e["id"]), reverse=True)
    return {"reports": reports, "sweeps": sweeps}


def latest(data_dir: Path, count: int = STATUS_PAGE_ROWS) -> list[dict[str, Any]]:
    """The latest ``count`` reports and sweeps together, for the status page."""
    found = listing(data_dir)
    rows = [{"kind": "report", **r} for r in found["reports"]]
    rows += [{"kind": "sweep", **s} for s in found["sweeps"]]
    rows.sort(key=lambda e: (e["written_kst"], e["id"]), reverse=True)
    return rows[:count]


def _plain_name(name: str) -> bool:
    try:
        parse_backtest_id(name)
    except ApiError:
        return False
    return True


def _entry(path: Path, read: Reader) -> dict[str, Any] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    version = (stat.st_mtime_ns, stat.st_size)
    with _CACHE_LOCK:
        cached = _CACHE.get(path)
    if cached is not None and cached.version == version:
        return cached.entry
    try:
        data = json.loads(path.read_bytes())
        entry: dict[str, Any] | None = read(path.parent.name, data)
        if entry is not None:
            entry["written_kst"] = datetime.fromtimestamp(stat.st_mtime, KST).isoformat()
    except (OSError, ValueError, KeyError, TypeError, ShapeError) as e:
        log.warning("backtests: %s is unreadable, not listed: %s", path, e)
        entry = None
    with _CACHE_LOCK:
        if len(_CACHE) >= CACHE_LIMIT:
            _CACHE.clear()
        _CACHE[path] = _Cached(version, entry)
    return entry


def _links(backtest_id: str, page: str, data: str) -> dict[str, str]:
    return {"page": f"/backtests/{backtest_id}/{page}", "data": f"/backtests/{backtest_id}/{data}"}


def _report(backtest_id: str, data: dict[str, Any]) -> dict[str, Any]:
    config: BacktestConfig = decode_object(data["config"], BacktestConfig, "config")
    figures = ReportFigures.from_json(data["metrics"])
    win_rate = figures.trades.win_rate_pct
    return {
        "id": backtest_id,
        "start": config.start.isoformat(),
        "end": config.end.isoformat(),
        "sessions": figures.sessions,
        "start_cash": figures.start_cash,
        "final_value": figures.final_value,
        "return_pct": str(figures.return_pct),
        "max_drawdown_pct": str(figures.max_drawdown_pct),
        "trades": figures.trades.trades,
        "win_rate_pct": None if win_rate is None else str(win_rate),
        "buy_and_hold_return_pct": str(figures.buy_and_hold.return_pct),
        "problems": sum(figures.problems.values()),
        "links": _links(backtest_id, REPORT_HTML, REPORT_JSON),
    }


def _sweep(backtest_id: str, data: dict[str, Any]) -> dict[str, Any] | None:
    result = SweepResult.from_json(data)
    if not result.rows:
        return None
    best = result.rows[0]
    return {
        "id": backtest_id,
        "start": result.config.start.isoformat(),
        "end": result.config.end.isoformat(),
        "points": len(result.rows),
        "metric": result.metric.value,
        "split": str(result.split),
        "best": dict(best.point),
        "best_in_sample": figure(best.in_sample, result.metric),
        "best_out_of_sample": figure(best.out_of_sample, result.metric),
        "links": _links(backtest_id, SWEEP_HTML, SWEEP_JSON),
    }
