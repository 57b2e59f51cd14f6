"""The bars the chart TRs answer with, read from the market's price paths.

- The seeded walk has one price a minute: a minute's bar is that price for open, high, low and
  close, and its volume the walk's step in running volume. The session has a bar for every
  minute from the open to the close, the close's own minute (15:30) holding the closing price.
- A scripted path's minute bar holds the path's prices inside the minute: the price at its start
  and at each point before the next minute (the minute in progress: up to now).
- A replayed (code, day) has bars for exactly the minutes replayed (their prices from the path,
  their volumes as replayed), its replayed daily bar if one was given, and a halted day none.

A daily bar is the session's minute bars put together (the walk's directly, from its running
high, low and volume), or the replayed one. Only bars that have started by ``until`` exist.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from services.kis_sim.market import Market
from services.kis_sim.paths import ScriptedPath
from services.kis_sim.walk import DayPath
from shared.infra.clock import KST
from shared.trading.bars import Bar
from shared.trading.market_calendar import Session

MINUTE = timedelta(minutes=1)
INSIDE = MINUTE - timedelta(microseconds=1)
"""The last moment of a minute: a point at the next minute's start belongs to the next bar."""


def minute_bars(
    market: Market,
    code: str,
    session: Session,
    until: datetime,
    started_by: datetime | None = None,
) -> list[Bar]:
    """The minute bars of ``code`` in ``session`` as of ``until`` (now), in time order: those
    that started by ``started_by`` (default: ``until``), the minute in progress partial."""
    first_of_last = min(until, started_by or until)
    day = session.day
    key = (code, day)
    book = market.replayed
    if key in book.halted:
        return []
    path = market.path(code)
    volumes = book.minutes.get(key)
    if volumes is not None and path is not None:
        return [
            _path_bar(path, code, day, minute, volume, until)
            for minute, volume in volumes.items()
            if _start(day, minute) <= first_of_last
        ]
    if key in book.days:
        return []  # a daily bar replayed alone: no minute history, as beyond KIS's retention
    walk = market.walk_day(code, session)
    bars = []
    for m in range(len(walk.prices)):
        start = session.opens + m * MINUTE
        if start > first_of_last:
            break
        volume = _step(walk, m)
        minute = start.time()
        if path is not None:
            bars.append(_path_bar(path, code, day, minute, volume, until))
        else:
            price = walk.prices[m]
            bars.append(Bar(code, day, minute, price, price, price, price, volume))
    return bars


def daily_bar(market: Market, code: str, session: Session, until: datetime) -> Bar | None:
    """The daily bar of ``code`` for ``session`` as of ``until`` (None before its first trade).

    A halted day's bar has volume 0 and the previous close for its four prices (the simulator's
    assumption of KIS's row for a halted session; docs in its README).
    """
    key = (code, session.day)
    book = market.replayed
    if key in book.halted:
        if until < session.opens:
            return None
        previous = daily_bar(market, code, market.calendar.previous_session(session.day), until)
        base = previous.close if previous is not None else market.quote(code, session.opens).base
        return Bar(code, session.day, None, base, base, base, base, 0)
    if key in book.days and session.closes <= until:
        return book.days[key]
    if market.path(code) is None and key not in book.minutes:
        return _walk_daily(code, session, market.walk_day(code, session), until)
    bars = minute_bars(market, code, session, until)
    if not bars:
        return book.days.get(key) if session.closes <= until else None
    return Bar(
        code,
        session.day,
        None,
        bars[0].open,
        max(b.high for b in bars),
        min(b.low for b in bars),
        bars[-1].close,
        sum(b.volume for b in bars),
    )


def _walk_daily(code: str, session: Session, walk: DayPath, until: datetime) -> Bar | None:
    if until < session.opens:
        return None
    m = min(len(walk.prices) - 1, int((until - session.opens) // MINUTE))
    return Bar(
        code,
        session.day,
        None,
        walk.prices[0],
        walk.highs[m],
        walk.lows[m],
        walk.prices[m],
        walk.volumes[m],
    )


def _path_bar(
    path: ScriptedPath, code: str, day: date, minute: time, volume: int, until: datetime
) -> Bar:
    start = _start(day, minute)
    prices = [path.at(start)]
    prices.extend(path.at(moment) for moment in path.events(start, min(start + INSIDE, until)))
    return Bar(code, day, minute, prices[0], max(prices), min(prices), prices[-1], volume)


def _step(walk: DayPath, m: int) -> int:
    """Shares traded in minute ``m``: the running volume's step (0 in the first minute, as the
    quote's ``acml_vol`` reads 0 until the second)."""
    return walk.volumes[m] - walk.volumes[m - 1] if m else 0


def _start(day: date, minute: time) -> datetime:
    return datetime.combine(day, minute, KST)
