"""The read-only JSON endpoints: health, status, picks, orders, positions, watchlist, queues,
metrics."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import redis
from flask import Response, current_app
from flask_openapi3 import APIBlueprint

from services.api import answers, metrics, queues_view, state
from services.api.answers import answer
from services.api.context import ApiContext, ctx, kept
from services.api.errors import ApiError, json_error
from services.api.inputs import OrderPath, OrdersQuery, PicksQuery
from services.api.openapi import BAD_REQUEST, REDIS_DOWN, STATUS_TAG, error, text
from services.api.params import ORDER_ID_MAX_LENGTH

KIS_CONNECT_TIMEOUT_SECONDS = 1.0
"""How long ``/readyz`` waits for a TCP connection to the KIS host."""
REGISTRY = "kat_metrics_registry"
"""Key of the app's Prometheus registry in ``app.extensions``."""

blueprint = APIBlueprint("api", __name__, abp_tags=[STATUS_TAG])


@blueprint.get(
    "/healthz",
    summary="The process is up (no dependency checked)",
    responses={200: answers.Health},
)
def healthz() -> Response:
    return answer(answers.Health, {"status": "ok"})


@blueprint.get(
    "/readyz",
    summary="Redis answers PING and the KIS host accepts a TCP connection",
    responses={200: answers.Ready, 503: error("Not ready; `checks` says what is down")},
)
def readyz() -> Response:
    api = ctx()
    checks = {"redis": _redis_check(api), "kis": kis_check(api.settings.base_url)}
    if api.settings.dry_run:
        # A dry run's orders and account are at the local ledger: it must answer too.
        checks["ledger"] = kis_check(api.settings.order_base_url)
    down = sorted(name for name, result in checks.items() if result != "ok")
    if down:
        response = json_error(503, f"not ready: {', '.join(down)} unreachable", checks=checks)
        response.headers["Retry-After"] = "5"
        return response
    return answer(answers.Ready, {"status": "ready", "checks": checks})


def _redis_check(api: ApiContext) -> str:
    try:
        api.redis.ping()
    except redis.RedisError as e:
        return f"down: {type(e).__name__}"
    return "ok"


def kis_check(base_url: str) -> str:
    """``ok``, or ``down: <error>`` when no TCP connection to the KIS host can be made."""
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


@blueprint.get(
    "/status",
    summary="Mode, masked account, clock, session and phase, services, controls, cash and P&L",
    responses={200: answers.Status, 503: REDIS_DOWN},
)
def status() -> Response:
    return kept(lambda: answer(answers.Status, state.status(ctx())))


@blueprint.get(
    "/picks",
    summary="The picks stored for a session",
    responses={200: answers.Picks, 400: BAD_REQUEST, 503: REDIS_DOWN},
)
def picks(query: PicksQuery) -> Response:
    api = ctx()
    day = query.date or api.calendar.next_session(api.clock.now().date()).day
    return kept(lambda: answer(answers.Picks, state.picks(api, day)))


@blueprint.get(
    "/orders",
    summary="The orders of a session, optionally of one status",
    responses={200: answers.Orders, 400: BAD_REQUEST, 503: REDIS_DOWN},
)
def orders(query: OrdersQuery) -> Response:
    return kept(lambda: _orders(query))


def _orders(query: OrdersQuery) -> Response:
    api = ctx()
    day = query.date or api.clock.now().date()
    wanted = query.status
    rows = state.orders(api, day, wanted)
    counts = state.order_counts(rows if wanted is None else state.orders(api, day))
    return answer(
        answers.Orders,
        {
            "date": day.isoformat(),
            "status": wanted.value if wanted else None,
            "counts": counts,
            "orders": rows,
        },
    )


@blueprint.get(
    "/orders/<order_id>",
    summary="One order record",
    responses={200: answers.Order, 404: error("No such order"), 503: REDIS_DOWN},
)
def order(path: OrderPath) -> Response:
    if len(path.order_id) > ORDER_ID_MAX_LENGTH:
        raise ApiError(404, "no such order")
    found = state.order(ctx(), path.order_id)
    if found is None:
        raise ApiError(404, f"no order {path.order_id!r}")
    return answer(answers.Order, found)


@blueprint.get(
    "/positions",
    summary="The position ledger valued at the last balance, and today's realised P&L",
    responses={200: answers.Positions, 503: REDIS_DOWN},
)
def positions() -> Response:
    api = ctx()
    return kept(lambda: answer(answers.Positions, state.positions(api, state.today(api))))


@blueprint.get(
    "/watchlist",
    summary=(
        "Every pick and position: band or thresholds, last price and its age, the distance to "
        "the next decision, on the stream or polled"
    ),
    responses={200: answers.Watchlist, 503: REDIS_DOWN},
)
def watchlist() -> Response:
    return kept(lambda: answer(answers.Watchlist, state.watchlist(ctx())))


@blueprint.get(
    "/queues",
    summary="RQ: job counts per queue, workers and what they run, latest failures",
    responses={200: answers.Queues, 503: REDIS_DOWN},
)
def queues() -> Response:
    return kept(lambda: answer(answers.Queues, queues_view.overview(ctx().redis)))


@blueprint.get(
    "/metrics",
    summary="Prometheus metrics",
    responses={200: text("Prometheus text exposition format 0.0.4", "text/plain")},
)
def metrics_text() -> Response:
    registry = current_app.extensions[REGISTRY]
    return Response(metrics.render(registry), mimetype=None, content_type=metrics.CONTENT_TYPE)
