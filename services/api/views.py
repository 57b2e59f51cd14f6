"""The read-only JSON endpoints: health, status, picks, orders, positions, watchlist, queues,
metrics."""

from __future__ import annotations

import socket
from typing import Any
from urllib.parse import urlsplit

import redis
from flask import Blueprint, Response, current_app, jsonify, request

from services.api import metrics, openapi, queues_view, state
from services.api.context import ApiContext, ctx
from services.api.errors import ApiError, json_error
from services.api.params import ORDER_ID_MAX_LENGTH, optional_date, parse_status

KIS_CONNECT_TIMEOUT_SECONDS = 1.0
"""How long ``/readyz`` waits for a TCP connection to the KIS host."""
REGISTRY = "kat_metrics_registry"
"""Key of the app's Prometheus registry in ``app.extensions``."""

blueprint = Blueprint("api", __name__)


@blueprint.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})


@blueprint.get("/readyz")
def readyz() -> Response:
    api = ctx()
    checks = {"redis": _redis_check(api), "kis": _kis_check(api.settings.base_url)}
    down = sorted(name for name, result in checks.items() if result != "ok")
    if down:
        response = json_error(503, f"not ready: {', '.join(down)} unreachable", checks=checks)
        response.headers["Retry-After"] = "5"
        return response
    return jsonify({"status": "ready", "checks": checks})


def _redis_check(api: ApiContext) -> str:
    try:
        api.redis.ping()
    except redis.RedisError as e:
        return f"down: {type(e).__name__}"
    return "ok"


def _kis_check(base_url: str) -> str:
    # A TCP connect, not an HTTP request: readiness probes must not spend the KIS rate limit.
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=KIS_CONNECT_TIMEOUT_SECONDS):
            pass
    except OSError as e:
        return f"down: {type(e).__name__}"
    return "ok"


@blueprint.get("/status")
def status() -> Response:
    return jsonify(state.status(ctx()))


@blueprint.get("/picks")
def picks() -> Response:
    api = ctx()
    default = api.calendar.next_session(api.clock.now().date()).day
    return jsonify(state.picks(api, optional_date(request.args.get("date"), default)))


@blueprint.get("/orders")
def orders() -> Response:
    api = ctx()
    day = optional_date(request.args.get("date"), api.clock.now().date())
    wanted = parse_status(request.args.get("status"))
    rows = state.orders(api, day, wanted)
    counts = state.order_counts(rows if wanted is None else state.orders(api, day))
    return jsonify(
        {
            "date": day.isoformat(),
            "status": wanted.value if wanted else None,
            "counts": counts,
            "orders": rows,
        }
    )


@blueprint.get("/orders/<order_id>")
def order(order_id: str) -> Response:
    if len(order_id) > ORDER_ID_MAX_LENGTH:
        raise ApiError(404, "no such order")
    found = state.order(ctx(), order_id)
    if found is None:
        raise ApiError(404, f"no order {order_id!r}")
    return jsonify(found)


@blueprint.get("/positions")
def positions() -> Response:
    api = ctx()
    return jsonify(state.positions(api, state.today(api)))


@blueprint.get("/watchlist")
def watchlist() -> Response:
    return jsonify(state.watchlist(ctx()))


@blueprint.get("/queues")
def queues() -> Response:
    return jsonify(queues_view.overview(ctx().redis))


@blueprint.get("/metrics")
def metrics_text() -> Response:
    registry = current_app.extensions[REGISTRY]
    return Response(metrics.render(registry), mimetype=None, content_type=metrics.CONTENT_TYPE)


@blueprint.get("/openapi.json")
def openapi_json() -> Response:
    document: dict[str, Any] = openapi.document()
    return jsonify(document)
