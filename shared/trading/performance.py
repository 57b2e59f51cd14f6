"""The track record of the journal's closed trades, asked the way traders ask.

See docs/ARCHITECTURE.md, 'Track record'. Pure: realised P&L gross and net by day, ISO week and
month; the trade figures of :mod:`shared.trading.trade_figures` (win rate, profit factor,
average hold, ... the backtest's report computes them the same way); the average win and loss;
the largest fall of the account's value at the closes and of the realised P&L; each code's
result; the trade list as CSV. Every figure without a value is None, never 0.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from shared.trading import metrics
from shared.trading.journal import JournalEntry
from shared.trading.trade_figures import TradeFigures, trade_figures

CSV_COLUMNS = (
    "exit_session",
    "code",
    "name",
    "quantity",
    "entry_session",
    "entry_price",
    "exit_price",
    "sessions_held",
    "reason",
    "gross",
    "fees",
    "tax",
    "net",
    "order_id",
    "sell_ref",
    "source",
)


@dataclass(frozen=True)
class PeriodResult:
    """The trades sold in one day (``2026-03-03``), ISO week (``2026-W10``) or month
    (``2026-03``)."""

    period: str
    trades: int
    wins: int
    gross: int
    fees: int
    tax: int
    net: int


@dataclass(frozen=True)
class CodeResult:
    code: str
    name: str
    trades: int
    wins: int
    gross: int
    net: int
    average_hold: Decimal | None


@dataclass(frozen=True)
class Fall:
    """The largest fall of a curve from a running peak: in won, in percent of the peak (None
    for the realised P&L, which has no base to be a percentage of), from which day to which."""

    won: int
    pct: Decimal | None
    peak: date | None
    trough: date | None


@dataclass(frozen=True)
class Close:
    """The account's total value at a session's close."""

    session: date
    total_value: int


@dataclass(frozen=True)
class Performance:
    start: date | None
    end: date | None
    figures: TradeFigures
    average_win: Decimal | None
    """The winning trades' mean net, in won."""
    average_loss: Decimal | None
    """The losing trades' mean net, in won (negative)."""
    days: tuple[PeriodResult, ...]
    weeks: tuple[PeriodResult, ...]
    months: tuple[PeriodResult, ...]
    codes: tuple[CodeResult, ...]
    """Worst net first: the codes that cost money lead."""
    account_drawdown: Fall | None
    """Of the account's value at the closes in the range; None with fewer than two."""
    realized_drawdown: Fall
    """Of the realised net P&L summed day by day."""


def performance(
    entries: Sequence[JournalEntry],
    closes: Sequence[Close] = (),
    start: date | None = None,
    end: date | None = None,
) -> Performance:
    """The record of ``entries`` (already limited to the range) and the range's ``closes``."""
    nets = [e.net for e in entries]
    wins = [n for n in nets if n > 0]
    losses = [n for n in nets if n < 0]
    days = _periods(entries, lambda d: d.isoformat())
    return Performance(
        start=start,
        end=end,
        figures=trade_figures(entries),
        average_win=metrics.average(wins),
        average_loss=metrics.average(losses),
        days=days,
        weeks=_periods(entries, _iso_week),
        months=_periods(entries, lambda d: f"{d:%Y-%m}"),
        codes=_codes(entries),
        account_drawdown=_account_fall(closes),
        realized_drawdown=_realized_fall(days),
    )


def trades_csv(entries: Sequence[JournalEntry]) -> str:
    """The trades as CSV, one row each in the order sold, a header first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        data = entry.to_json()
        writer.writerow([data[c] for c in CSV_COLUMNS])
    return out.getvalue()


def _iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _periods(
    entries: Sequence[JournalEntry], label: Callable[[date], str]
) -> tuple[PeriodResult, ...]:
    grouped: dict[str, list[JournalEntry]] = {}
    for entry in sorted(entries, key=lambda e: e.exit_session):
        grouped.setdefault(label(entry.exit_session), []).append(entry)
    return tuple(
        PeriodResult(
            period=period,
            trades=len(mine),
            wins=sum(1 for e in mine if e.net > 0),
            gross=sum(e.gross for e in mine),
            fees=sum(e.fees for e in mine),
            tax=sum(e.tax for e in mine),
            net=sum(e.net for e in mine),
        )
        for period, mine in grouped.items()
    )


def _codes(entries: Sequence[JournalEntry]) -> tuple[CodeResult, ...]:
    grouped: dict[str, list[JournalEntry]] = {}
    for entry in entries:
        grouped.setdefault(entry.code, []).append(entry)
    results = [
        CodeResult(
            code=code,
            name=mine[-1].name,
            trades=len(mine),
            wins=sum(1 for e in mine if e.net > 0),
            gross=sum(e.gross for e in mine),
            net=sum(e.net for e in mine),
            average_hold=metrics.average([e.sessions_held for e in mine]),
        )
        for code, mine in grouped.items()
    ]
    return tuple(sorted(results, key=lambda r: (r.net, r.code)))


def _account_fall(closes: Sequence[Close]) -> Fall | None:
    if len(closes) < 2:
        return None
    values = [c.total_value for c in closes]
    fall = metrics.max_drawdown(values[0], values)
    if fall.trough is None:
        return Fall(0, fall.pct, None, None)
    peak = closes[0] if fall.peak is None else closes[fall.peak]
    return Fall(fall.won, fall.pct, peak.session, closes[fall.trough].session)


def _realized_fall(days: Sequence[PeriodResult]) -> Fall:
    """The realised P&L's deepest fall in won (from 0 before the first day)."""
    total, peak, peak_day = 0, 0, None
    worst = Fall(0, None, None, None)
    for day in days:
        total += day.net
        if total > peak:
            peak, peak_day = total, date.fromisoformat(day.period)
        elif peak - total > worst.won:
            worst = Fall(peak - total, None, peak_day, date.fromisoformat(day.period))
    return worst
