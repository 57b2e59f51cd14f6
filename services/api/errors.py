"""Every error as JSON ``{"error": ...}`` (the :class:`Error` model) with its status; unexpected
ones logged, not shown."""

from __future__ import annotations

import logging
from typing import Any

import redis
from flask import Flask, Response, current_app, jsonify
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Response as WerkzeugResponse

log = logging.getLogger(__name__)

LENGTH_REQUIRED = "send the body with a Content-Length header (chunked bodies are refused)"
"""The 411 answer's message, from waitress's parser or from the app."""


class Error(BaseModel):
    """Every refusal and failure: ``{"error": ...}``, with ``problems`` or ``checks`` when known."""

    model_config = ConfigDict(strict=True, extra="forbid")

    error: str
    problems: list[str] | SkipJsonSchema[None] = Field(
        None, description="Each problem found, when the request was refused as a whole."
    )
    checks: dict[str, str] | SkipJsonSchema[None] = Field(
        None, description="What was checked and its result ('ok' or why not)."
    )


class ApiError(Exception):
    """A request the API refuses: ``status`` (4xx) and a message, plus any JSON-safe details."""

    def __init__(
        self,
        status: int,
        message: str,
        headers: dict[str, str] | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.details = details


def error_body(message: str, **details: Any) -> dict[str, Any]:
    """The JSON of an :class:`Error`: the fields given, nothing else."""
    return Error.model_validate({"error": message, **details}).model_dump(exclude_unset=True)


def json_error(status: int, message: str, **details: Any) -> Response:
    response = jsonify(error_body(message, **details))
    response.status_code = status
    return response


def register(app: Flask) -> None:
    """Install the handlers that turn every failure into a JSON answer."""

    @app.errorhandler(ApiError)
    def api_error(error: ApiError) -> Response:
        response = json_error(error.status, error.message, **error.details)
        response.headers.update(error.headers)
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> WerkzeugResponse:
        # Keep werkzeug's headers (Allow on a 405, for instance); only the body becomes JSON.
        response = error.get_response()
        message = error.description or error.name
        if isinstance(error, RequestEntityTooLarge):
            limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
            message = f"the body is larger than the {limit:,} bytes accepted"
        response.set_data(jsonify(error_body(message)).get_data())
        response.content_type = "application/json"
        return response

    @app.errorhandler(redis.RedisError)
    def redis_error(error: redis.RedisError) -> Response:
        log.warning("Redis unavailable: %s", error)
        response = json_error(503, "Redis is unavailable; try again shortly")
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        log.exception("unhandled error")
        # The exception text may carry internals; the log has it, the client gets a generic line.
        return json_error(500, "internal error (logged by the API)")
