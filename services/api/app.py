"""The Flask app factory: read-only status endpoints, the status page, token-guarded control."""

from __future__ import annotations

import redis
from flask import Flask, Response, request
from flask_openapi3 import OpenAPI

from services.api import (
    backtests,
    control,
    docs,
    errors,
    history,
    metrics,
    openapi,
    page,
    performance,
    views,
)
from services.api.context import ApiContext, install
from services.api.errors import LENGTH_REQUIRED, ApiError
from shared.infra.logs import RedactingFilter
from shared.infra.settings import Settings, load_settings

MAX_BODY_BYTES = 1024 * 1024
"""Largest request body accepted, in bytes (a day's picks take a few hundred)."""
REDACTED_TYPES = ("application/json", "text/html", "text/plain")
"""Response types scrubbed of secrets before they leave (static files are not)."""


def create_app(settings: Settings | None = None, redis_client: redis.Redis | None = None) -> Flask:
    """The status API for ``settings`` (loaded from the environment when not given)."""
    settings = settings or load_settings()
    app = routed_app()
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    context = ApiContext.build(settings, redis_client)
    install(app, context)
    app.extensions[views.REGISTRY] = metrics.build_registry(context)
    app.before_request(_require_declared_length)
    _redact_responses(app, settings.secret_values())
    _label_responses(app, settings.mode_label)
    return app


MODE_HEADER = "X-Trading-Mode"
"""Every answer's header naming the mode: ``DRY RUN`` in a dry run, else sim, paper or real."""


def _label_responses(app: Flask, label: str) -> None:
    """Every answer, JSON, page, error or file, says which mode it comes from (a dry run's
    ``DRY RUN`` above all: docs/ARCHITECTURE.md, 'Dry run')."""

    @app.after_request
    def label_mode(response: Response) -> Response:
        response.headers[MODE_HEADER] = label
        return response


def routed_app() -> OpenAPI:
    """Every route, its models and the error handlers: enough for the OpenAPI document."""
    app = openapi.application(__name__)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.register_api(views.blueprint)
    app.register_api(backtests.blueprint)
    app.register_api(performance.blueprint)
    app.register_api(history.blueprint)
    app.register_api(control.blueprint)
    app.register_api(docs.blueprint)
    page.install(app)
    errors.register(app)
    return app


def _require_declared_length() -> None:
    """411 for a body without Content-Length, under a WSGI server that passes the chunking on.

    waitress does not (services/api/http_server.py refuses it there); this covers the app served
    through services.api.wsgi by any other server. See docs/ARCHITECTURE.md, 'Input limits'.
    """
    if request.headers.get("Transfer-Encoding") and request.content_length is None:
        raise ApiError(411, LENGTH_REQUIRED)


def _redact_responses(app: Flask, secrets: list[str]) -> None:
    """Replace any configured secret that would leave in a response body with ``***``.

    Nothing the API reads should hold one; this is the last line of defence, for instance
    against a broker error message that quotes an account number.
    """
    redactor = RedactingFilter(secrets)
    if not secrets:
        return

    @app.after_request
    def redact(response: Response) -> Response:
        if response.direct_passthrough or response.is_streamed:
            return response
        if response.mimetype not in REDACTED_TYPES:
            return response
        body = response.get_data(as_text=True)
        cleaned = redactor.redact(body)
        if cleaned != body:
            response.set_data(cleaned)
        return response
