"""The status page at ``/``: one server-rendered HTML page, every asset served by this app."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

import redis
from flask import Response, render_template, request
from flask_openapi3 import APIBlueprint, OpenAPI

from services.api import backtests, chart, queues_view, state, views
from services.api.context import ctx, kept
from services.api.openapi import STATUS_TAG, text
from shared.infra.clock import KST
from shared.infra.settings import Settings
from shared.state.control import HEARTBEAT_TTL_SECONDS
from shared.state.journal import Journal
from shared.state.track_record import track_record

log = logging.getLogger(__name__)

REFRESH_SECONDS = 15
"""The page reloads itself this often (a meta refresh: no script needed)."""
STALE_HEARTBEAT_SECONDS = 10
"""A heartbeat older than this is shown as late (it expires at HEARTBEAT_TTL_SECONDS)."""

blueprint = APIBlueprint("page", __name__, abp_tags=[STATUS_TAG])


@blueprint.get(
    "/",
    summary="The status page (HTML)",
    responses={200: text("The page", "text/html"), 503: text("Redis is unavailable", "text/html")},
)
def status_page() -> Response:
    return kept(_render)


def _render() -> Response:
    try:
        data = _page_data()
    except redis.RedisError as e:
        log.warning("status page: Redis unavailable: %s", e)
        page = render_template("status.html", error="Redis is unavailable", **_base())
        return Response(page, status=503, mimetype="text/html")
    page = render_template("status.html", error=None, **_base(), **data)
    return Response(page, status=200, mimetype="text/html")


def _base() -> dict[str, Any]:
    settings = ctx().settings
    return {
        "mode": settings.kis_env,
        "mode_label": settings.mode_label,
        "dry_run": settings.dry_run,
        "quote_host": settings.dryrun_quote_host,
        "account": settings.masked_account,
        "refresh_seconds": REFRESH_SECONDS,
    }


def _page_data() -> dict[str, Any]:
    api = ctx()
    now = state.today(api)
    status = state.status(api)
    equity = state.equity_series(api, now.day)
    return {
        "status": status,
        "picks": state.picks(api, now.day),
        "positions": state.positions(api, now),
        "watchlist": state.watchlist(api),
        "orders": state.orders(api, now.day),
        "queues": queues_view.overview(api.redis),
        "chart": chart.build(equity, now.session),
        "backtests": backtests.latest(api.settings.data_dir),
        "month": track_record(Journal.of(api.settings), now.day.replace(day=1), now.day, now.day),
        "endpoints": _endpoints(api.settings),
        "stale_after": STALE_HEARTBEAT_SECONDS,
        "heartbeat_ttl": HEARTBEAT_TTL_SECONDS,
    }


def _endpoints(settings: Settings) -> list[dict[str, Any]]:
    """The processes that send no heartbeat: this API (it answers) and the KIS endpoint (the
    simulator in sim mode; in a dry run the quote host and the local ledger), looked at as
    ``/readyz`` does, with a TCP connection."""
    kis_env = settings.kis_env
    rows = [{"service": "api", "where": request.host, "state": "serving this page", "up": True}]
    if settings.dry_run:
        hosts = [
            (f"KIS ({settings.dryrun_quote_host}, quotes)", settings.base_url),
            ("kis-sim (orders, the account)", settings.order_base_url),
        ]
    else:
        hosts = [("kis-sim" if kis_env == "sim" else f"KIS ({kis_env})", settings.base_url)]
    for service, url in hosts:
        kis = views.kis_check(url)
        rows.append(
            {
                "service": service,
                "where": urlsplit(url).netloc,
                "state": "reachable" if kis == "ok" else kis,
                "up": kis == "ok",
            }
        )
    return rows


def won(value: object) -> str:
    """``1234567`` -> ``1,234,567``; None -> an en dash."""
    if value is None:
        return "–"
    return f"{int(str(value).split('.')[0]):,}" if isinstance(value, str) else f"{value:,}"


def price(value: object) -> str:
    """A price in won that may have a fraction (a band's top, a threshold), written like
    :func:`won`: ``"210000.00"`` -> ``210,000``, ``"203700.97"`` -> ``203,700.97``."""
    if value is None:
        return "–"
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if number == number.to_integral_value():
        return f"{int(number):,}"
    return f"{number.quantize(Decimal('0.01')):,}"


def signed(value: object) -> str:
    """``1234`` -> ``+1,234``; None -> an en dash."""
    if value is None:
        return "–"
    number = float(str(value))
    text = f"{abs(number):,.2f}" if isinstance(value, str) else f"{abs(int(number)):,}"
    return ("+" if number > 0 else "−" if number < 0 else "") + text


def whole_won(value: object) -> int | None:
    """A won amount kept with decimals (an average: ``"135214.37"``) as whole won, rounded half
    up; None stays None (:func:`signed` shows it as an en dash)."""
    if value is None:
        return None
    return int(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def tone(value: object) -> str:
    """CSS class for a gain or a loss (KRX colours: red up, blue down)."""
    if value is None:
        return ""
    number = float(str(value))
    return "up" if number > 0 else "down" if number < 0 else ""


def kst(value: object) -> str:
    """An ISO time (UTC when it has no offset) or real Unix seconds (``*_epoch``) as
    ``YYYY-MM-DD HH:MM:SS`` in KST, like the rest of the page."""
    if not value:
        return "–"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{datetime.fromtimestamp(value, KST):%Y-%m-%d %H:%M:%S} KST"
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.utcoffset() is None:
        moment = moment.replace(tzinfo=UTC)
    return f"{moment.astimezone(KST):%Y-%m-%d %H:%M:%S} KST"


def install(app: OpenAPI) -> None:
    app.register_api(blueprint)
    app.add_template_filter(won)
    app.add_template_filter(price)
    app.add_template_filter(signed)
    app.add_template_filter(whole_won)
    app.add_template_filter(tone)
    app.add_template_filter(kst)
