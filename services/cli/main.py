"""Operator commands. Each reads the same settings as the services and talks only to Redis."""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import redis
from rq import Worker
from rq.registry import FailedJobRegistry, StartedJobRegistry

from services.cli import history
from services.cli.performance_text import performance_lines
from shared.backtest.config import DEFAULT_CASH, DEFAULT_REPLAY_SPEED, DEFAULT_SLIPPAGE_TICKS
from shared.backtest.layout import REPORT_HTML, SWEEP_JSON
from shared.backtest.sweep_results import Metric
from shared.infra import credentials
from shared.infra.clock import KST, Clock, build_clock
from shared.infra.redis_client import connect
from shared.infra.redis_keys import Keys
from shared.infra.settings import DRY_RUN_LABEL, ConfigError, Settings, load_settings
from shared.kis.reachability import KisOutage, read_outage
from shared.messaging.queues import ALL_QUEUES, fetch_job, queue
from shared.state.control import HALTED, PAUSED, Controls, heartbeats, is_healthy, resume_all
from shared.state.flatten import flatten, flatten_refusal
from shared.state.journal import Journal
from shared.state.money_limits import LIMIT_NAMES, LimitError, LimitStore, MoneyLimits, usage
from shared.state.order_book import OrderBook
from shared.state.picks_store import store_picks, stored_picks
from shared.state.positions import PositionLedger
from shared.state.track_record import track_record
from shared.trading.bars import BarKind
from shared.trading.market_calendar import KrxCalendar
from shared.trading.performance import trades_csv
from shared.trading.picks import (
    PicksError,
    load_picks,
    parse_session_date,
    picks_date_problem,
)

if TYPE_CHECKING:
    from shared.backtest.command import BacktestRequest

# The backtest and its replay (numpy, DuckDB, the system's processes) are imported inside
# `kat backtest`: every other command, healthchecks included, starts without them.


class UsageError(Exception):
    """A command-line value is wrong; the message is one line naming the option."""


class Context:
    """What every command needs, built once."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.redis = connect(settings.redis_url)
        self.keys = Keys(settings.redis_prefix)
        self.clock: Clock = build_clock(settings, self.redis, follow_running=True)
        self.calendar = KrxCalendar.from_settings(settings)

    def session_date(self, given: str | None) -> date:
        """The date given, else today's session or the next one."""
        if given:
            try:
                return parse_session_date(given)
            except ValueError as e:
                raise UsageError(f"--date: {e}") from None
        return self.calendar.next_session(self.clock.now().date()).day


def cmd_picks_load(ctx: Context, args: argparse.Namespace) -> int:
    day = ctx.session_date(args.date)
    problem = picks_date_problem(day, ctx.clock.now().date(), ctx.calendar)
    if problem:
        print(f"picks refused, nothing stored: {problem}", file=sys.stderr)
        return 2
    if not ctx.calendar.is_session(day):
        print(f"{day} is not a KRX session: nothing would trade on it", file=sys.stderr)
        return 2
    picks = load_picks(Path(args.file))
    store_picks(ctx.redis, ctx.keys, day, picks)
    print(f"stored {len(picks)} picks for {day}")
    return 0


def cmd_picks_show(ctx: Context, args: argparse.Namespace) -> int:
    day = ctx.session_date(args.date)
    picks = stored_picks(ctx.redis, ctx.keys, day)
    if picks is None:
        print(f"no picks stored for {day}")
        return 0
    for p in picks:
        print(f"{p.code}  {p.target:>10,}  {p.name}")
    return 0


def cmd_orders(ctx: Context, args: argparse.Namespace) -> int:
    day = ctx.session_date(args.date) if args.date else ctx.clock.now().date()
    shown = [
        o
        for o in OrderBook(ctx.redis, ctx.keys, ctx.clock).of_day(day)
        if not args.status or o.status.value == args.status
    ]
    if not shown:
        print(f"no {args.status + ' ' if args.status else ''}orders on {day}")
    for o in shown:
        fill = f"{o.filled_quantity}@{o.average_fill_price}" if o.filled_quantity else "-"
        print(
            f"{o.id:<40} {o.status.value:<16} {o.intent.quantity:>6} {fill:>16} {o.error_message}"
        )
    return 0


def cmd_positions(ctx: Context, args: argparse.Namespace) -> int:
    held = PositionLedger(ctx.redis, ctx.keys, ctx.clock).all().values()
    if not held:
        print("no positions")
    for p in held:
        print(f"{p.code}  {p.quantity:>6}  {p.average_price:>12}  since {p.buy_session}  {p.name}")
    return 0


def flag_command(flag: str) -> Callable[[Context, argparse.Namespace], int]:
    def run(ctx: Context, args: argparse.Namespace) -> int:
        Controls(ctx.redis, ctx.keys).set(flag, by="cli", reason=args.reason or "")
        print(f"{flag}: set")
        return 0

    return run


def cmd_resume(ctx: Context, args: argparse.Namespace) -> int:
    """Clear pause, halt and every stop of new buys, saying which."""
    cleared = resume_all(ctx.redis, ctx.keys)
    if not cleared:
        print("nothing to clear: no pause, halt or stop of new buys")
        return 0
    print("resumed, cleared: " + "; ".join(cleared))
    return 0


def cmd_health(ctx: Context, args: argparse.Namespace) -> int:
    """Exit 0 when ``args.service`` beats on this host (a container's healthcheck)."""
    host = socket.gethostname()
    alive = [
        hb
        for hb in heartbeats(ctx.redis, ctx.keys)
        if hb["service"] == args.service and (args.any_host or str(hb["instance"]).startswith(host))
    ]
    for hb in alive:
        why = hb.get("problem") or hb.get("sender", "")
        state = "healthy" if is_healthy(hb) else f"UNHEALTHY ({why})"
        print(f"{hb['service']} {hb['instance']} {hb.get('role', '')} {hb['age']}s ago {state}")
    if not alive:
        print(f"no live heartbeat from {args.service}", file=sys.stderr)
        return 1
    return 0 if any(is_healthy(hb) for hb in alive) else 1


def cmd_queues(ctx: Context, args: argparse.Namespace) -> int:
    """Per queue: waiting, running and failed jobs; then the workers."""
    for name in ALL_QUEUES:
        q = queue(ctx.redis, name)
        started = StartedJobRegistry(queue=q).count
        failed = FailedJobRegistry(queue=q).count
        print(f"{name:<14} queued {q.count:>4}  started {started:>3}  failed {failed:>3}")
    keys = ctx.keys
    events, outbox, unconfirmed = (
        ctx.redis.llen(keys.notify_events()),
        ctx.redis.llen(keys.outbox()),
        ctx.redis.llen(keys.notify_unconfirmed()),
    )
    print(f"notify events  {events:>4}  outbox {outbox:>4}  unconfirmed {unconfirmed:>3}")
    workers = Worker.all(connection=ctx.redis)
    if not workers:
        print("workers: none")
    for worker in workers:
        job = worker.get_current_job_id() or "idle"
        print(f"worker {worker.name} on {','.join(worker.queue_names())}: {job}")
    return 0


def cmd_failed(ctx: Context, args: argparse.Namespace) -> int:
    """Failed jobs with the last line of their error."""
    shown = 0
    for name in ALL_QUEUES:
        registry = FailedJobRegistry(queue=queue(ctx.redis, name))
        for job_id in registry.get_job_ids():
            job = fetch_job(ctx.redis, job_id)
            # The error is in the job's latest Result (rq deprecated job.exc_info).
            result = job.latest_result() if job else None
            said = (result.exc_string or "") if result else ""
            error = said.strip().splitlines()[-1:] if job else ["(expired)"]
            print(f"{name:<14} {job_id:<40} {error[0] if error else ''}")
            shown += 1
    if not shown:
        print("no failed jobs")
    return 0


def cmd_requeue(ctx: Context, args: argparse.Namespace) -> int:
    """Put one failed job back on its queue (an order job still refuses to send twice)."""
    job = fetch_job(ctx.redis, args.job_id)
    if job is None or job.origin not in ALL_QUEUES:
        print(f"no failed job {args.job_id}", file=sys.stderr)
        return 1
    FailedJobRegistry(queue=queue(ctx.redis, job.origin)).requeue(args.job_id)
    print(f"requeued {args.job_id} on {job.origin}")
    return 0


def cmd_simulate_day(ctx: Context | None, args: argparse.Namespace) -> NoReturn:
    """Run the demo day (scripts/demo-day.sh): the whole system on a simulated clock."""
    script = Path(__file__).resolve().parents[2] / "scripts" / "demo-day.sh"
    os.execvp("bash", ["bash", str(script)])  # noqa: S606 - our own script, by absolute path


def cmd_limits(ctx: Context, args: argparse.Namespace) -> int:
    """Show the money limits and today's use of them; change those given (all or nothing)."""
    store = LimitStore(ctx.redis, ctx.keys, MoneyLimits.from_settings(ctx.settings))
    changes = {name: getattr(args, name) for name in LIMIT_NAMES if getattr(args, name) is not None}
    try:
        limits = store.change(changes) if changes else store.current()
    except LimitError as e:
        print(f"limits refused, nothing changed: {e}", file=sys.stderr)
        return 2
    if changes:
        print("changed: " + ", ".join(f"{k}={v}" for k, v in changes.items()))
    today = ctx.clock.now().date()
    for name, value in usage(ctx.redis, ctx.keys, today, limits).items():
        print(f"{name:<22} {'-' if value is None else value}")
    return 0


def cmd_flatten(ctx: Context, args: argparse.Namespace) -> int:
    """Stop entries and queue one market sell per position the system opened (once each)."""
    now = ctx.clock.now()
    today = now.date()
    refusal = flatten_refusal(now, ctx.calendar.session(today))
    if refusal is not None:
        print(f"flatten refused: {refusal}", file=sys.stderr)
        return 2
    done = flatten(ctx.redis, ctx.keys, ctx.clock, today, by=f"cli ({args.reason or 'no reason'})")
    print(f"entries stopped for {today}; {len(done)} position(s):")
    for d in done:
        print(f"{d.code}  {d.quantity:>6}  {d.outcome:<8} {d.order_id}")
    return 0


def cmd_status(ctx: Context, args: argparse.Namespace) -> int:
    store = LimitStore(ctx.redis, ctx.keys, MoneyLimits.from_settings(ctx.settings))
    today = ctx.clock.now().date()
    print(
        json.dumps(
            {
                "mode": ctx.settings.kis_env,
                "dry_run": ctx.settings.dry_run,
                **({"notice": dry_run_notice(ctx.settings)} if ctx.settings.dry_run else {}),
                "account": ctx.settings.masked_account,
                "clock": ctx.clock.now().isoformat(timespec="seconds"),
                "controls": _with_kst(Controls(ctx.redis, ctx.keys).active(), ctx.clock),
                "limits": usage(ctx.redis, ctx.keys, today, store.current()),
                "kis": kis_state(read_outage(ctx.redis, ctx.keys.kis_outage(ctx.settings.kis_env))),
            },
            ensure_ascii=False,
            indent=2,
        )
    )
    return 0


def dry_run_notice(settings: Settings) -> str:
    """What a dry run's commands say first (docs/ARCHITECTURE.md, 'Dry run')."""
    return (
        f"{DRY_RUN_LABEL}: live prices from the KIS {settings.dryrun_quote_host} host; orders and"
        " the account are simulated locally, no order reaches KIS"
    )


def kis_state(outage: KisOutage | None) -> str:
    """``answering``, or the outage in one line with since when (real time, KST)."""
    if outage is None:
        return "answering"
    since = datetime.fromtimestamp(outage.since_epoch, KST)
    return f"{outage.problem} (since {since:%Y-%m-%d %H:%M:%S} KST)"


def _with_kst(flags: dict[str, dict[str, object]], clock: Clock) -> dict[str, dict[str, object]]:
    """Each flag with ``set_kst``, when it was set on the system clock (like ``clock``), beside
    ``set_epoch`` in real Unix seconds (docs/ARCHITECTURE.md, 'Clock and calendar')."""
    shown = {}
    for name, flag in flags.items():
        epoch = flag.get("set_epoch")
        kst = None
        if isinstance(epoch, int | float) and not isinstance(epoch, bool):
            kst = clock.at_real(epoch).isoformat(timespec="seconds")
        shown[name] = {**flag, "set_kst": kst}
    return shown


def cmd_performance(ctx: Context, args: argparse.Namespace) -> int:
    """The track record of the journal's closed trades (docs/ARCHITECTURE.md, 'Track record')."""
    start = _range_date(args.start, "--from")
    end = _range_date(args.end, "--to")
    if start is not None and end is not None and start > end:
        raise UsageError(f"--from {start} is after --to {end}: the range is reversed")
    journal = Journal.of(ctx.settings)
    if args.csv:
        print(trades_csv(journal.read(start, end).entries), end="")
        return 0
    answer = track_record(journal, start, end, ctx.clock.now().date())
    if args.json:
        print(json.dumps(answer, ensure_ascii=False, indent=2))
        return 0
    for line in performance_lines(answer):
        print(line)
    return 0


def _range_date(given: str | None, option: str) -> date | None:
    if given is None:
        return None
    try:
        return parse_session_date(given)
    except ValueError as e:
        raise UsageError(f"{option}: {e}") from None


def cmd_backtest(args: argparse.Namespace) -> int:
    """Replay past sessions with the live rules (docs/ARCHITECTURE.md, 'Backtest'); no Redis."""
    from shared.backtest.command import run
    from shared.backtest.market_data import BacktestInputError
    from shared.backtest.summary import headline_lines

    request = _backtest_request(args)
    only_replay = [
        option
        for option, value in (
            ("--sample", args.sample),
            ("--sessions", args.sessions),
            ("--replay-speed", args.replay_speed),
            ("--parallel", args.parallel),
        )
        if value is not None
    ]
    if args.replay:
        if args.sweep is not None:
            print("kat backtest: --replay and --sweep do not go together", file=sys.stderr)
            return 2
        return _replay(args, request)
    if only_replay:
        print(f"kat backtest: {', '.join(only_replay)} only with --replay", file=sys.stderr)
        return 2
    if args.sweep is not None:
        return _sweep(args, request)
    only_sweep = [
        option
        for option, value in (("--metric", args.metric), ("--split", args.split))
        if value is not None
    ]
    if args.workers is not None:
        only_sweep.append("--workers")
    if only_sweep:
        print(f"kat backtest: {', '.join(only_sweep)} only with --sweep", file=sys.stderr)
        return 2
    try:
        result, report = run(request, load_settings(), datetime.now(KST))
    except BacktestInputError as e:
        print(f"kat backtest: {e}", file=sys.stderr)
        return 2
    for line in headline_lines(result):
        print(line)
    print(f"json: {report}")
    print(f"report: {report.with_name(REPORT_HTML)}")
    return 0


def _sweep(args: argparse.Namespace, request: BacktestRequest) -> int:
    """``kat backtest --sweep``: the grid on every core, ranked, with the overfitting warning."""
    from shared.backtest.command import SweepRequest, sweep
    from shared.backtest.market_data import BacktestInputError
    from shared.backtest.sweep import DEFAULT_SPLIT
    from shared.backtest.sweep_report import sweep_lines

    request_of_sweep = SweepRequest(
        request,
        tuple(args.sweep),
        metric=args.metric or Metric.RETURN.value,
        split=args.split or str(DEFAULT_SPLIT),
        workers=args.workers,
    )
    try:
        result, page, seconds = sweep(request_of_sweep, load_settings(), datetime.now(KST))
    except BacktestInputError as e:
        print(f"kat backtest: {e}", file=sys.stderr)
        return 2
    for line in sweep_lines(result, seconds):
        print(line)
    print(f"json: {page.with_name(SWEEP_JSON)}")
    print(f"report: {page}")
    return 0


def _replay(args: argparse.Namespace, request: BacktestRequest) -> int:
    """``kat backtest --replay``: sampled sessions by both drivers, their orders compared;
    exit status 1 when a session differs."""
    from shared.backtest.market_data import BacktestInputError
    from shared.replay.command import ReplayRequest, agreement_line, run_replay
    from shared.replay.compare import Agreement

    if args.sample is not None and args.sessions is not None:
        print("kat backtest: give --sample or --sessions, not both", file=sys.stderr)
        return 2
    replay_request = ReplayRequest(
        request,
        sample=args.sample,
        sessions=args.sessions,
        speed=DEFAULT_REPLAY_SPEED if args.replay_speed is None else args.replay_speed,
        parallel=1 if args.parallel is None else args.parallel,
    )

    def show(agreement: Agreement) -> None:
        print("\n".join(agreement.lines()), flush=True)

    try:
        agreements, folder = run_replay(replay_request, load_settings(), datetime.now(KST), show)
    except BacktestInputError as e:
        print(f"kat backtest: {e}", file=sys.stderr)
        return 2
    print(f"logs: {folder}")
    print(agreement_line(agreements))
    return 0 if all(a.agrees for a in agreements) else 1


def _backtest_request(args: argparse.Namespace) -> BacktestRequest:
    from shared.backtest.command import BacktestRequest

    return BacktestRequest(
        start=args.date_from,
        end=args.date_to,
        picks_dir=Path(args.picks_dir) if args.picks_dir else None,
        universe=args.universe,
        cash=args.cash,
        bars=args.bars,
        out=Path(args.out) if args.out else None,
        bars_csv=Path(args.bars_csv) if args.bars_csv else None,
        slippage_ticks=args.slippage_ticks,
    )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kat", description="Operate the KIS auto-trader.")
    sub = p.add_subparsers(dest="command", required=True)
    picks = sub.add_parser("picks", help="load or show the picks of a session").add_subparsers(
        dest="action", required=True
    )
    load = picks.add_parser("load", help="validate a picks file and store it for a session")
    load.add_argument("file")
    load.add_argument("--date", help="session date YYYY-MM-DD (default: today's or the next)")
    load.set_defaults(run=cmd_picks_load)
    show = picks.add_parser("show")
    show.add_argument("--date")
    show.set_defaults(run=cmd_picks_show)
    orders = sub.add_parser("orders", help="the orders of a day")
    orders.add_argument("--date")
    orders.add_argument("--status")
    orders.set_defaults(run=cmd_orders)
    sub.add_parser("positions", help="the position ledger").set_defaults(run=cmd_positions)
    perf = sub.add_parser(
        "performance", help="the track record: P&L by day, week, month; win rate, drawdown, codes"
    )
    perf.add_argument("--from", dest="start", metavar="YYYY-MM-DD", help="first sell session")
    perf.add_argument("--to", dest="end", metavar="YYYY-MM-DD", help="last sell session")
    shown = perf.add_mutually_exclusive_group()
    shown.add_argument("--csv", action="store_true", help="the trade list as CSV")
    shown.add_argument("--json", action="store_true", help="the answer of GET /performance")
    perf.set_defaults(run=cmd_performance)
    sub.add_parser("status", help="mode, clock and control flags").set_defaults(run=cmd_status)
    limits = sub.add_parser("limits", help="show or change the money limits (kept in Redis)")
    for name in LIMIT_NAMES:
        limits.add_argument(f"--{name.replace('_', '-')}", dest=name, metavar="N")
    limits.set_defaults(run=cmd_limits)
    flat = sub.add_parser("flatten", help="stop entries and sell every position, once each")
    flat.add_argument("--reason")
    flat.set_defaults(run=cmd_flatten)
    history.register(sub)
    sub.add_parser("queues", help="queue depths and workers").set_defaults(run=cmd_queues)
    sub.add_parser("failed", help="failed jobs and their errors").set_defaults(run=cmd_failed)
    requeue = sub.add_parser("requeue", help="put a failed job back on its queue")
    requeue.add_argument("job_id")
    requeue.set_defaults(run=cmd_requeue)
    sub.add_parser(
        "simulate-day", help="run a whole simulated trading day (sim mode, 60x clock)"
    ).set_defaults(run=cmd_simulate_day)
    health = sub.add_parser("health", help="exit 0 when a service beats (for healthchecks)")
    health.add_argument("service")
    health.add_argument("--any-host", action="store_true", help="count other hosts too")
    health.set_defaults(run=cmd_health)
    for name, flag, help_text in (
        ("pause", PAUSED, "stop sending new orders"),
        ("halt", HALTED, "stop and cancel unsent orders"),
    ):
        cmd = sub.add_parser(name, help=help_text)
        cmd.add_argument("--reason")
        cmd.set_defaults(run=flag_command(flag))
    sub.add_parser(
        "resume", help="clear pause, halt and every stop of new buys (flatten's too)"
    ).set_defaults(run=cmd_resume)
    test = sub.add_parser("backtest", help="replay past sessions with the live rules")
    test.add_argument("--from", dest="date_from", required=True, metavar="YYYY-MM-DD")
    test.add_argument("--to", dest="date_to", required=True, metavar="YYYY-MM-DD")
    source = test.add_mutually_exclusive_group(required=True)
    source.add_argument("--picks-dir", metavar="DIR", help="dated picks files, as PICKS_DIR")
    source.add_argument(
        "--universe", metavar="CODES", help="these codes every session, target = previous close"
    )
    test.add_argument("--cash", type=int, default=DEFAULT_CASH, help="won at the start")
    test.add_argument("--bars", choices=[k.value for k in BarKind], default=BarKind.MINUTE.value)
    test.add_argument("--out", metavar="DIR", help="default: DATA_DIR/backtests/<run id>")
    test.add_argument(
        "--bars-csv", metavar="FILE", help="bars from this CSV (import columns), not the store"
    )
    test.add_argument(
        "--slippage-ticks",
        type=int,
        default=DEFAULT_SLIPPAGE_TICKS,
        metavar="N",
        help="ticks a market sell fills under its price (default 1)",
    )
    test.add_argument(
        "--sweep",
        nargs="+",
        metavar="NAME=V1,V2",
        help="run every combination of these settings (TAKE_PROFIT_PCT=3,5,7 STOP_LOSS_PCT=-2,-3)"
        " on every core and rank them",
    )
    test.add_argument(
        "--metric",
        metavar="NAME",
        help=f"what a sweep ranks by, in-sample: {', '.join(m.value for m in Metric)}"
        " (default return)",
    )
    test.add_argument(
        "--split",
        metavar="FRACTION",
        help="a sweep's in-sample share of the sessions, the rest out-of-sample (default 0.7)",
    )
    test.add_argument("--workers", type=int, metavar="N", help="a sweep's processes (every core)")
    test.add_argument(
        "--replay",
        action="store_true",
        help="play sampled sessions with the whole system (Redis, simulator, services) on a fast"
        " clock and compare its orders with the fast driver's",
    )
    test.add_argument("--sample", type=int, metavar="N", help="replay N sessions (default 5)")
    test.add_argument(
        "--sessions", metavar="D1,D2", help="replay these sessions (YYYY-MM-DD, comma-separated)"
    )
    test.add_argument(
        "--replay-speed",
        type=float,
        metavar="X",
        help=f"the replay's clock speed (default {DEFAULT_REPLAY_SPEED:g})",
    )
    test.add_argument(
        "--parallel", type=int, metavar="N", help="sessions replayed at once (default 1)"
    )
    cred = sub.add_parser("credentials", help="store the app key and secret in the keyring")
    cred.add_argument("--env", choices=["paper", "real"], required=True)
    cred.add_argument(
        "--allow-plaintext",
        action="store_true",
        help="store them even in a keyring backend that is not the OS's own (a plain file)",
    )
    cred.set_defaults(run=None)
    return p


PIPE_CLOSED_EXIT = 141
"""Exit code when the reader of our output went away (``kat status | head``): 128 + SIGPIPE,
what a shell reports for a tool its pipe closed."""


def main(argv: Sequence[str] | None = None) -> int:
    """``kat``: run one command; a reader that closes the pipe early ends it quietly."""
    try:
        result = _run(argv)
        sys.stdout.flush()
    except BrokenPipeError:
        # Python would try to flush again at exit and print the error: point stdout elsewhere.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return PIPE_CLOSED_EXIT
    return result


def _run(argv: Sequence[str] | None) -> int:
    args = parser().parse_args(argv)
    if args.command == "credentials":
        plaintext = ["--allow-plaintext"] if args.allow_plaintext else []
        return credentials.main(["store", "--env", args.env, *plaintext])
    if args.command == "simulate-day":
        cmd_simulate_day(None, args)
    if args.command == "backtest":
        try:
            return cmd_backtest(args)
        except ConfigError as e:
            print(f"configuration error: {e}", file=sys.stderr)
            return 2
    try:
        ctx = Context(load_settings())
        if ctx.settings.dry_run:
            # On stderr, so every command says it and none's output stops being what it was.
            print(dry_run_notice(ctx.settings), file=sys.stderr)
        result: int = args.run(ctx, args)
    except ConfigError as e:
        print(f"configuration error: {e}", file=sys.stderr)
        return 2
    except PicksError as e:
        print(f"picks refused, nothing stored:\n{e}", file=sys.stderr)
        return 2
    except UsageError as e:
        print(f"kat: {e}", file=sys.stderr)
        return 2
    except redis.RedisError as e:
        print(f"Redis unavailable: {e}", file=sys.stderr)
        return 1
    return result
