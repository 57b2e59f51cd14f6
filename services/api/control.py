"""Control endpoints (pause, resume, halt, picks upload, money limits, flatten) behind
``STATUS_API_TOKEN``."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any

from flask import Response, request
from flask_openapi3 import APIBlueprint
from flask_openapi3.types import ResponseDict

from services.api import answers, state
from services.api.answers import answer
from services.api.context import ctx
from services.api.errors import ApiError
from services.api.inputs import ControlNote, LimitsChange, PicksPath, PicksUpload
from services.api.openapi import (
    BAD_REQUEST,
    BEARER,
    CONTROL_ERRORS,
    CONTROL_TAG,
    NOT_JSON,
    TOO_LARGE,
    body,
    error,
)
from shared.state.control import HALTED, PAUSED, Controls, resume_all
from shared.state.flatten import flatten, flatten_refusal
from shared.state.money_limits import LimitStore, MoneyLimits
from shared.state.picks_store import store_picks
from shared.trading.picks import PICKS_SESSIONS_AHEAD, picks_date_problem

log = logging.getLogger(__name__)

BY = "api"
"""Who the control flags record as having set them."""

blueprint = APIBlueprint(
    "control",
    __name__,
    url_prefix="/control",
    abp_tags=[CONTROL_TAG],
    abp_security=BEARER,
    abp_responses=CONTROL_ERRORS,
)


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


@blueprint.after_request
def forget_kept_reads(response: Response) -> Response:
    """A control request changes what the read-only answers show: none is served again."""
    if request.method != "GET":
        ctx().read_cache.clear()
    return response


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
    data = _json_body(required=False)
    return "" if data is NO_BODY else ControlNote.model_validate(data).reason


def _flags_now() -> Response:
    return answer(answers.Controls, state.controls(ctx()))


NOTE = body(ControlNote, required=False)
NOTE_REFUSALS: ResponseDict = {400: BAD_REQUEST, 413: TOO_LARGE, 415: NOT_JSON}


@blueprint.post(
    "/pause",
    summary="Stop sending new orders",
    responses={200: answers.Controls, **NOTE_REFUSALS},
    openapi_extensions=NOTE,
)
def pause() -> Response:
    reason = _reason()
    Controls(ctx().redis, ctx().keys).set(PAUSED, by=BY, reason=reason)
    log.info("paused through the API (%s)", reason or "no reason given")
    return _flags_now()


@blueprint.post(
    "/halt",
    summary="Stop, and cancel every order not yet sent",
    responses={200: answers.Controls, **NOTE_REFUSALS},
    openapi_extensions=NOTE,
)
def halt() -> Response:
    reason = _reason()
    Controls(ctx().redis, ctx().keys).set(HALTED, by=BY, reason=reason)
    log.warning("halted through the API (%s)", reason or "no reason given")
    return _flags_now()


@blueprint.post(
    "/resume",
    summary="Clear pause, halt and every stop of new buys (flatten's too), saying which",
    responses={200: answers.Resumed},
)
def resume() -> Response:
    api = ctx()
    cleared = resume_all(api.redis, api.keys)
    log.info("resumed through the API; cleared: %s", "; ".join(cleared) or "nothing")
    return answer(answers.Resumed, {**state.controls(api), "cleared": cleared})


@blueprint.put(
    "/picks/<date>",
    summary="Store the picks of a session, replacing what was stored for it",
    responses={
        200: answers.Picks,
        400: BAD_REQUEST,
        409: error("The date is not a KRX session"),
        413: TOO_LARGE,
        415: NOT_JSON,
        422: error(
            "The picks were refused (`problems` lists each), or the date is before today or "
            f"more than {PICKS_SESSIONS_AHEAD} sessions ahead"
        ),
    },
    openapi_extensions=body(PicksUpload, required=True),
)
def upload_picks(path: PicksPath) -> Response:
    api = ctx()
    session_day = path.date
    problem = picks_date_problem(session_day, api.clock.now().date(), api.calendar)
    if problem:
        raise ApiError(422, f"picks refused, nothing stored: {problem}", problems=[problem])
    picks = PicksUpload.model_validate(_json_body(required=True)).picks()
    if not api.calendar.is_session(session_day):
        raise ApiError(409, f"{session_day} is not a KRX session: nothing would trade on it")
    store_picks(api.redis, api.keys, session_day, picks)
    log.info("stored %d picks for %s through the API", len(picks), session_day)
    return answer(answers.Picks, state.picks(api, session_day))


@blueprint.get(
    "/limits",
    summary="The money limits and what today has used of them",
    responses={200: answers.Limits},
)
def show_limits() -> Response:
    api = ctx()
    return answer(answers.Limits, state.limits(api, api.clock.now().date()))


@blueprint.put(
    "/limits",
    summary="Change money limits (kept in Redis); one bad value changes nothing",
    responses={
        200: answers.Limits,
        400: BAD_REQUEST,
        413: TOO_LARGE,
        415: NOT_JSON,
        422: error("A limit is not a whole number in its range (`problems` names it)"),
    },
    openapi_extensions=body(LimitsChange, required=True),
)
def change_limits() -> Response:
    api = ctx()
    wanted = LimitsChange.model_validate(_json_body(required=True)).changes()
    store = LimitStore(api.redis, api.keys, MoneyLimits.from_settings(api.settings))
    changed = store.change(wanted)
    log.warning("money limits changed through the API: %s", changed.as_dict())
    return answer(answers.Limits, state.limits(api, api.clock.now().date()))


@blueprint.post(
    "/flatten",
    summary="Stop entries and sell every position the system opened, once each",
    responses={
        200: answers.Flatten,
        **NOTE_REFUSALS,
        409: error("The market is not open (or today is not a KRX session): nothing done"),
    },
    openapi_extensions=NOTE,
)
def flatten_positions() -> Response:
    api = ctx()
    reason = _reason()
    now = api.clock.now()
    today = now.date()
    refusal = flatten_refusal(now, api.calendar.session(today))
    if refusal is not None:
        raise ApiError(409, f"flatten refused: {refusal}")
    done = flatten(api.redis, api.keys, api.clock, today, by=BY)
    log.warning("flatten through the API (%s): %d positions", reason or "no reason", len(done))
    return answer(
        answers.Flatten, {"session": today.isoformat(), "positions": [d.as_dict() for d in done]}
    )
