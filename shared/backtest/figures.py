"""A run's figures, as the report shows them and ``report.json`` keeps them (``metrics``).

See docs/ARCHITECTURE.md, 'Backtest' (the report). Everything here is computed from the
:class:`BacktestResult` with the pure functions of :mod:`shared.backtest.metrics` and
:mod:`shared.backtest.buy_and_hold`; nothing is read or written.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

from shared.backtest.buy_and_hold import BuyAndHold, buy_and_hold
from shared.backtest.results import BacktestResult, ClosedTrade, OrderOutcome
from shared.messaging.typed_json import decode_object, encode_object
from shared.trading import metrics
from shared.trading.metrics import MonthReturn
from shared.trading.trade_figures import TradeFigures, trade_figures


@dataclass(frozen=True)
class CodeFigures:
    """One code over the run, beside buy-and-hold of the same code."""

    DERIVED_FIELDS: ClassVar[tuple[str, ...]] = ("pnl",)

    code: str
    name: str
    trades: int
    wins: int
    net: int
    """Its closed trades' net."""
    open_quantity: int
    open_pnl: int
    """What is still held at its last close, over its buying price."""
    average_hold: Decimal | None
    problems: int
    """Data problems of this code (any session of the run)."""
    buy_and_hold_pnl: int
    """The same code in buy-and-hold: sales after costs plus what is held at the last close,
    over the cost."""

    @property
    def pnl(self) -> int:
        """The rules' P&L of the code: closed trades' net plus the open position's."""
        return self.net + self.open_pnl


@dataclass(frozen=True)
class BuyAndHoldFigures:
    """Buy-and-hold of the same picks (docs/ARCHITECTURE.md, 'Backtest')."""

    final_value: int
    return_pct: Decimal
    max_drawdown_pct: Decimal
    buys: int
    sells: int
    costs: int
    values: tuple[int, ...]
    """The buy-and-hold account at each session's close."""


@dataclass(frozen=True)
class ReportFigures:
    """Everything the report shows besides the result's own rows."""

    sessions: int
    start_cash: int
    final_value: int
    return_pct: Decimal
    max_drawdown_pct: Decimal
    max_drawdown_won: int
    drawdown_peak: date | None
    """The session whose close the deepest fall started from (None: the starting cash)."""
    drawdown_trough: date | None
    exposure_pct: Decimal | None
    """Capital at risk: the mean share of the value held in stocks at the sessions' closes."""
    time_in_market_pct: Decimal | None
    """Share of the sessions on which a position was held at some moment."""
    trades: TradeFigures
    open_positions: int
    open_value: int
    months: tuple[MonthReturn, ...]
    codes: tuple[CodeFigures, ...]
    buy_and_hold: BuyAndHoldFigures
    problems: dict[str, int]
    """Data problems by kind."""
    orders: dict[str, int]
    """Orders by outcome (filled, cancelled, refused)."""

    def to_json(self) -> dict[str, Any]:
        return encode_object(self, "metrics")

    @classmethod
    def from_json(cls, data: Any) -> ReportFigures:
        found: ReportFigures = decode_object(data, cls, "metrics")
        return found


def figures(result: BacktestResult, hold: BuyAndHold | None = None) -> ReportFigures:
    """The report's figures of ``result``; ``hold``: its buy-and-hold when already worked out
    (:func:`buy_and_hold_of`; a sweep's points share it)."""
    start = result.config.cash
    days = [p.session for p in result.equity]
    values = [p.value for p in result.equity]
    drawdown = metrics.max_drawdown(start, values)
    held = [(t.entry_session, t.exit_session) for t in result.trades]
    if result.sessions:
        held += [(p.entry_session, result.sessions[-1]) for p in result.open_positions]
    hold = hold or buy_and_hold_of(result)
    return ReportFigures(
        sessions=len(result.sessions),
        start_cash=start,
        final_value=result.final_value,
        return_pct=metrics.return_pct(start, result.final_value),
        max_drawdown_pct=drawdown.pct,
        max_drawdown_won=drawdown.won,
        drawdown_peak=None if drawdown.peak is None else days[drawdown.peak],
        drawdown_trough=None if drawdown.trough is None else days[drawdown.trough],
        exposure_pct=metrics.exposure_pct([p.holdings for p in result.equity], values),
        time_in_market_pct=metrics.time_in_market_pct(result.sessions, held),
        trades=trade_figures(result.trades),
        open_positions=len(result.open_positions),
        open_value=sum(p.value for p in result.open_positions),
        months=tuple(metrics.monthly_returns(start, days, values)),
        codes=_codes(result, hold.by_code),
        buy_and_hold=BuyAndHoldFigures(
            final_value=hold.final_value,
            return_pct=hold.return_pct,
            max_drawdown_pct=hold.max_drawdown_pct,
            buys=hold.buys,
            sells=hold.sells,
            costs=hold.costs,
            values=hold.values,
        ),
        problems=dict(sorted(Counter(p.kind.value for p in result.problems).items())),
        orders={o.value: sum(1 for r in result.orders if r.status is o) for o in OrderOutcome},
    )


def buy_and_hold_of(result: BacktestResult) -> BuyAndHold:
    """Buy-and-hold of ``result``'s picks over its sessions, from its cash.

    It depends on the range, the cash, the picks, the prices, ``EXPIRY_SESSIONS`` and the
    costs, not on the other thresholds.
    """
    days = [p.session for p in result.equity]
    return buy_and_hold(
        result.config.cash,
        days,
        _session_picks(result, days),
        result.prices,
        result.config.thresholds.expiry_sessions,
        result.config.costs,
    )


def _session_picks(result: BacktestResult, days: list[date]) -> list[list[str]]:
    """Each session's picks as given: the plan's and those it dropped because they were held."""
    plans = {plan.session: plan for plan in result.plans}
    picks = []
    for day in days:
        plan = plans.get(day)
        picks.append([] if plan is None else [p.code for p in plan.picks] + [*plan.held_picks])
    return picks


def _codes(result: BacktestResult, buy_and_hold_pnl: dict[str, int]) -> tuple[CodeFigures, ...]:
    trades: dict[str, list[ClosedTrade]] = defaultdict(list)
    for trade in result.trades:
        trades[trade.code].append(trade)
    names = {p.code: p.name for plan in result.plans for p in plan.picks}
    names.update({t.code: t.name for t in result.trades})
    opened = {p.code: p for p in result.open_positions}
    problems = Counter(p.code for p in result.problems if p.code)
    codes = sorted(set(trades) | set(opened) | set(buy_and_hold_pnl))
    rows = []
    for code in codes:
        mine = trades.get(code, [])
        position = opened.get(code)
        rows.append(
            CodeFigures(
                code=code,
                name=names.get(code, code),
                trades=len(mine),
                wins=sum(1 for t in mine if t.net > 0),
                net=sum(t.net for t in mine),
                open_quantity=0 if position is None else position.quantity,
                open_pnl=0
                if position is None
                else position.value - position.entry_price * position.quantity,
                average_hold=metrics.average([t.sessions_held for t in mine]),
                problems=problems.get(code, 0),
                buy_and_hold_pnl=buy_and_hold_pnl.get(code, 0),
            )
        )
    return tuple(rows)
