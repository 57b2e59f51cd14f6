"""What the status API answers: a pydantic model per JSON body, the one place a shape is written.

The views build every JSON answer through these models (:func:`answer`), and flask-openapi3 reads
the same models to write the OpenAPI document (services/api/openapi.py), so the two cannot
drift. The models are strict and forbid unknown fields: an answer that does not fit its model is
a bug, and fails in the tests instead of reaching a client unannounced. Errors have their model
beside the handlers that answer them (services/api/errors.py, ``Error``). See
docs/ARCHITECTURE.md, 'Status API'.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from flask import Response, jsonify
from pydantic import BaseModel, ConfigDict, Field, Strict
from pydantic.json_schema import SkipJsonSchema

from services.api.params import DATE_PATTERN
from shared.state.money_limits import (
    DAILY_LOSS_LIMIT_KRW,
    MAX_OPEN_POSITIONS,
    MAX_ORDER_KRW,
    MAX_ORDERS_PER_DAY,
    UPPER_BOUNDS,
)
from shared.trading.orders import OrderStatus, Reason
from shared.trading.rules import Phase

DateText = Annotated[str, Field(pattern=DATE_PATTERN, json_schema_extra={"format": "date"})]
"""A date as the API writes it: ``YYYY-MM-DD``."""
DateTimeText = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
"""A moment in ISO 8601 with its offset."""
DecimalText = Annotated[str, Field(pattern=r"^-?[0-9]+(\.[0-9]+)?$", description="A decimal")]
"""Money and rates that are not whole won travel as decimal strings, never as floats."""
Won = int
"""A whole number of won."""
# Enums arrive as their values (the state readers build JSON-ready dicts): taken by value.
StatusValue = Annotated[OrderStatus, Strict(False)]
ReasonValue = Annotated[Reason, Strict(False)]
PhaseValue = Annotated[Phase, Strict(False)]
OrderKrwLimit = Annotated[int, Field(ge=1, le=UPPER_BOUNDS[MAX_ORDER_KRW])]
OrdersPerDayLimit = Annotated[int, Field(ge=1, le=UPPER_BOUNDS[MAX_ORDERS_PER_DAY])]
OpenPositionsLimit = Annotated[int, Field(ge=1, le=UPPER_BOUNDS[MAX_OPEN_POSITIONS])]
DailyLossLimit = Annotated[int, Field(ge=1, le=UPPER_BOUNDS[DAILY_LOSS_LIMIT_KRW])]


class Answer(BaseModel):
    """A JSON answer: strict types, no field the model does not name."""

    model_config = ConfigDict(strict=True, extra="forbid")


def answer(model: type[Answer], data: Any) -> Response:
    """The JSON answer of ``data`` validated as ``model``: the document's shape, nothing else.

    A field ``data`` leaves out stays absent (a control flag written without a ``reason``).
    """
    checked = model.model_validate(data)
    return jsonify(checked.model_dump(mode="json", exclude_unset=True))


# Health ----------------------------------------------------------------------------------------
class Health(Answer):
    status: Literal["ok"]


class Ready(Answer):
    status: Literal["ready"]
    checks: dict[str, str]


# Status ----------------------------------------------------------------------------------------
class Session(Answer):
    date: DateText
    opens: DateTimeText
    closes: DateTimeText


class Flag(Answer):
    """Who set a control flag, why and when (real unix time)."""

    model_config = ConfigDict(extra="allow")

    by: str | SkipJsonSchema[None] = None
    reason: str | SkipJsonSchema[None] = None
    set_epoch: float | SkipJsonSchema[None] = None


class Controls(Answer):
    paused: bool
    halted: bool
    flags: dict[str, Flag] = Field(description="Each flag set, with who set it, why and when.")


class Resumed(Controls):
    cleared: list[str] = Field(
        description="What resume cleared, one phrase each (a flag, or a session's stop of new "
        "buys with its reason); empty when nothing was set."
    )


class Limits(Answer):
    """The money limits in force and what today has used of them."""

    max_order_krw: OrderKrwLimit
    max_orders_per_day: OrdersPerDayLimit
    max_open_positions: OpenPositionsLimit
    daily_loss_limit_krw: DailyLossLimit
    orders_today: int = Field(description="Orders that took a slot today.")
    open_positions: int = Field(description="Positions in the ledger.")
    day_loss: Won | None = Field(description="Won lost since the session's first valuation.")
    entries_stopped: str | None = Field(description="Why, when entries are stopped today.")


class Service(Answer):
    service: str
    instance: str | None
    role: str | None
    age: float = Field(description="Seconds since the process last beat.")
    problem: str | None = Field(
        description="What keeps the service from its work, in one line (the webhook not there, "
        "...): it is unhealthy while this is set."
    )
    problem_since_epoch: float | None = Field(description="Since when (real Unix seconds).")


class Pnl(Answer):
    account_profit: Won | None
    unrealized: Won | None
    realized_today: Won = Field(description="Gross of fees and tax.")
    realized_today_net: Won = Field(description="After KIS's fees on both sides and the sell tax.")
    day_change: Won | None


OrderCounts = Annotated[dict[StatusValue, int], Field(description="Orders by each status.")]


class Status(Answer):
    mode: Literal["sim", "paper", "real", "dryrun"]
    dry_run: bool = Field(
        description=(
            "True in a dry run (KIS_ENV=dryrun): live prices, a simulated wallet; no order"
            " reaches KIS. Every answer also carries the header X-Trading-Mode: DRY RUN."
        )
    )
    account: str = Field(description="Masked: only the last digits show.")
    clock: DateTimeText
    clock_speed: float
    today: DateText
    session: Session | None
    next_session: Session
    phase: PhaseValue
    controls: Controls
    services: list[Service]
    orderable_cash: Won | None = Field(description="KIS's ord_psbl_cash at orderable_cash_kst.")
    orderable_cash_kst: str | None
    cash_d2: Won | None = Field(
        description="Cash once every trade has settled (D+2, prvs_rcdl_excc_amt)."
    )
    total_value: Won | None = Field(
        description=(
            "KIS's tot_evlu_amt at balance_kst: the cash at D+2 and the stocks at their last"
            " price, gross (before the fees and tax of selling them)."
        )
    )
    balance_kst: str | None
    pnl: Pnl
    orders_today: OrderCounts
    limits: Limits


# Picks and orders ------------------------------------------------------------------------------
class PickRow(Answer):
    code: str = Field(pattern="^[0-9]{6}$")
    name: str
    target: Won = Field(ge=1)


class Picks(Answer):
    date: DateText
    stored: bool
    picks: list[PickRow]
    problems: list[str]


class Order(Answer):
    """An order record: its intent's fields, then what became of it, flat."""

    id: str
    session: DateText
    code: str
    name: str
    side: Literal["buy", "sell"]
    reason: ReasonValue
    quantity: int
    price_seen: Won
    limit_price: Won | None = Field(description="The order's limit; null: a market order.")
    floor_price: Won | None = Field(description="An entry buy is not sent under this price.")
    attempt: int = Field(
        ge=1, description="1, or which try of a manual sell KIS refused before (`-2` in its id)."
    )
    status: StatusValue
    created_kst: str = Field(description="System clock (KST, ISO 8601).")
    touched_epoch: float = Field(description="Real Unix time of the last change.")
    version: int
    broker_order_no: str
    broker_branch_no: str
    broker_accepted_kst: str | None = Field(description="KIS's order time (KST, ISO 8601).")
    submitted_epoch: float = Field(description="Real Unix time the last POST began.")
    sent_quantity: int = Field(description="Shares the last POST asked for, when fewer.")
    sent_price: int = Field(
        description="The limit the last POST carried for a market sell sent in the closing "
        "call (the day's lower limit); 0: as decided."
    )
    filled_quantity: int
    average_fill_price: DecimalText
    applied_quantity: int
    attempts: int
    error_code: str
    error_message: str
    waiting_for: Literal["", "opening", "closing", "volatility_interruption"] = Field(
        description="The auction KIS holds the accepted order for, unfilled until it ends; "
        "empty for none."
    )
    history: list[Annotated[list[str], Field(min_length=2, max_length=2)]] = Field(
        description="[status, system-clock time (KST)] pairs, oldest first."
    )


class Orders(Answer):
    date: DateText
    status: StatusValue | None
    counts: OrderCounts
    orders: list[Order]


# Positions -------------------------------------------------------------------------------------
class Position(Answer):
    code: str
    name: str
    quantity: int
    average_price: DecimalText
    buy_session: DateText
    held_sessions: int
    opened_by: str
    price: Won | None
    value: Won | None
    profit: Won | None
    profit_rate: DecimalText | None


class Realized(Answer):
    order_id: str
    code: str
    name: str
    quantity: int
    buy_price: DecimalText
    sell_price: DecimalText
    profit: Won
    reason: str
    profit_rate: DecimalText
    buy_session: DateText | None


class Positions(Answer):
    positions: list[Position]
    prices_kst: str | None
    unrealized_profit: Won | None
    realized_today: list[Realized]
    realized_profit_today: Won = Field(description="Gross of fees and tax.")
    realized_profit_today_net: Won = Field(
        description="After KIS's fees on both sides and the sell tax."
    )


# Watchlist -------------------------------------------------------------------------------------
class WatchlistRow(Answer):
    code: str
    name: str
    kind: Literal["pick", "position"]
    target: Won | None = Field(description="A pick's buy band starts here (won).")
    band_top: DecimalText | None = Field(description="A pick buys strictly below this.")
    average_price: DecimalText | None
    take_profit_above: DecimalText | None = Field(description="A position sells above this.")
    stop_loss_below: DecimalText | None = Field(description="A position sells below this.")
    price: Won | None
    price_feed: Literal["stream", "polling", "balance"] | None
    distance_pct: float | None = Field(
        description="How far the price must move, in % (0: acts now)."
    )
    next_decision: str
    on_stream: bool
    price_age_seconds: float | None = Field(description="Real seconds.")


WATCHLIST_SHOWN = tuple(name for name in WatchlistRow.model_fields if name != "price_age_seconds")
"""What the API shows of a watchlist row as the scheduler wrote it (plus the price's age)."""


class Watchlist(Answer):
    written_kst: DateTimeText | None
    quote_source: Literal["stream", "polling"] | None
    stream_healthy: bool | None
    stream_capacity: int | None
    rows: list[WatchlistRow]


# Queues ----------------------------------------------------------------------------------------
class QueueCounts(Answer):
    name: str
    queued: int
    started: int
    scheduled: int
    deferred: int
    failed: int
    finished: int


class CurrentJob(Answer):
    id: str
    description: str | None
    func: str | None


class Worker(Answer):
    name: str
    hostname: str | None
    pid: int | None
    state: str
    queues: list[str]
    current_job: CurrentJob | None
    last_heartbeat_epoch: float | None
    successful_jobs: int
    failed_jobs: int


class Failure(Answer):
    id: str
    queue: str
    func: str | None
    description: str | None
    enqueued_epoch: float | None
    ended_epoch: float | None
    error: str | None = Field(description="The last line of the traceback.")


class Queues(Answer):
    queues: list[QueueCounts]
    workers: list[Worker]
    failures: list[Failure]


# Control ---------------------------------------------------------------------------------------
class FlattenedPosition(Answer):
    code: str
    quantity: int
    order_id: str
    outcome: Literal["queued", "already", "selling"]


class Flatten(Answer):
    session: DateText
    positions: list[FlattenedPosition]


# Backtests -------------------------------------------------------------------------------------
class BacktestLinks(Answer):
    page: str = Field(description="The page (self-contained HTML).")
    data: str = Field(description="Every figure and row, as JSON.")


class BacktestReport(Answer):
    """A ``kat backtest`` run: its range and headline figures (docs/ARCHITECTURE.md,
    'Backtest')."""

    id: str
    written_kst: DateTimeText
    start: DateText
    end: DateText
    sessions: int
    start_cash: Won
    final_value: Won
    return_pct: DecimalText
    max_drawdown_pct: DecimalText
    trades: int
    win_rate_pct: DecimalText | None = Field(description="null: no closed trade.")
    buy_and_hold_return_pct: DecimalText = Field(
        description="Buy-and-hold of the same picks over the same range."
    )
    problems: int = Field(description="Data problems named in the report.")
    links: BacktestLinks


class BacktestSweep(Answer):
    """A ``kat backtest --sweep``: its grid and its top-ranked point in-sample."""

    id: str
    written_kst: DateTimeText
    start: DateText
    end: DateText
    points: int
    metric: str = Field(description="What the grid is ranked by, in-sample.")
    split: DecimalText = Field(description="The in-sample share of the sessions.")
    best: dict[str, str] = Field(description="The top-ranked point's settings.")
    best_in_sample: str = Field(description="Its figure in-sample, as the page writes it.")
    best_out_of_sample: str = Field(description="Its figure out-of-sample.")
    links: BacktestLinks


class Backtests(Answer):
    """Every readable run under ``DATA_DIR/backtests/``, the latest first."""

    reports: list[BacktestReport]
    sweeps: list[BacktestSweep]


# Track record ----------------------------------------------------------------------------------
class PeriodResult(Answer):
    period: str = Field(description="A day (2026-03-03), an ISO week (2026-W10) or a month.")
    trades: int
    wins: int
    gross: Won
    fees: Won
    tax: Won
    net: Won


class CodeResult(Answer):
    code: str
    name: str
    trades: int
    wins: int
    gross: Won
    net: Won
    average_hold: DecimalText | None


class Fall(Answer):
    won: Won
    pct: DecimalText | None
    peak: DateText | None
    trough: DateText | None


class TradeFiguresAnswer(Answer):
    trades: int
    wins: int
    losses: int
    win_rate_pct: DecimalText | None
    gross_profit: Won
    gross_loss: Won
    profit_factor: DecimalText | None = Field(description="None when no trade lost.")
    expectancy: DecimalText | None
    expectancy_pct: DecimalText | None
    average_hold: DecimalText | None = Field(description="Sessions from buy to sell, on average.")
    average_win: DecimalText | None
    average_loss: DecimalText | None
    gross: Won
    fees: Won
    tax: Won
    net: Won
    exits: dict[str, int]


class CorruptLine(Answer):
    file: str
    line: int
    why: str


class Performance(Answer):
    """The journal's closed trades in the range (docs/ARCHITECTURE.md, 'Track record')."""

    start: DateText | None = Field(description="The range's first session (from); null: open.")
    end: DateText | None = Field(description="The range's last session (to); null: open.")
    today: DateText
    notes: list[str] = Field(description="Why the answer may be empty or partial, in words.")
    figures: TradeFiguresAnswer
    days: list[PeriodResult]
    weeks: list[PeriodResult]
    months: list[PeriodResult]
    codes: list[CodeResult] = Field(description="Worst net first.")
    account_drawdown: Fall | None = Field(
        description="Of the account's value at the closes in the range; null with fewer than two."
    )
    realized_drawdown: Fall
    corrupt_count: int
    corrupt: list[CorruptLine] = Field(description="Journal lines skipped (the first 100).")
