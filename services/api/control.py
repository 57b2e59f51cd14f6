"""Control endpoints (pause, resume, halt, picks upload, money limits, flatten) behind
``STATUS_API_TOKEN``."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any

from flask import Blueprint, Response, jsonify, request

from services.api import state
from services.api.context import ctx
from services.api.errors import ApiError
from services.api.openapi import MAX_PICKS, REASON_MAX_LENGTH
from services.api.params import parse_date
from shared.state.control import HALTED, PAUSED, Controls
from shared.state.flatten import flatten
from shared.state.money_limits import LimitError, LimitStore, MoneyLimits
from shared.state.picks_store import store_picks
from shared.trading.picks import PicksError, parse_picks, picks_date_problem

log = logging.getLogger(__name__)

BY = "api"
"""Who the control flags record as having set them."""

blueprint = Blueprint("control", __name__, url_prefix="/control")


def token_matches(given: str, expected: str) -> bool:
    """Constant-time comparison: the time taken must not tell how much of a guess was right.

    Both sides are hashed first, so not even the token's length shows in the timing.
    """
    return hmac.compare_digest(_digest(given), _digest(expected))


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


@blueprint.before_request
def require_token() -> None:
    api = ctx()
    secret = api.settings.status_api_token
    if secret is None:
        raise ApiError(404, "control is disabled: set STATUS_API_TOKEN to enable it")
    client = request.remote_addr or "unknown"
    wait = api.auth_throttle.retry_after(client)
    if wait:
        # Refused before the token is looked at: while throttled, a right guess looks wrong.
        api.auth_throttle.failed(client)
        raise ApiError(
            429,
            f"too many wrong API tokens from this address; try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not token_matches(given.strip(), secret.get_secret_value()):
        report = api.auth_throttle.failed(client)
        if report:
            log.warning("%s", report)
        raise ApiError(
            401,
            "missing or wrong bearer token" if header else "Authorization: Bearer <token> needed",
            headers={"WWW-Authenticate": 'Bearer realm="kat"'},
        )


NO_BODY = object()
"""What :func:`_json_body` returns for an absent optional body (JSON ``null`` is a value)."""


def _json_body(required: bool) -> Any:
    """The parsed JSON body, or NO_BODY when optional and absent; 415 or 400 if it is not JSON."""
    raw = request.get_data(cache=True)
    if not raw:
        if required:
            raise ApiError(400, "a JSON body is required")
        return NO_BODY
    if request.mimetype != "application/json":
        raise ApiError(415, "send the body as application/json")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as e:
        raise ApiError(400, f"the body is not valid JSON: {str(e)[:120]}") from None


def _reason() -> str:
    body = _json_body(required=False)
    if body is NO_BODY:
        return ""
    if not isinstance(body, dict):
        raise ApiError(400, 'the body must be a JSON object like {"reason": "..."}')
    unknown = sorted(set(body) - {"reason"})
    if unknown:
        raise ApiError(400, f"unknown field(s): {', '.join(unknown)[:120]}")
    reason = body.get("reason", "")
    if not isinstance(reason, str) or len(reason) > REASON_MAX_LENGTH:
        raise ApiError(400, f"reason must be text of at most {REASON_MAX_LENGTH} characters")
    return reason


def _flags_now() -> Response:
    return jsonify(state.controls(ctx()))


@blueprint.post("/pause")
def pause() -> Response:
    reason = _reason()
    Controls(ctx().redis, ctx().keys).set(PAUSED, by=BY, reason=reason)
    log.info("paused through the API (%s)", reason or "no reason given")
    return _flags_now()


@blueprint.post("/halt")
def halt() -> Response:
    reason = _reason()
    Controls(ctx().redis, ctx().keys).set(HALTED, by=BY, reason=reason)
    log.warning("halted through the API (%s)", reason or "no reason given")
    return _flags_now()


@blueprint.post("/resume")
def resume() -> Response:
    controls = Controls(ctx().redis, ctx().keys)
    for flag in (PAUSED, HALTED):
        controls.clear(flag)
    log.info("resumed through the API")
    return _flags_now()


@blueprint.put("/picks/<day>")
def upload_picks(day: str) -> Response:
    api = ctx()
    session_day = parse_date(day)
    problem = picks_date_problem(session_day, api.clock.now().date(), api.calendar)
    if problem:
        raise ApiError(422, f"picks refused, nothing stored: {problem}", problems=[problem])
    data = _json_body(required=True)
    if isinstance(data, dict) and len(data) > MAX_PICKS:
        raise ApiError(422, f"at most {MAX_PICKS} picks per session", problems=[])
    try:
        picks = parse_picks(data, "picks")
    except PicksError as e:
        raise ApiError(422, "picks refused, nothing stored", problems=e.problems) from None
    if not api.calendar.is_session(session_day):
        raise ApiError(409, f"{session_day} is not a KRX session: nothing would trade on it")
    store_picks(api.redis, api.keys, session_day, picks)
    log.info("stored %d picks for %s through the API", len(picks), session_day)
    return jsonify(state.picks(api, session_day))


@blueprint.get("/limits")
def show_limits() -> Response:
    api = ctx()
    return jsonify(state.limits(api, api.clock.now().date()))


@blueprint.put("/limits")
def change_limits() -> Response:
    api = ctx()
    body = _json_body(required=True)
    if not isinstance(body, dict) or not body:
        raise ApiError(400, 'the body must be a JSON object like {"max_orders_per_day": 50}')
    store = LimitStore(api.redis, api.keys, MoneyLimits.from_settings(api.settings))
    try:
        changed = store.change(body)
    except LimitError as e:
        raise ApiError(422, "limits refused, nothing changed", problems=[str(e)[:300]]) from None
    log.warning("money limits changed through the API: %s", changed.as_dict())
    return jsonify(state.limits(api, api.clock.now().date()))


@blueprint.post("/flatten")
def flatten_positions() -> Response:
    api = ctx()
    reason = _reason()
    today = api.clock.now().date()
    if not api.calendar.is_session(today):
        raise ApiError(409, f"{today} is not a KRX session: nothing can be sold today")
    done = flatten(api.redis, api.keys, api.clock, today, by=BY)
    log.warning("flatten through the API (%s): %d positions", reason or "no reason", len(done))
    return jsonify({"session": today.isoformat(), "positions": [d.as_dict() for d in done]})
