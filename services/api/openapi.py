"""The OpenAPI 3.0 document of the API, served at ``/openapi.json`` and checked by schemathesis."""

from __future__ import annotations

from typing import Any

from services.api.params import DATE_PATTERN, ORDER_ID_MAX_LENGTH, STATUSES
from shared.state.money_limits import LIMIT_NAMES, UPPER_BOUNDS
from shared.trading.orders import Reason
from shared.trading.picks import PICKS_SESSIONS_AHEAD
from shared.trading.rules import Phase

REASON_MAX_LENGTH = 200
"""Longest ``reason`` accepted with pause and halt."""
MAX_PICKS = 500
"""Most picks accepted in one upload (a day has a handful)."""

Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: Schema) -> Schema:
    if "$ref" in schema:  # OpenAPI 3.0 ignores siblings of $ref, so wrap it
        return {"allOf": [schema], "nullable": True}
    return {**schema, "nullable": True}


def _object(properties: dict[str, Schema], required: list[str] | None = None) -> Schema:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
    }


def _json(schema: Schema, description: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> Schema:
    return _json(_ref("Error"), description)


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
NUMBER = {"type": "number"}
BOOLEAN = {"type": "boolean"}
DECIMAL = {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$", "description": "A decimal"}
DATE = {"type": "string", "format": "date", "pattern": DATE_PATTERN}
DATE_TIME = {"type": "string", "format": "date-time"}

SCHEMAS: dict[str, Schema] = {
    "Error": {
        "type": "object",
        "properties": {
            "error": STRING,
            "problems": {"type": "array", "items": STRING},
            "checks": {"type": "object", "additionalProperties": STRING},
        },
        "required": ["error"],
    },
    "Health": _object({"status": {"type": "string", "enum": ["ok"]}}),
    "Ready": _object(
        {
            "status": {"type": "string", "enum": ["ready"]},
            "checks": {"type": "object", "additionalProperties": STRING},
        }
    ),
    "Session": _object({"date": DATE, "opens": DATE_TIME, "closes": DATE_TIME}),
    "Controls": _object(
        {
            "paused": BOOLEAN,
            "halted": BOOLEAN,
            "flags": {
                "type": "object",
                "description": "Each flag set, with who set it, why and when (real unix time).",
                "additionalProperties": _object(
                    {"by": STRING, "reason": STRING, "set_epoch": NUMBER}, required=[]
                ),
            },
        }
    ),
    "Limits": _object(
        {
            **{
                name: {**INTEGER, "minimum": 1, "maximum": UPPER_BOUNDS[name]}
                for name in LIMIT_NAMES
            },
            "orders_today": {**INTEGER, "description": "Orders that took a slot today."},
            "open_positions": {**INTEGER, "description": "Positions in the ledger."},
            "day_loss": _nullable(
                {**INTEGER, "description": "Won lost since the session's first valuation."}
            ),
            "entries_stopped": _nullable({**STRING, "description": "Why, when stopped today."}),
        }
    ),
    "LimitsChange": {
        "type": "object",
        "description": "The limits to change; the others keep their values.",
        "properties": {
            name: {**INTEGER, "minimum": 1, "maximum": UPPER_BOUNDS[name]} for name in LIMIT_NAMES
        },
        "additionalProperties": False,
        "minProperties": 1,
    },
    "Flatten": _object(
        {
            "session": DATE,
            "positions": {
                "type": "array",
                "items": _object(
                    {
                        "code": STRING,
                        "quantity": INTEGER,
                        "order_id": STRING,
                        "outcome": {"type": "string", "enum": ["queued", "already", "selling"]},
                    }
                ),
            },
        }
    ),
    "Service": _object(
        {
            "service": STRING,
            "instance": _nullable(STRING),
            "role": _nullable(STRING),
            "age": {**NUMBER, "description": "Seconds since the process last beat."},
        }
    ),
    "Status": _object(
        {
            "mode": {"type": "string", "enum": ["sim", "paper", "real"]},
            "account": {**STRING, "description": "Masked: only the last two digits show."},
            "clock": DATE_TIME,
            "clock_speed": NUMBER,
            "today": DATE,
            "session": _nullable(_ref("Session")),
            "next_session": _ref("Session"),
            "phase": {"type": "string", "enum": [p.value for p in Phase]},
            "controls": _ref("Controls"),
            "services": {"type": "array", "items": _ref("Service")},
            "orderable_cash": _nullable(
                {**INTEGER, "description": "KIS's ord_psbl_cash at orderable_cash_kst (won)."}
            ),
            "orderable_cash_kst": _nullable(STRING),
            "cash_d2": _nullable(
                {
                    **INTEGER,
                    "description": "Cash once every trade has settled (D+2, prvs_rcdl_excc_amt).",
                }
            ),
            "total_value": _nullable(INTEGER),
            "balance_kst": _nullable(STRING),
            "pnl": _object(
                {
                    "account_profit": _nullable(INTEGER),
                    "unrealized": _nullable(INTEGER),
                    "realized_today": {**INTEGER, "description": "Gross of fees and tax."},
                    "realized_today_net": {
                        **INTEGER,
                        "description": "After KIS's fees on both sides and the sell tax.",
                    },
                    "day_change": _nullable(INTEGER),
                }
            ),
            "limits": _ref("Limits"),
            "orders_today": {
                "type": "object",
                "properties": dict.fromkeys(STATUSES, INTEGER),
                "required": list(STATUSES),
            },
        }
    ),
    "Pick": _object(
        {
            "code": {"type": "string", "pattern": "^[0-9]{6}$"},
            "name": STRING,
            "target": {"type": "integer", "minimum": 1},
        }
    ),
    "Picks": _object(
        {
            "date": DATE,
            "stored": BOOLEAN,
            "picks": {"type": "array", "items": _ref("Pick")},
            "problems": {"type": "array", "items": STRING},
        }
    ),
    "PicksUpload": {
        "type": "object",
        "description": (
            "The seed's select_dict shape, {code: [name, target]}: a 6-digit code, the name, "
            "and the target price in whole won."
        ),
        "maxProperties": MAX_PICKS,
        "additionalProperties": {
            "type": "array",
            "minItems": 2,
            "maxItems": 2,
            "items": {"oneOf": [STRING, INTEGER]},
        },
        "example": {"005930": ["삼성전자", 70000], "000660": ["SK하이닉스", 180000]},
    },
    "Order": _object(
        {
            "id": STRING,
            "session": DATE,
            "code": STRING,
            "name": STRING,
            "side": {"type": "string", "enum": ["buy", "sell"]},
            "reason": {"type": "string", "enum": [r.value for r in Reason]},
            "quantity": INTEGER,
            "price_seen": INTEGER,
            "status": {"type": "string", "enum": list(STATUSES)},
            "created_kst": {**STRING, "description": "System clock (KST, ISO 8601)."},
            "touched_epoch": {**NUMBER, "description": "Real Unix time of the last change."},
            "version": INTEGER,
            "broker_order_no": STRING,
            "broker_branch_no": STRING,
            "broker_accepted_kst": _nullable(
                {**STRING, "description": "KIS's order time (KST, ISO 8601)."}
            ),
            "submitted_epoch": {**NUMBER, "description": "Real Unix time the last POST began."},
            "filled_quantity": INTEGER,
            "average_fill_price": DECIMAL,
            "applied_quantity": INTEGER,
            "attempts": INTEGER,
            "error_code": STRING,
            "error_message": STRING,
            "history": {
                "type": "array",
                "description": "[status, system-clock time (KST)] pairs, oldest first.",
                "items": {"type": "array", "items": STRING, "minItems": 2, "maxItems": 2},
            },
        }
    ),
    "Orders": _object(
        {
            "date": DATE,
            "status": _nullable({"type": "string", "enum": list(STATUSES)}),
            "counts": {"type": "object", "additionalProperties": INTEGER},
            "orders": {"type": "array", "items": _ref("Order")},
        }
    ),
    "Position": _object(
        {
            "code": STRING,
            "name": STRING,
            "quantity": INTEGER,
            "average_price": DECIMAL,
            "buy_session": DATE,
            "held_sessions": INTEGER,
            "opened_by": STRING,
            "price": _nullable(INTEGER),
            "value": _nullable(INTEGER),
            "profit": _nullable(INTEGER),
            "profit_rate": _nullable(DECIMAL),
        }
    ),
    "Realized": _object(
        {
            "order_id": STRING,
            "code": STRING,
            "name": STRING,
            "quantity": INTEGER,
            "buy_price": DECIMAL,
            "sell_price": DECIMAL,
            "profit": INTEGER,
            "profit_rate": DECIMAL,
            "reason": STRING,
        }
    ),
    "Positions": _object(
        {
            "positions": {"type": "array", "items": _ref("Position")},
            "prices_kst": _nullable(STRING),
            "unrealized_profit": _nullable(INTEGER),
            "realized_today": {"type": "array", "items": _ref("Realized")},
            "realized_profit_today": INTEGER,
        }
    ),
    "QueueCounts": _object(
        {
            "name": STRING,
            "queued": INTEGER,
            "started": INTEGER,
            "scheduled": INTEGER,
            "deferred": INTEGER,
            "failed": INTEGER,
            "finished": INTEGER,
        }
    ),
    "Worker": _object(
        {
            "name": STRING,
            "hostname": _nullable(STRING),
            "pid": _nullable(INTEGER),
            "state": STRING,
            "queues": {"type": "array", "items": STRING},
            "current_job": _nullable(
                _object(
                    {
                        "id": STRING,
                        "description": _nullable(STRING),
                        "func": _nullable(STRING),
                    }
                )
            ),
            "last_heartbeat_epoch": _nullable(NUMBER),
            "successful_jobs": INTEGER,
            "failed_jobs": INTEGER,
        }
    ),
    "Failure": _object(
        {
            "id": STRING,
            "queue": STRING,
            "func": _nullable(STRING),
            "description": _nullable(STRING),
            "enqueued_epoch": _nullable(NUMBER),
            "ended_epoch": _nullable(NUMBER),
            "error": _nullable({**STRING, "description": "The last line of the traceback."}),
        }
    ),
    "Queues": _object(
        {
            "queues": {"type": "array", "items": _ref("QueueCounts")},
            "workers": {"type": "array", "items": _ref("Worker")},
            "failures": {"type": "array", "items": _ref("Failure")},
        }
    ),
    "WatchlistRow": _object(
        {
            "code": STRING,
            "name": STRING,
            "kind": {"type": "string", "enum": ["pick", "position"]},
            "target": _nullable({**INTEGER, "description": "A pick's buy band starts here (won)"}),
            "band_top": _nullable({**DECIMAL, "description": "A pick buys strictly below this"}),
            "average_price": _nullable(DECIMAL),
            "take_profit_above": _nullable({**DECIMAL, "description": "A position sells above"}),
            "stop_loss_below": _nullable({**DECIMAL, "description": "A position sells below"}),
            "price": _nullable(INTEGER),
            "price_feed": _nullable({"type": "string", "enum": ["stream", "polling", "balance"]}),
            "price_age_seconds": _nullable({**NUMBER, "description": "Real seconds"}),
            "distance_pct": _nullable(
                {**NUMBER, "description": "How far the price must move, in % (0: acts now)"}
            ),
            "next_decision": STRING,
            "on_stream": BOOLEAN,
        }
    ),
    "Watchlist": _object(
        {
            "written_kst": _nullable(DATE_TIME),
            "quote_source": _nullable({"type": "string", "enum": ["stream", "polling"]}),
            "stream_healthy": _nullable(BOOLEAN),
            "stream_capacity": _nullable(INTEGER),
            "rows": {"type": "array", "items": _ref("WatchlistRow")},
        }
    ),
    "ControlNote": {
        "type": "object",
        "properties": {"reason": {"type": "string", "maxLength": REASON_MAX_LENGTH}},
        "additionalProperties": False,
    },
}

REDIS_DOWN = _error("Redis is unavailable")
BAD_REQUEST = _error("A parameter or the body is malformed")
DATE_QUERY = {
    "name": "date",
    "in": "query",
    "required": False,
    "description": "Session date (default: today on the system clock).",
    "schema": DATE,
}
CONTROL_ERRORS = {
    "401": {
        **_error("Missing or wrong bearer token"),
        "headers": {"WWW-Authenticate": {"schema": STRING}},
    },
    "404": _error("Control is disabled: STATUS_API_TOKEN is not set"),
    "411": _error("A body was sent without Content-Length (chunked)"),
    "429": {
        **_error("Too many wrong tokens from this address; wait Retry-After seconds"),
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
    },
    "503": REDIS_DOWN,
}
NOTE_BODY = {
    "required": False,
    "content": {"application/json": {"schema": _ref("ControlNote")}},
}


def _control(summary: str, body: Schema | None, extra: dict[str, Schema]) -> Schema:
    operation: Schema = {
        "summary": summary,
        "tags": ["control"],
        "security": [{"bearerAuth": []}],
        "responses": {
            "200": _json(_ref("Controls"), "The control flags now"),
            **CONTROL_ERRORS,
            **extra,
        },
    }
    if body is not None:
        operation["requestBody"] = body
    return operation


def _get(summary: str, responses: dict[str, Schema], **more: Any) -> Schema:
    return {"get": {"summary": summary, "tags": ["status"], "responses": responses, **more}}


PATHS: dict[str, Schema] = {
    "/healthz": _get(
        "The process is up (no dependency checked)",
        {"200": _json(_ref("Health"), "Alive")},
    ),
    "/readyz": _get(
        "Redis answers PING and the KIS host accepts a TCP connection",
        {
            "200": _json(_ref("Ready"), "Ready"),
            "503": _error("Not ready; `checks` says what is down"),
        },
    ),
    "/status": _get(
        "Mode, masked account, clock, session and phase, services, controls, cash and P&L",
        {"200": _json(_ref("Status"), "The system now"), "503": REDIS_DOWN},
    ),
    "/picks": _get(
        "The picks stored for a session",
        {"200": _json(_ref("Picks"), "The picks"), "400": BAD_REQUEST, "503": REDIS_DOWN},
        parameters=[
            {**DATE_QUERY, "description": "Session date (default: today's session or the next)."}
        ],
    ),
    "/orders": _get(
        "The orders of a session, optionally of one status",
        {"200": _json(_ref("Orders"), "The orders"), "400": BAD_REQUEST, "503": REDIS_DOWN},
        parameters=[
            DATE_QUERY,
            {
                "name": "status",
                "in": "query",
                "required": False,
                "schema": {"type": "string", "enum": list(STATUSES)},
            },
        ],
    ),
    "/orders/{order_id}": _get(
        "One order record",
        {
            "200": _json(_ref("Order"), "The order"),
            "404": _error("No such order"),
            "503": REDIS_DOWN,
        },
        parameters=[
            {
                "name": "order_id",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "minLength": 1, "maxLength": ORDER_ID_MAX_LENGTH},
            }
        ],
    ),
    "/positions": _get(
        "The position ledger valued at the last balance, and today's realised P&L",
        {"200": _json(_ref("Positions"), "The positions"), "503": REDIS_DOWN},
    ),
    "/watchlist": _get(
        "Every pick and position: band or thresholds, last price and its age, the distance to "
        "the next decision, on the stream or polled",
        {"200": _json(_ref("Watchlist"), "The watchlist"), "503": REDIS_DOWN},
    ),
    "/queues": _get(
        "RQ: job counts per queue, workers and what they run, latest failures",
        {"200": _json(_ref("Queues"), "The queues"), "503": REDIS_DOWN},
    ),
    "/metrics": _get(
        "Prometheus metrics",
        {
            "200": {
                "description": "Prometheus text exposition format 0.0.4",
                "content": {"text/plain": {"schema": STRING}},
            }
        },
    ),
    "/openapi.json": _get(
        "This document",
        {"200": _json({"type": "object"}, "The OpenAPI document")},
    ),
    "/": _get(
        "The status page (HTML)",
        {
            "200": {
                "description": "The page",
                "content": {"text/html": {"schema": STRING}},
            },
            "503": {
                "description": "Redis is unavailable",
                "content": {"text/html": {"schema": STRING}},
            },
        },
    ),
    "/control/pause": {
        "post": _control(
            "Stop sending new orders",
            NOTE_BODY,
            {"400": BAD_REQUEST, "415": _error("The body is not JSON")},
        )
    },
    "/control/resume": {"post": _control("Clear pause and halt", None, {})},
    "/control/halt": {
        "post": _control(
            "Stop, and cancel every order not yet sent",
            NOTE_BODY,
            {"400": BAD_REQUEST, "415": _error("The body is not JSON")},
        )
    },
    "/control/limits": {
        "get": {
            "summary": "The money limits and what today has used of them",
            "tags": ["control"],
            "security": [{"bearerAuth": []}],
            "responses": {"200": _json(_ref("Limits"), "The limits now"), **CONTROL_ERRORS},
        },
        "put": {
            "summary": "Change money limits (kept in Redis); one bad value changes nothing",
            "tags": ["control"],
            "security": [{"bearerAuth": []}],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("LimitsChange")}},
            },
            "responses": {
                "200": _json(_ref("Limits"), "The limits now"),
                "400": BAD_REQUEST,
                **CONTROL_ERRORS,
                "413": _error("The body is too large"),
                "415": _error("The body is not JSON"),
                "422": _error("A limit is not a whole number in its range"),
            },
        },
    },
    "/control/flatten": {
        "post": {
            "summary": "Stop entries and sell every position the system opened, once each",
            "tags": ["control"],
            "security": [{"bearerAuth": []}],
            "requestBody": NOTE_BODY,
            "responses": {
                "200": _json(_ref("Flatten"), "The sells queued (or found already queued)"),
                "400": BAD_REQUEST,
                **CONTROL_ERRORS,
                "409": _error("Today is not a KRX session"),
                "415": _error("The body is not JSON"),
            },
        }
    },
    "/control/picks/{date}": {
        "put": {
            "summary": "Store the picks of a session, replacing what was stored for it",
            "tags": ["control"],
            "security": [{"bearerAuth": []}],
            "parameters": [{"name": "date", "in": "path", "required": True, "schema": DATE}],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("PicksUpload")}},
            },
            "responses": {
                "200": _json(_ref("Picks"), "Stored"),
                "400": BAD_REQUEST,
                **CONTROL_ERRORS,
                "409": _error("The date is not a KRX session"),
                "413": _error("The body is too large"),
                "415": _error("The body is not JSON"),
                "422": _error(
                    "The picks were refused (`problems` lists each), or the date is before"
                    f" today or more than {PICKS_SESSIONS_AHEAD} sessions ahead"
                ),
            },
        }
    },
}


def document() -> dict[str, Any]:
    """The whole OpenAPI document."""
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "KIS auto-trader status API",
            "version": "1.0.0",
            "description": (
                "Read-only status of the trading system, plus control endpoints that need "
                "`Authorization: Bearer <STATUS_API_TOKEN>` and are disabled (404) without one. "
                'Every error is JSON: {"error": ...}.'
            ),
        },
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }
