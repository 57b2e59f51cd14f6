"""``kat history fetch|import|show``: KRX bars into the bar store and what it holds.

Thin: parse, call :mod:`shared.history`, print (docs/ARCHITECTURE.md, 'History'). Bad input gets
one line on stderr and exit 2; an interrupted fetch keeps what it stored (exit 130).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import redis

from shared.infra.clock import Clock
from shared.infra.settings import Settings
from shared.trading.bars import BarKind
from shared.trading.market_calendar import KrxCalendar

if TYPE_CHECKING:
    from shared.history.coverage import KindSummary
    from shared.history.fetch import FetchReport, Progress

# shared.history (DuckDB, numpy, tqdm) is imported inside the commands: every other `kat`
# command, healthchecks included, starts without it.

KINDS = {
    "both": (BarKind.DAY, BarKind.MINUTE),
    "daily": (BarKind.DAY,),
    "minute": (BarKind.MINUTE,),
}
INTERRUPTED = 130
"""Exit status after Ctrl-C, as a shell reports SIGINT."""


class HistoryContext(Protocol):
    """What these commands need of the CLI's context."""

    settings: Settings
    redis: redis.Redis
    clock: Clock
    calendar: KrxCalendar


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``history fetch|import|show`` to the ``kat`` parser."""
    history = sub.add_parser("history", help="fetch, import or show stored KRX bars")
    actions = history.add_subparsers(dest="action", required=True)
    fetch = actions.add_parser("fetch", help="fetch missing daily and minute bars from KIS")
    fetch.add_argument("--codes", required=True, nargs="+", help="6-digit codes (or a,b,c)")
    fetch.add_argument("--from", dest="start", required=True, help="first day YYYY-MM-DD")
    fetch.add_argument("--to", dest="end", help="last day YYYY-MM-DD (default: today)")
    fetch.add_argument("--kind", choices=sorted(KINDS), default="both")
    fetch.set_defaults(run=cmd_fetch)
    imported = actions.add_parser("import", help="store the bars of a CSV file (all or nothing)")
    imported.add_argument("file")
    imported.set_defaults(run=cmd_import)
    show = actions.add_parser("show", help="what is stored: codes, ranges, gaps, halted days")
    show.add_argument("--codes", nargs="+")
    show.set_defaults(run=cmd_show)


def cmd_fetch(ctx: HistoryContext, args: argparse.Namespace) -> int:
    from shared.history.fetch import Fetcher, FetchError, FetchRequest, request_problem
    from shared.history.store import BarStore, StoreError, interrupted, store_path
    from shared.kis.client import build_client
    from shared.kis.errors import KisError

    today = ctx.clock.now().date()
    try:
        request = FetchRequest(
            codes=_codes(args.codes),
            start=_day("--from", args.start),
            end=_day("--to", args.end) if args.end else today,
            kinds=KINDS[args.kind],
        )
    except ValueError as e:
        return _refuse(str(e))
    problem = request_problem(request, today)
    if problem:
        return _refuse(problem)
    path = store_path(ctx.settings.data_dir)
    try:
        with BarStore.open(path) as store:
            client = build_client(ctx.settings, ctx.redis, ctx.clock)
            fetcher = Fetcher(client, store, ctx.calendar, ctx.clock, progress=_bar)
            report = fetcher.run(request)
    except FetchError as e:
        return _refuse(str(e))
    except (StoreError, KisError) as e:
        print(f"history fetch failed: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return _interrupted()
    except Exception as e:
        # Ctrl-C while DuckDB read or began a transaction: DuckDB reports it as an error of its
        # own (shared.history.store.interrupted); it once ended the fetch in a traceback.
        if not interrupted(e):
            raise
        return _interrupted()
    _print_report(report, path)
    return 1 if report.failed else 0


def _interrupted() -> int:
    print(
        "interrupted: the days fetched so far are stored; "
        "run the same command again to fetch the rest",
        file=sys.stderr,
    )
    return INTERRUPTED


def cmd_import(ctx: HistoryContext, args: argparse.Namespace) -> int:
    from shared.history.csv_import import CsvError, import_csv, read_bars_csv
    from shared.history.store import BarStore, StoreError, store_path

    source = Path(args.file)
    try:
        bars = read_bars_csv(source, ctx.calendar)
    except OSError as e:
        return _refuse(f"cannot read {source}: {e.strerror}")
    except CsvError as e:
        print(str(e), file=sys.stderr)
        return 2
    path = store_path(ctx.settings.data_dir)
    try:
        with BarStore.open(path) as store:
            done = import_csv(store, bars)
    except StoreError as e:
        print(f"history import failed, nothing stored: {e}", file=sys.stderr)
        return 1
    print(
        f"imported {source.name} into {path}: {done.minute_bars} minute bars "
        f"({done.minute_days} code-days), {done.daily_bars} daily bars, "
        f"{done.no_trades} days without trades; {done.replaced} code-days replaced"
    )
    return 0


def cmd_show(ctx: HistoryContext, args: argparse.Namespace) -> int:
    from shared.history.coverage import summarize
    from shared.history.store import BarStore, StoreError, store_path

    path = store_path(ctx.settings.data_dir)
    try:
        codes = _codes(args.codes) if args.codes else None
    except ValueError as e:
        return _refuse(str(e))
    try:
        with BarStore.open(path, read_only=True) as store:
            rows = store.coverage(codes)
    except StoreError as e:
        print(str(e), file=sys.stderr)
        return 1
    summaries = summarize(rows, ctx.calendar)
    print(f"bar store {path}")
    if not summaries:
        print("nothing stored" + (" for those codes" if codes else ""))
    for summary in summaries:
        print(_summary_line(summary))
    return 0


# Helpers --------------------------------------------------------------------------------------
def _codes(values: list[str]) -> tuple[str, ...]:
    codes = [code.strip() for value in values for code in value.split(",") if code.strip()]
    return tuple(dict.fromkeys(codes))


def _day(option: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{option}: {text!r} is not a date YYYY-MM-DD") from None


def _refuse(message: str) -> int:
    print(f"kat history: {message}", file=sys.stderr)
    return 2


def _bar(total: int) -> Progress:
    from tqdm import tqdm

    # On stderr, and only on a terminal: piped output stays clean.
    bar: Progress = tqdm(total=total, file=sys.stderr, unit="step", desc="fetch", disable=None)
    return bar


def _print_report(report: FetchReport, path: Path) -> None:
    print(f"fetched {report.written} of {report.units} steps into {path}")
    if report.beyond_retention is not None:
        first, last = report.beyond_retention
        days = str(first) if first == last else f"{first}..{last}"
        print(
            f"minute bars of {days} are older than a year, which KIS no longer keeps: not asked for"
        )
    for code, day, kind in report.no_trades:
        label = "daily" if kind is BarKind.DAY else "minute"
        print(f"no trades: {code} {day} ({label}): halted, or KIS has nothing for it")
    for code, day in report.partial:
        print(f"partial: {code} {day} minute bars until the close; fetch again after it")
    for failure in report.failed:
        print(f"failed: {failure}", file=sys.stderr)


def _summary_line(s: KindSummary) -> str:
    label = "daily " if s.kind is BarKind.DAY else "minute"
    parts = [
        f"{s.code}  {label}  {s.first}..{s.last}",
        f"{s.complete} sessions" + (f" ({s.bars:,} bars)" if s.kind is BarKind.MINUTE else ""),
        "no trades: " + (", ".join(map(str, s.no_trades)) or "none"),
        "gaps: " + (", ".join(_run(*g) for g in s.gaps) or "none"),
    ]
    if s.partial:
        parts.append("partial: " + ", ".join(map(str, s.partial)))
    parts.append("from " + ", ".join(s.sources))
    return "  ".join(parts)


def _run(first: date, last: date, n: int) -> str:
    return str(first) if n == 1 else f"{first}..{last} ({n} sessions)"
