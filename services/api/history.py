"""The history page at ``/history``: the track record drawn on the server, no script.

See docs/ARCHITECTURE.md, 'Track record'. The account's value at each close as an SVG line (the
geometry of shared/infra/svg_chart.py, as the status page's chart), a calendar of each session's
net realised P&L coloured as KRX does (red up, blue down, deeper for more), the headline figures,
and the trade list filtered by code and exit reason through the page's own form (a GET: every
view has its address).
"""

from __future__ import annotations

import calendar as month_calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from flask import Response, render_template
from flask_openapi3 import APIBlueprint

from services.api.context import ctx
from services.api.inputs import HistoryQuery
from services.api.openapi import BAD_REQUEST, REDIS_DOWN, STATUS_TAG, text
from shared.infra.svg_chart import Plot, Tick, padded
from shared.state.journal import Journal
from shared.state.track_record import as_json, read_record
from shared.trading.journal import JournalEntry
from shared.trading.performance import Close

WIDTH, HEIGHT = 760, 240
LEFT, RIGHT, TOP, BOTTOM = 100, 20, 16, 34
MAX_MONTHS = 24
"""Most months the calendar shows (the latest)."""
MAX_ROWS = 500
"""Most trades the list shows (the latest; the CSV has them all)."""
STRENGTHS = 4
"""Shades of red and blue in the calendar: a day's net against the range's largest."""

blueprint = APIBlueprint("history", __name__, abp_tags=[STATUS_TAG])


@dataclass(frozen=True)
class ValueChart:
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    points: str
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    first: Close
    last: Close
    direction: str


@dataclass(frozen=True)
class Cell:
    day: date | None
    """None: a weekday cell of another month (padding)."""
    net: int | None
    """The session's net realised P&L; None: no trade closed that day."""
    tone: str
    strength: int


@dataclass(frozen=True)
class Month:
    label: str
    weeks: tuple[tuple[Cell, ...], ...]
    """Monday to Friday rows."""
    net: int


@blueprint.get(
    "/history",
    summary="The track record as a page: account value by close, a P&L calendar, the trades",
    responses={200: text("The page", "text/html"), 400: BAD_REQUEST, 503: REDIS_DOWN},
)
def history_page(query: HistoryQuery) -> Response:
    api = ctx()
    journal = Journal.of(api.settings)
    record, read = read_record(journal, query.start, query.end)
    closes = [
        c
        for c in journal.closes()
        if (query.start is None or c.session >= query.start)
        and (query.end is None or c.session <= query.end)
    ]
    shown = filtered(read.entries, query.code, query.reason)
    page = render_template(
        "history.html",
        mode=api.settings.kis_env,
        query=query,
        range_query=_range_query(query),
        answer=as_json(record, read, api.clock.now().date()),
        chart=value_chart(closes),
        months=calendar(record_days(read.entries)),
        trades=list(reversed(shown))[:MAX_ROWS],
        trade_count=len(shown),
        max_rows=MAX_ROWS,
        codes=sorted({e.code for e in read.entries}),
        reasons=sorted({e.reason for e in read.entries}),
    )
    return Response(page, status=200, mimetype="text/html")


def _range_query(query: HistoryQuery) -> str:
    given = {"from": query.start, "to": query.end}
    found = urlencode({k: v.isoformat() for k, v in given.items() if v is not None})
    return f"?{found}" if found else ""


def filtered(entries: Sequence[JournalEntry], code: str | None, reason: str | None) -> list[Any]:
    return [
        e for e in entries if (not code or e.code == code) and (not reason or e.reason == reason)
    ]


def record_days(entries: Sequence[JournalEntry]) -> dict[date, int]:
    days: dict[date, int] = {}
    for entry in entries:
        days[entry.exit_session] = days.get(entry.exit_session, 0) + entry.net
    return days


def value_chart(closes: Sequence[Close]) -> ValueChart | None:
    """The closes as a line over the calendar's days; None without a close."""
    if not closes:
        return None
    xs = [float(c.session.toordinal()) for c in closes]
    values = [c.total_value for c in closes]
    low_x, high_x = xs[0], xs[-1]
    if high_x == low_x:
        low_x, high_x = low_x - 1, high_x + 1
    plot = Plot.of(
        (WIDTH, HEIGHT),
        (LEFT, RIGHT, TOP, BOTTOM),
        (low_x, high_x),
        padded(min(values), max(values)),
    )
    months = [
        c for i, c in enumerate(closes) if i == 0 or c.session.month != closes[i - 1].session.month
    ]
    step = max(1, len(months) // 8)
    return ValueChart(
        width=plot.width,
        height=plot.height,
        left=plot.left,
        right=plot.right,
        top=plot.top,
        bottom=plot.bottom,
        points=plot.points(xs, values),
        x_ticks=tuple(
            plot.x_tick(float(c.session.toordinal()), f"{c.session:%Y-%m}") for c in months[::step]
        ),
        y_ticks=plot.y_ticks(lambda v: f"{v:,.0f}"),
        first=closes[0],
        last=closes[-1],
        direction="down" if values[-1] < values[0] else "up",
    )


def calendar(days: dict[date, int]) -> list[Month]:
    """Each month from the first day with a trade to the last (the latest ``MAX_MONTHS``),
    as weeks of Monday to Friday."""
    if not days:
        return []
    largest = max(abs(n) for n in days.values()) or 1
    first, last = min(days), max(days)
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(_month(year, month, days, largest))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months[-MAX_MONTHS:]


def _month(year: int, month: int, days: dict[date, int], largest: int) -> Month:
    start = date(year, month, 1)
    start -= timedelta(days=start.weekday())
    weeks = []
    _, length = month_calendar.monthrange(year, month)
    end = date(year, month, length)
    monday = start
    while monday <= end:
        week = []
        for offset in range(5):
            day = monday + timedelta(days=offset)
            if day.month != month:
                week.append(Cell(None, None, "", 0))
                continue
            net = days.get(day)
            week.append(Cell(day, net, _tone(net), _strength(net, largest)))
        weeks.append(tuple(week))
        monday += timedelta(days=7)
    net = sum(n for d, n in days.items() if (d.year, d.month) == (year, month))
    return Month(f"{year}-{month:02d}", tuple(weeks), net)


def _tone(net: int | None) -> str:
    if not net:
        return ""
    return "up" if net > 0 else "down"


def _strength(net: int | None, largest: int) -> int:
    if not net:
        return 0
    return max(1, min(STRENGTHS, -(-abs(net) * STRENGTHS // largest)))
