"""Bars from KIS into the bar store: only what the coverage table lacks, one day at a time.

docs/ARCHITECTURE.md, 'History'. The client is the shared one (:func:`shared.kis.client.
build_client`): its rate limiter and token are those of every other process using the same app
key, so a fetch next to a trading day slows down instead of tripping KIS's limit.

The order of work: daily bars of every code first (a few calls a code, and an unknown code is
found before the long part), then minute bars code by code, day by day. Each day is written in
its own transaction with its coverage row, so an interruption (Ctrl-C, a lost connection) loses at
most the day in hand and the same command resumes from there. Today's bars are stored
``partial`` while the session runs and fetched again by every fetch until it is over.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

from shared.history.store import Adjustment, BarStore, Status
from shared.infra.clock import Clock
from shared.kis.client import KisClient
from shared.kis.errors import KisAuthError, KisError, KisRejected, KisUnreachable
from shared.kis.models import DailyChartRow, MinuteChartRow
from shared.trading.bars import Bar, BarError, BarKind, bar_problem
from shared.trading.market_calendar import KrxCalendar, Session

log = logging.getLogger(__name__)

SOURCE = "kis"
"""The coverage table's source of fetched bars."""
CODE = re.compile(r"[0-9]{6}")
"""A KRX short code, as the picks files write them."""
MINUTE_RETENTION = timedelta(days=365)
"""How far back KIS keeps minute bars (OTA inquire_time_dailychartprice.py: 최대 1년 분봉 보관)."""
SETTLED_AFTER_CLOSE = timedelta(minutes=1)
"""Today's bars count as final this long after the close (the closing auction's bar, stamped at
the close, is published when the auction ends)."""


class FetchError(ValueError):
    """Bad input, or a code KIS does not list: one line for the user, exit 2."""


class Progress(Protocol):
    """What the fetch tells about its progress (a tqdm bar in the CLI)."""

    def update(self, n: int = 1) -> object: ...

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> object: ...

    def close(self) -> object: ...


@dataclass(frozen=True)
class FetchRequest:
    """``kat history fetch``'s question: these codes, these days, these kinds of bars."""

    codes: tuple[str, ...]
    start: date
    end: date
    kinds: tuple[BarKind, ...] = (BarKind.DAY, BarKind.MINUTE)


def request_problem(request: FetchRequest, today: date) -> str:
    """Why ``request`` cannot be fetched, or "" (pure; ``today`` by the configured clock)."""
    if not request.codes:
        return "--codes: name at least one stock code"
    for code in request.codes:
        if not CODE.fullmatch(code):
            return f"--codes: {code!r} is not a 6-digit KRX stock code"
    if request.start > request.end:
        return f"--from {request.start} is after --to {request.end}"
    if request.end > today:
        return f"--to {request.end} is in the future (today is {today})"
    return ""


@dataclass(frozen=True)
class Unit:
    """One piece of work, written in one transaction: a code's daily bars over a window, or a
    code's minute bars of one session."""

    kind: BarKind
    code: str
    start: date
    end: date

    def describe(self) -> str:
        """``005930 2026-03-03 minute`` or ``005930 daily 2026-01-02..2026-03-03``."""
        if self.kind is BarKind.MINUTE:
            return f"{self.code} {self.start} minute"
        return f"{self.code} daily {self.start}..{self.end}"


@dataclass
class FetchReport:
    """What a fetch did."""

    units: int = 0
    """Units planned."""
    written: int = 0
    no_trades: list[tuple[str, date, BarKind]] = field(default_factory=list)
    partial: list[tuple[str, date]] = field(default_factory=list)
    """Today's minute bars stored before the close (fetched again next time)."""
    failed: list[str] = field(default_factory=list)
    beyond_retention: tuple[date, date] | None = None
    """The first and last session of the range whose minute bars KIS no longer keeps (not
    asked for)."""


def plan(
    request: FetchRequest,
    calendar: KrxCalendar,
    now: datetime,
    covered: Callable[[BarKind], dict[str, set[date]]],
) -> tuple[list[Unit], tuple[date, date] | None]:
    """The units to fetch (daily first) and the sessions beyond KIS's minute retention, if any
    (pure).

    ``covered(kind)`` is the store's :meth:`BarStore.sessions_covered` over the request. Days
    not yet over are never covered for good, so today (while its session runs) is always planned.
    """
    today = now.date()
    sessions = [s for s in _sessions(calendar, request.start, request.end) if s.opens <= now]
    units: list[Unit] = []
    beyond: tuple[date, date] | None = None
    if BarKind.DAY in request.kinds:
        have = covered(BarKind.DAY)
        for code in request.codes:
            missing = [s.day for s in sessions if s.day not in have[code]]
            if missing:
                units.append(Unit(BarKind.DAY, code, missing[0], missing[-1]))
    if BarKind.MINUTE in request.kinds:
        oldest = today - MINUTE_RETENTION
        kept = [s for s in sessions if s.day >= oldest]
        old = [s.day for s in sessions if s.day < oldest]
        if old:
            beyond = (old[0], old[-1])
        have = covered(BarKind.MINUTE)
        for code in request.codes:
            units.extend(
                Unit(BarKind.MINUTE, code, s.day, s.day) for s in kept if s.day not in have[code]
            )
    return units, beyond


class Fetcher:
    """Runs a :class:`FetchRequest` against KIS into a store."""

    def __init__(
        self,
        client: KisClient,
        store: BarStore,
        calendar: KrxCalendar,
        clock: Clock,
        progress: Callable[[int], Progress] | None = None,
    ) -> None:
        self._client = client
        self._store = store
        self._calendar = calendar
        self._clock = clock
        self._progress = progress

    def run(self, request: FetchRequest) -> FetchReport:
        """Fetch what is missing. FetchError for bad input or an unknown code; KisAuthError
        when KIS refuses the credentials. Other failures are per unit, in the report."""
        now = self._clock.now()
        problem = request_problem(request, now.date())
        if problem:
            raise FetchError(problem)
        units, beyond = plan(
            request,
            self._calendar,
            now,
            lambda kind: self._store.sessions_covered(
                kind, request.codes, request.start, request.end
            ),
        )
        report = FetchReport(units=len(units), beyond_retention=beyond)
        bar = self._progress(len(units)) if self._progress else None
        try:
            for unit in units:
                if bar is not None:
                    bar.set_postfix_str(unit.describe())
                self._unit(unit, report)
                if bar is not None:
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
        return report

    def _unit(self, unit: Unit, report: FetchReport) -> None:
        try:
            if unit.kind is BarKind.DAY:
                self._daily(unit, report)
            else:
                self._minutes(unit, report)
            report.written += 1
        except KisRejected as e:
            if e.msg_cd == "UNKNOWN_CODE":
                raise FetchError(
                    f"--codes: KIS does not list {unit.code} (nothing fetched for it)"
                ) from None
            report.failed.append(f"{unit.describe()}: {e}")
        except (KisAuthError, KisUnreachable):
            # Every later unit would fail the same way: stop with one line (what is stored
            # stays; the same command fetches the rest).
            raise
        except (KisError, BarError) as e:
            report.failed.append(f"{unit.describe()}: {e}")

    # One unit ------------------------------------------------------------------------------------
    def _daily(self, unit: Unit, report: FetchReport) -> None:
        rows = self._client.daily_bars(unit.code, unit.start, unit.end)
        now = self._clock.now()
        bars: list[Bar] = []
        adjustments: dict[date, Adjustment] = {}
        empty: list[date] = []
        for row in rows:
            if row.volume == 0:
                # A halted session: no trade, so no bar. Today's may still trade: asked again.
                if self._over_day(row.day, now):
                    empty.append(row.day)
                continue
            problem = _row_problem(row)
            if problem:
                report.failed.append(f"{unit.code} {row.day} daily: KIS sent {problem}")
                continue
            bars.append(
                Bar(unit.code, row.day, None, row.open, row.high, row.low, row.close, row.volume)
            )
            adjustments[row.day] = Adjustment(row.lock_code, row.split_rate, row.modified)
        answered = {row.day for row in rows}
        over = [
            s.day
            for s in _sessions(self._calendar, unit.start, unit.end)
            if self._over(s, now) and s.day not in answered
        ]
        unfinished = [b.day for b in bars if not self._over_day(b.day, now)]
        stamp = now.timestamp()
        with self._store.transaction():
            self._store.write_daily_bars(
                unit.code,
                bars,
                SOURCE,
                adjustments=adjustments,
                partial=unfinished,
                fetched_epoch=stamp,
            )
            for day in sorted([*empty, *over]):
                self._store.mark(
                    unit.code, day, BarKind.DAY, Status.NO_TRADES, SOURCE, fetched_epoch=stamp
                )
                report.no_trades.append((unit.code, day, BarKind.DAY))

    def _minutes(self, unit: Unit, report: FetchReport) -> None:
        session = self._calendar.session(unit.start)
        if session is None:  # planned from the calendar, so this cannot happen
            raise AssertionError(f"{unit.start} is not a session")
        now = self._clock.now()
        first, close = session.opens.time(), session.closes.time()
        if unit.start < now.date():
            rows = self._client.minute_bars(unit.code, unit.start, first, close)
        else:
            last = min(now, session.closes).time().replace(microsecond=0)
            rows = self._client.today_minute_bars(unit.code, unit.start, first, last)
        bars = []
        for row in rows:
            problem = _row_problem(row)
            if problem:
                raise KisRejected(f"KIS sent for {row.minute:%H:%M} {problem}", msg_cd="BAD_BAR")
            bars.append(
                Bar(
                    unit.code,
                    row.day,
                    row.minute,
                    row.open,
                    row.high,
                    row.low,
                    row.close,
                    row.volume,
                )
            )
        status = Status.COMPLETE if self._over(session, now) else Status.PARTIAL
        self._store.write_minute_bars(
            unit.code, unit.start, bars, SOURCE, status=status, fetched_epoch=now.timestamp()
        )
        if status is Status.PARTIAL:
            report.partial.append((unit.code, unit.start))
        elif not bars:
            report.no_trades.append((unit.code, unit.start, BarKind.MINUTE))

    def _over(self, session: Session, now: datetime) -> bool:
        return now >= session.closes + SETTLED_AFTER_CLOSE

    def _over_day(self, day: date, now: datetime) -> bool:
        session = self._calendar.session(day)
        return session is None or self._over(session, now)


def _sessions(calendar: KrxCalendar, start: date, end: date) -> list[Session]:
    found = []
    day = start
    while day <= end:
        session = calendar.session(day)
        if session is not None:
            found.append(session)
        day += timedelta(days=1)
    return found


def _row_problem(row: DailyChartRow | MinuteChartRow) -> str:
    return bar_problem(row.open, row.high, row.low, row.close, row.volume)
