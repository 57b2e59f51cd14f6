"""What the status API takes: its query, path and body models, validated by the views.

flask-openapi3 validates the query and path models before a view runs (services/api/openapi.py)
and writes them into the OpenAPI document; the control views read a body themselves, then
validate it with its model here (services/api/control.py, ``_json_body``). Validators raise
:class:`ApiError` themselves (pydantic lets it through), so a refusal keeps its exact status and
message: 400 for a malformed parameter or body, 422 with ``problems`` for refused picks or limits.
See docs/ARCHITECTURE.md, 'Status API'.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, RootModel, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from services.api.answers import (
    DailyLossLimit,
    OpenPositionsLimit,
    OrderKrwLimit,
    OrdersPerDayLimit,
)
from services.api.errors import ApiError
from services.api.params import (
    BACKTEST_ID_PATTERN,
    DATE_PATTERN,
    parse_backtest_id,
    parse_date,
    parse_status,
)
from shared.state.money_limits import LimitError, validated
from shared.trading.orders import OrderStatus
from shared.trading.picks import Pick, PicksError, parse_picks

REASON_MAX_LENGTH = 200
"""Longest ``reason`` accepted with pause, halt and flatten."""
MAX_PICKS = 500
"""Most picks accepted in one upload (a day has a handful)."""


def _absent_by_default(schema: dict[str, Any]) -> None:
    """An optional query parameter is absent when not given, never ``null``: no default shown."""
    schema.pop("default", None)


def _optional_date(description: str) -> Any:
    """An optional ``YYYY-MM-DD`` query parameter."""

    def schema(found: dict[str, Any]) -> None:
        _absent_by_default(found)
        found["pattern"] = DATE_PATTERN

    return Field(None, description=description, json_schema_extra=schema)


def _date_schema(found: dict[str, Any]) -> None:
    _absent_by_default(found)
    found["pattern"] = DATE_PATTERN


class SessionDateQuery(BaseModel):
    """``?date=YYYY-MM-DD``: the session to show (default: the endpoint says which)."""

    model_config = ConfigDict(extra="ignore")

    date: dt.date | SkipJsonSchema[None] = _optional_date(
        "Session date (default: today on the system clock)."
    )

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, value: object) -> dt.date | None:
        return None if value is None else parse_date(str(value))


class PerformanceQuery(BaseModel):
    """``?from=YYYY-MM-DD&to=YYYY-MM-DD``: the sells' sessions to count, both included (default:
    the whole journal). A reversed range is a 400 naming both dates."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    start: dt.date | SkipJsonSchema[None] = Field(
        None,
        alias="from",
        description="First session of the range (default: the journal's first).",
        json_schema_extra=_date_schema,
    )
    end: dt.date | SkipJsonSchema[None] = Field(
        None,
        alias="to",
        description="Last session of the range (default: the journal's last).",
        json_schema_extra=_date_schema,
    )

    @field_validator("start", mode="before")
    @classmethod
    def _start(cls, value: object) -> dt.date | None:
        return None if value is None else parse_date(str(value), "from")

    @field_validator("end", mode="before")
    @classmethod
    def _end(cls, value: object) -> dt.date | None:
        return None if value is None else parse_date(str(value), "to")

    @model_validator(mode="after")
    def _ordered(self) -> PerformanceQuery:
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ApiError(400, f"from {self.start} is after to {self.end}: the range is reversed")
        return self


class HistoryQuery(PerformanceQuery):
    """``/history``'s range, and the trade list's filters (an empty value: no filter)."""

    code: str | SkipJsonSchema[None] = Field(
        None,
        description="Only this code's trades in the list (default: every code).",
        json_schema_extra=_absent_by_default,
        max_length=20,
    )
    reason: str | SkipJsonSchema[None] = Field(
        None,
        description="Only trades closed for this reason (take_profit, stop_loss, ...).",
        json_schema_extra=_absent_by_default,
        max_length=20,
    )


class PicksQuery(SessionDateQuery):
    """``?date=YYYY-MM-DD``: default today's session, or the next one."""

    date: dt.date | SkipJsonSchema[None] = _optional_date(
        "Session date (default: today's session or the next)."
    )


class OrdersQuery(SessionDateQuery):
    """``?date=YYYY-MM-DD&status=...``: a session's orders, optionally of one status."""

    status: OrderStatus | SkipJsonSchema[None] = Field(
        None,
        description="Only the orders of this status (default: all).",
        json_schema_extra=_absent_by_default,
    )

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, value: object) -> OrderStatus | None:
        return None if value is None else parse_status(str(value))


class OrderPath(BaseModel):
    """``/orders/{order_id}``."""

    # Longer ids are answered 404 by the view, like any id that is not there.
    order_id: str = Field(min_length=1, json_schema_extra={"maxLength": 100})


BacktestFile = Literal["report.html", "report.json", "sweep.html", "sweep.json"]
"""The files a backtest's directory may hold (docs/ARCHITECTURE.md, 'Backtest')."""


class BacktestPath(BaseModel):
    """``/backtests/{backtest_id}/{name}``: a run's directory and one of its files."""

    backtest_id: str = Field(
        json_schema_extra={"pattern": BACKTEST_ID_PATTERN, "maxLength": 100},
        description="The run's directory under DATA_DIR/backtests/ (as GET /backtests lists).",
    )
    name: BacktestFile

    @field_validator("backtest_id", mode="before")
    @classmethod
    def _id(cls, value: object) -> str:
        return parse_backtest_id(str(value))

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, value: object) -> str:
        files = get_args(BacktestFile)
        if value not in files:
            raise ApiError(
                404, f"a backtest has no file {str(value)[:40]!r} (one of {', '.join(files)})"
            )
        return str(value)


class PicksPath(BaseModel):
    """``/control/picks/{date}``."""

    date: dt.date = Field(json_schema_extra={"pattern": DATE_PATTERN})

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, value: object) -> dt.date:
        return parse_date(str(value))


class ControlNote(BaseModel):
    """The optional body of pause, halt and flatten: why (kept with the flag, and logged)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    reason: str = Field("", max_length=REASON_MAX_LENGTH)

    @model_validator(mode="before")
    @classmethod
    def _refuse(cls, data: object) -> object:
        if not isinstance(data, dict):
            raise ApiError(400, 'the body must be a JSON object like {"reason": "..."}')
        unknown = sorted(map(str, set(data) - set(cls.model_fields)))
        if unknown:
            raise ApiError(400, f"unknown field(s): {', '.join(unknown)[:120]}")
        reason = data.get("reason", "")
        if not isinstance(reason, str) or len(reason) > REASON_MAX_LENGTH:
            raise ApiError(400, f"reason must be text of at most {REASON_MAX_LENGTH} characters")
        return data


class LimitsChange(BaseModel):
    """The money limits to change; the others keep their values. One bad value changes nothing
    (422 naming it). Whole numbers; the same in a string of digits is taken too, as the CLI
    takes it (shared/state/money_limits.py, ``validated``)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})

    max_order_krw: OrderKrwLimit | SkipJsonSchema[None] = None
    max_orders_per_day: OrdersPerDayLimit | SkipJsonSchema[None] = None
    max_open_positions: OpenPositionsLimit | SkipJsonSchema[None] = None
    daily_loss_limit_krw: DailyLossLimit | SkipJsonSchema[None] = None

    @model_validator(mode="before")
    @classmethod
    def _refuse(cls, data: object) -> object:
        if not isinstance(data, dict) or not data:
            raise ApiError(400, 'the body must be a JSON object like {"max_orders_per_day": 50}')
        try:
            # The store's own check, in the body's order: the first bad value is the one named.
            return {name: validated(name, value) for name, value in data.items()}
        except LimitError as e:
            refused = [str(e)[:300]]
            raise ApiError(422, "limits refused, nothing changed", problems=refused) from None

    def changes(self) -> dict[str, object]:
        """Only the limits the body named."""
        return self.model_dump(exclude_unset=True)


class PicksUpload(RootModel[dict[str, tuple[str, int | str]]]):
    """The seed's select_dict shape, ``{code: [name, target]}``: a 6-digit code, the name, and the
    target price in whole won (``"180,000"`` as a spreadsheet writes it is taken too)."""

    model_config = ConfigDict(
        json_schema_extra={
            "maxProperties": MAX_PICKS,
            "example": {"005930": ["삼성전자", 70000], "000660": ["SK하이닉스", 180000]},
        }
    )

    @model_validator(mode="before")
    @classmethod
    def _refuse(cls, data: object) -> object:
        if isinstance(data, dict) and len(data) > MAX_PICKS:
            raise ApiError(422, f"at most {MAX_PICKS} picks per session", problems=[])
        try:
            picks = parse_picks(data, "picks")
        except PicksError as e:
            raise ApiError(422, "picks refused, nothing stored", problems=e.problems) from None
        return {p.code: (p.name, p.target) for p in picks}

    def picks(self) -> tuple[Pick, ...]:
        """The picks, sorted by code."""
        return tuple(Pick(code, name, int(target)) for code, (name, target) in self.root.items())
