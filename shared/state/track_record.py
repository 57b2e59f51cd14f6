"""The track record's answer: the journal read for a range, its figures, and notes in words.

See docs/ARCHITECTURE.md, 'Track record'. ``GET /performance`` serves it and
``kat performance --json`` prints it, so the two say the same.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from shared.state.journal import Journal, JournalRead
from shared.trading.performance import Fall, Performance, PeriodResult, performance

CORRUPT_SHOWN = 100
"""Most skipped journal lines listed in an answer (all are counted)."""


def read_record(
    journal: Journal, start: date | None, end: date | None
) -> tuple[Performance, JournalRead]:
    """The figures of the trades sold from ``start`` to ``end``, and what was read."""
    read = journal.read(start, end)
    closes = [
        c
        for c in journal.closes()
        if (start is None or c.session >= start) and (end is None or c.session <= end)
    ]
    return performance(read.entries, closes, start, end), read


def track_record(
    journal: Journal, start: date | None, end: date | None, today: date
) -> dict[str, Any]:
    """The answer's JSON."""
    record, read = read_record(journal, start, end)
    return as_json(record, read, today)


def notes(record: Performance, read: JournalRead, today: date) -> list[str]:
    """Why an answer is empty or partial, in words."""
    found = []
    if record.start is not None and record.start > today:
        found.append(f"the range starts after today ({today}): no trade can be in it yet")
    elif record.end is not None and record.end > today:
        found.append(f"the range ends after today ({today}): it is counted up to today")
    if not read.entries:
        span = f"from {record.start or 'the start'} to {record.end or 'today'}"
        found.append(f"no trade was closed {span}")
    if read.corrupt:
        found.append(
            f"{len(read.corrupt)} journal line(s) could not be read and were skipped (see corrupt)"
        )
    return found


def as_json(record: Performance, read: JournalRead, today: date) -> dict[str, Any]:
    """The answer of ``record``, read as ``read``, on ``today``."""
    f = record.figures
    return {
        "start": _day(record.start),
        "end": _day(record.end),
        "today": today.isoformat(),
        "notes": notes(record, read, today),
        "figures": {
            "trades": f.trades,
            "wins": f.wins,
            "losses": f.losses,
            "win_rate_pct": _decimal(f.win_rate_pct),
            "gross_profit": f.gross_profit,
            "gross_loss": f.gross_loss,
            "profit_factor": _decimal(f.profit_factor),
            "expectancy": _decimal(f.expectancy),
            "expectancy_pct": _decimal(f.expectancy_pct),
            "average_hold": _decimal(f.average_hold),
            "average_win": _decimal(record.average_win),
            "average_loss": _decimal(record.average_loss),
            "gross": f.gross,
            "fees": f.fees,
            "tax": f.tax,
            "net": f.net,
            "exits": f.exits,
        },
        "days": [_period(p) for p in record.days],
        "weeks": [_period(p) for p in record.weeks],
        "months": [_period(p) for p in record.months],
        "codes": [
            {
                "code": c.code,
                "name": c.name,
                "trades": c.trades,
                "wins": c.wins,
                "gross": c.gross,
                "net": c.net,
                "average_hold": _decimal(c.average_hold),
            }
            for c in record.codes
        ],
        "account_drawdown": _fall(record.account_drawdown),
        "realized_drawdown": _fall(record.realized_drawdown),
        "corrupt_count": len(read.corrupt),
        "corrupt": [
            {"file": c.file, "line": c.line, "why": c.why} for c in read.corrupt[:CORRUPT_SHOWN]
        ],
    }


def _period(p: PeriodResult) -> dict[str, Any]:
    return {
        "period": p.period,
        "trades": p.trades,
        "wins": p.wins,
        "gross": p.gross,
        "fees": p.fees,
        "tax": p.tax,
        "net": p.net,
    }


def _fall(fall: Fall | None) -> dict[str, Any] | None:
    if fall is None:
        return None
    return {
        "won": fall.won,
        "pct": _decimal(fall.pct),
        "peak": _day(fall.peak),
        "trough": _day(fall.trough),
    }


def _day(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _decimal(value: object) -> str | None:
    return None if value is None else str(value)
