"""``kat performance`` as text: the track record's answer in lines a terminal shows.

See docs/ARCHITECTURE.md, 'Track record'. The same answer as ``GET /performance`` (built by
shared/state/track_record.py), laid out: notes, the headline figures, months, weeks, days, codes
(worst first), and the journal lines skipped.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


def performance_lines(answer: Mapping[str, Any]) -> Iterator[str]:
    f = answer["figures"]
    span = f"{answer['start'] or 'the start'} to {answer['end'] or 'today'}"
    yield f"track record, sells from {span} (today {answer['today']})"
    for note in answer["notes"]:
        yield f"  note: {note}"
    yield (
        f"  trades {f['trades']} ({f['wins']} won, {f['losses']} lost), "
        f"win rate {_pct(f['win_rate_pct'])}, profit factor {_or_none(f['profit_factor'])}"
    )
    yield (
        f"  realised P&L {_won(f['gross'])} gross, fees {_won(f['fees'])}, "
        f"tax {_won(f['tax'])}, net {_won(f['net'])}"
    )
    yield (
        f"  average win {_won(f['average_win'])}, average loss {_won(f['average_loss'])}, "
        f"average hold {_or_none(f['average_hold'])} sessions"
    )
    account = answer["account_drawdown"]
    if account is not None:
        yield (
            f"  max drawdown of the account at the closes {_won(account['won'])} "
            f"({_pct(account['pct'])}, {account['peak']} to {account['trough']})"
        )
    realized = answer["realized_drawdown"]
    yield f"  max drawdown of the realised P&L {_won(realized['won'])}"
    for title, rows in (("month", "months"), ("week", "weeks"), ("day", "days")):
        if answer[rows]:
            yield f"{title:<10} {'trades':>6} {'wins':>5} {'gross':>14} {'net':>14}"
            for row in answer[rows]:
                yield (
                    f"{row['period']:<10} {row['trades']:>6} {row['wins']:>5} "
                    f"{row['gross']:>14,} {row['net']:>14,}"
                )
    if answer["codes"]:
        yield f"{'code':<8} {'trades':>6} {'wins':>5} {'net':>14}  name (worst first)"
        for row in answer["codes"]:
            yield (
                f"{row['code']:<8} {row['trades']:>6} {row['wins']:>5} {row['net']:>14,}  "
                f"{row['name']}"
            )
    if answer["corrupt_count"]:
        yield f"{answer['corrupt_count']} journal line(s) skipped:"
        for line in answer["corrupt"]:
            yield f"  {line['file']} line {line['line']}: {line['why']}"


def _won(value: object) -> str:
    if value is None:
        return "none"
    number = float(str(value))
    return f"{number:+,.0f} won"


def _pct(value: object) -> str:
    return "none" if value is None else f"{value} %"


def _or_none(value: object) -> str:
    return "none" if value is None else str(value)
