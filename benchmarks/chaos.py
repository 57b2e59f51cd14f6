"""The chaos run (``make chaos``): simulated trading days with every service a real process, and
seeded chaos; one row per run, then ``runs N, duplicates D, lost L, unfinished U``.

    python -m benchmarks.chaos [--runs 20] [--seed 1] [--speed 600] [--outage-speed 120]

See docs/ARCHITECTURE.md, 'Chaos run'. Each run has its own redis-server (AOF on, a free port),
the KIS simulator, the executor, scheduler, notifier and API, and a fake Discord webhook in this
process. A supervisor thread restarts any service that exits, as compose's ``restart:
unless-stopped`` would (and counts the exits it did not cause). Chaos follows the run's plan
(benchmarks/chaos_plan.py): SIGKILLs, Redis restarts (seeds ending in 3: down for a minute, at a
slower clock), simulator faults and token expiry, a Discord outage and slow answers.

Counted per run, against the orders the trading rules give for the run's prices:
- ``dup``: orders KIS received beyond one per intent (code and side; cancel orders aside);
- ``lost``: intents KIS never received, or not fully filled;
- ``extra``: orders KIS received that no rule called for;
- notifications: ``n-lost`` (an expected message that never reached Discord, neither posted
  nor quoted: the plan, each expected order's fill, the daily summary), ``n-doubt`` (one whose
  answer Discord never gave: not posted again, a notice quoted it instead), ``n-dup`` (a message
  about an order, the plan or the summary that Discord took more than once);
- ``done``: the daily summary reached Discord.
Logs of every run stay in ``.run/chaos/<date-time>/<seed>-<run>/``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import redis
import requests

from benchmarks.chaos_plan import (
    CASH,
    CLOSE_DONE,
    START,
    Action,
    Day,
    make_day,
    smoke_actions,
)
from benchmarks.kis_rate import ROOT
from services.notifier.messages import is_notice
from services.notifier.texts import EN
from shared.infra.processes import SimulatedSystem, free_port
from shared.infra.redis_keys import Keys
from shared.infra.settings import SIM_ACCOUNT
from tests.notifier.fake_discord import FakeDiscord

DEFAULT_RUNS = 20
DEFAULT_SPEED = 600.0
"""Clock speed of a run: a clean day trades exactly at twice this (docs/benchmarks.md)."""
OUTAGE_SPEED = 120.0
"""Clock speed of a run with the minute-long Redis outage (a minute is then two hours)."""
OUTAGE_EVERY = 10
"""One run in this many has the minute-long Redis outage (the seeds ending in 3)."""
READY_SECONDS = 60.0
"""Real seconds the services have to beat; the clock is held at START until then."""
BEATING = ("scheduler", "executor", "notifier")
"""The services that say with a heartbeat that they are up (the API does not beat)."""
FINISH_GRACE_SECONDS = 60.0
"""Real seconds after the post-market phase begins for the daily summary to reach Discord."""
DRAIN_SECONDS = 30.0
"""Real seconds to wait for the last notifications after the summary."""
QUIET_SECONDS = 3.0
"""No new message for this long (and an empty outbox) means the notifications are done."""
SERVICES = ("executor", "scheduler", "notifier", "api")
SCALED_WAITS = {
    "KIS_CONNECT_TIMEOUT_SECONDS": "1",
    "KIS_READ_TIMEOUT_SECONDS": "5",
    "ORDER_STALE_SECONDS": "7",  # above connect + read, as the executor requires
    "ORDER_ABSENCE_GRACE_SECONDS": "1",
    "SCHEDULER_LOCK_SECONDS": "3",
}
"""Settings in real seconds, made shorter for a clock hundreds of times faster."""
RUN_DIR = ROOT / ".run" / "chaos"
QUOTE_MARK = EN["unconfirmed.text"].rpartition("{summary}")[0].rpartition("{detail}")[2]
"""What comes right before the quoted message in the notifier's notice of an unconfirmed one."""
KEYS = Keys()


# One run -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunResult:
    """What one run did, against what its rules called for."""

    run: int
    day: Day
    placed: list[tuple[str, str, int, int]]
    """Orders KIS received: ``(code, side, quantity, filled)``."""
    duplicates: int
    lost: int
    extra: int
    notes: NoteCount
    finished: bool
    exits: int
    seconds: float

    @property
    def clean(self) -> bool:
        return (
            not (
                self.duplicates
                or self.lost
                or self.extra
                or self.notes.lost
                or self.notes.duplicated
            )
            and self.finished
        )


def compare_orders(day: Day, placed: list[tuple[str, str, int, int]]) -> tuple[int, int, int]:
    """``(duplicates, lost, extra)`` of the orders KIS received against the expected ones."""
    at_kis = Counter((code, side) for code, side, _, _ in placed)
    expected = {(e.code, e.side): e for e in day.expected}
    duplicates = sum(n - 1 for key, n in at_kis.items() if key in expected and n > 1)
    extra = sum(n for key, n in at_kis.items() if key not in expected)
    lost = 0
    for key, order in expected.items():
        done = [p for p in placed if (p[0], p[1]) == key and p[2] == p[3] == order.quantity]
        lost += not done
    return duplicates, lost, extra


@dataclass(frozen=True)
class NoteCount:
    """How the expected messages fared at Discord (see :func:`compare_notifications`)."""

    lost: int
    doubtful: int
    duplicated: int


def compare_notifications(day: Day, messages: list[dict[str, Any]]) -> NoteCount:
    """The plan, each expected fill and the summary must each be at Discord once.

    ``lost``: one that is not there, in its own message or quoted; ``doubtful``: one whose
    answer Discord never gave, so it was not posted again and a notice quoted it instead (at
    most once: docs/ARCHITECTURE.md, 'Notifications'); ``duplicated``: an order's acceptance or
    fill (its id as footer), the plan or the summary that is there twice (the same words,
    whatever the timestamp). Messages that may rightly repeat (an unknown outcome per try,
    errors) are not counted.
    """
    seen: Counter[str] = Counter()
    titles: Counter[str] = Counter()
    fills: Counter[str] = Counter()
    quoted: list[str] = []
    for message in messages:
        if is_notice(message):
            quoted.append(str(message.get("content") or "").partition(QUOTE_MARK)[2])
        for embed in message.get("embeds") or []:
            title = str(embed.get("title") or "")
            footer = str((embed.get("footer") or {}).get("text") or "")
            once = footer and ("filled" in title or "accepted" in title)
            if once or title in ("Pre-market plan", "Daily summary"):
                words = {k: v for k, v in embed.items() if k != "timestamp"}
                seen[json.dumps(words, sort_keys=True, ensure_ascii=False)] += 1
            titles[title] += 1
            if footer and "filled" in title and "partially" not in title:
                fills[footer] += 1
    missing = [Wanted(t) for t in ("Pre-market plan", "Daily summary") if not titles[t]]
    missing += [
        Wanted(f"{e.side.capitalize()} filled", f"({e.code})", f"{e.quantity:,} shares")
        for e in day.expected
        if not fills[e.order_id]
    ]
    doubtful = sum(1 for m in missing if any(m.quoted_in(q) for q in quoted))
    duplicated = sum(n - 1 for n in seen.values() if n > 1)
    return NoteCount(len(missing) - doubtful, doubtful, duplicated)


@dataclass(frozen=True)
class Wanted:
    """An expected message, as a notice would quote its first line: ``[title] ... code ...
    shares ...`` (a fill), or ``[title] ...`` (the plan, the summary)."""

    title: str
    code: str = ""
    shares: str = ""

    def quoted_in(self, quote: str) -> bool:
        return quote.startswith(f"[{self.title}") and self.code in quote and self.shares in quote


class Run:
    """One day: start everything, play the chaos, wait for the day's end, count."""

    def __init__(self, run: int, day: Day, folder: Path) -> None:
        self.run = run
        self.day = day
        self.folder = folder
        self.system = SimulatedSystem(folder, START, day.speed)
        self.discord = FakeDiscord(limit=5, window=1.0)

    # Start and stop ----------------------------------------------------------------------------
    def start(self) -> None:
        self.discord.start()
        self.system.start_sim(
            SIM_STORE="memory",  # KIS keeps its books whatever happens to our Redis
            SIM_RATE_LIMIT="20",
            SIM_TOKEN_THROTTLE_SECONDS="1",  # noqa: S106 - seconds, not a secret
        )
        self.admin("POST", "accounts", json={"account": SIM_ACCOUNT, "cash": CASH, "holdings": []})
        paths: dict[str, Any] = {p.code: [list(level) for level in p.path] for p in self.day.picks}
        self.admin(
            "POST", "prices", json={**paths, "names": {p.code: p.name for p in self.day.picks}}
        )
        picks = self.folder / "picks.json"
        picks.write_text(
            json.dumps({p.code: [p.name, p.target] for p in self.day.picks}, ensure_ascii=False),
            encoding="utf-8",
        )
        self.system.start_services(
            SERVICES,
            KIS_RATE_LIMIT="20",
            KIS_RETRY_BACKOFF_SECONDS="0.05",
            KIS_TOKEN_ISSUE_INTERVAL_SECONDS="1",  # noqa: S106 - seconds, not a secret
            SCHEDULER_MIN_CYCLE_SECONDS="0.2",
            # Waits in real seconds, scaled down with the clock: at the defaults one lost job
            # (30 s stale) or a killed scheduler's lock (15 s) would cost hours of a 600x day.
            **SCALED_WAITS,
            PICKS_FILE=str(picks),
            EXPORT_DIR=str(self.folder / "export"),
            DISCORD_WEBHOOK_URL=self.discord.url,
            NOTIFY_LANGUAGE="en",
            API_HOST="127.0.0.1",
            API_PORT=str(free_port()),
        )
        self.system.supervise()
        self.system.begin(lambda: self.system.beating(BEATING), READY_SECONDS)

    def stop(self) -> None:
        self.system.stop()
        self.discord.stop()

    def admin(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.system.admin(method, path, **kwargs)

    # Chaos -------------------------------------------------------------------------------------
    def act(self, action: Action) -> None:
        if action.kind == "kill":
            self.system.services[action.target].kill()
        elif action.kind == "redis_restart":
            self.system.redis.stop()
            self.system.redis.start()
        elif action.kind == "redis_outage":
            self.system.redis.stop()
            time.sleep(action.seconds)
            self.system.redis.start()
        elif action.kind == "kis_fault":
            fault: dict[str, Any] = {"kind": action.target, "count": action.count}
            if action.path:
                fault["path"] = action.path
            if action.seconds:
                fault["delay_seconds"] = action.seconds
            self.admin("POST", "faults", json=fault)
        elif action.kind == "expire_tokens":
            self.admin("POST", "tokens/expire")
        elif action.kind == "discord_outage":
            self._for_a_while(
                action.seconds,
                lambda on: setattr(self.discord, "outage", action.target if on else None),
            )
        elif action.kind == "discord_slow":
            delay = float(action.target)
            self._for_a_while(
                action.seconds,
                lambda on: setattr(self.discord, "answer_delay", delay if on else 0.0),
            )

    def _for_a_while(self, seconds: float, switch: Callable[[bool], None]) -> None:
        switch(True)
        timer = threading.Timer(seconds, switch, args=(False,))
        timer.daemon = True
        timer.start()

    # The day -----------------------------------------------------------------------------------
    def play(self) -> RunResult:
        began = time.time()
        self.start()
        try:
            for action in self.day.actions:
                self.system.sleep_until(action.due_kst)
                self.act(action)
            finished = self._wait_for_summary()
            if finished:
                self._wait_for_quiet()
            placed = self._placed()
            exits = sum(s.exits for s in self.system.services.values())
        finally:
            self.stop()
        duplicates, lost, extra = compare_orders(self.day, placed)
        notes = compare_notifications(self.day, list(self.discord.accepted))
        (self.folder / "discord.json").write_text(
            json.dumps(self.discord.accepted, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        return RunResult(
            self.run,
            self.day,
            placed,
            duplicates,
            lost,
            extra,
            notes,
            finished,
            exits,
            time.time() - began,
        )

    def _summaries(self) -> int:
        return sum(
            1
            for m in list(self.discord.accepted)
            for e in m.get("embeds") or []
            if e.get("title") == "Daily summary"
        )

    def _wait_for_summary(self) -> bool:
        deadline = self.system.real_time_of(CLOSE_DONE) + FINISH_GRACE_SECONDS
        while time.time() < deadline:
            if self._summaries():
                return True
            time.sleep(0.2)
        return False

    def _wait_for_quiet(self) -> None:
        """Until no event or message waits and Discord has heard nothing new for a while."""
        client = redis.Redis.from_url(self.system.redis.url, socket_timeout=2)
        deadline = time.time() + DRAIN_SECONDS
        count, since = len(self.discord.accepted), time.time()
        while time.time() < deadline:
            time.sleep(0.2)
            if len(self.discord.accepted) != count:
                count, since = len(self.discord.accepted), time.time()
                continue
            with suppress(redis.RedisError):
                waiting = client.llen(KEYS.outbox()) + client.llen(KEYS.notify_events())
                if waiting == 0 and time.time() - since >= QUIET_SECONDS:
                    break
        client.close()

    def _placed(self) -> list[tuple[str, str, int, int]]:
        rows = self.admin("GET", "orders").json()["orders"]
        (self.folder / "kis-orders.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
        # A cancel order (of a limit buy's unfilled rest) is KIS's row too, not a second order.
        return sorted(
            (o["code"], o["side"], int(o["qty"]), int(o["filled"]))
            for o in rows
            if not o.get("cancel_of")
        )


# The command ---------------------------------------------------------------------------------
HEADER = (
    f"{'run':>3} {'seed':>6} {'speed':>5} {'chaos':>5} {'expect':>6} {'placed':>6} {'dup':>3} "
    f"{'lost':>4} {'extra':>5} {'n-lost':>6} {'n-doubt':>7} {'n-dup':>5} {'done':>4} "
    f"{'exits':>5} {'secs':>5}"
)


def row(result: RunResult) -> str:
    day = result.day
    return (
        f"{result.run:>3} {day.seed:>6} {day.speed:>5g} {len(day.actions):>5} "
        f"{len(day.expected):>6} {len(result.placed):>6} {result.duplicates:>3} "
        f"{result.lost:>4} {result.extra:>5} {result.notes.lost:>6} {result.notes.doubtful:>7} "
        f"{result.notes.duplicated:>5} {'yes' if result.finished else 'NO':>4} "
        f"{result.exits:>5} {result.seconds:>5.0f}"
    )


def plan_runs(runs: int, seed: int, speed: float, outage_speed: float) -> Iterator[Day]:
    """The days of a chaos run: seeds ``seed``, ``seed + 1``, ...; those ending in 3 (one in
    OUTAGE_EVERY) have the minute-long Redis outage."""
    for day_seed in range(seed, seed + runs):
        long_outage = day_seed % OUTAGE_EVERY == 3
        day_speed = outage_speed if long_outage else speed
        yield make_day(day_seed, day_speed, long_outage=long_outage)


def chaos(
    days: list[Day], out: IO[str] = sys.stdout, verbose: bool = False, root: Path = RUN_DIR
) -> list[RunResult]:
    """Play each day in turn, printing a row per run and the totals last; logs under ``root``."""
    print(HEADER, file=out, flush=True)
    results = []
    for i, day in enumerate(days, start=1):
        folder = root / f"{day.seed}-{i}"
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        (folder / "plan.txt").write_text(
            "\n".join(
                [f"{e.order_id} x{e.quantity}" for e in day.expected]
                + [a.describe() for a in day.actions]
            )
            + "\n",
            encoding="utf-8",
        )
        result = Run(i, day, folder).play()
        results.append(result)
        print(row(result), file=out, flush=True)
        if verbose or not result.clean:
            print(f"    chaos: {'; '.join(a.describe() for a in day.actions)}", file=out)
            print(f"    logs: {folder}", file=out, flush=True)
    print(totals(results), file=out, flush=True)
    return results


def totals(results: list[RunResult]) -> str:
    duplicates = sum(r.duplicates for r in results)
    lost = sum(r.lost for r in results)
    unfinished = sum(not r.finished for r in results)
    return f"runs {len(results)}, duplicates {duplicates}, lost {lost}, unfinished {unfinished}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS)
    parser.add_argument("--seed", type=int, default=1, help="seed of the first run (then +1)")
    parser.add_argument("--speed", type=float, default=DEFAULT_SPEED)
    parser.add_argument("--outage-speed", type=float, default=OUTAGE_SPEED)
    parser.add_argument("--no-outage", action="store_true", help="no minute-long Redis outage")
    parser.add_argument("--calm", action="store_true", help="no chaos at all (checks the oracle)")
    parser.add_argument("--smoke", action="store_true", help="a few kinds of chaos per run only")
    parser.add_argument("--verbose", action="store_true", help="print each run's chaos")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.speed <= 0 or args.outage_speed <= 0:
        parser.error("--runs, --speed and --outage-speed must be positive")
    days = list(plan_runs(args.runs, args.seed, args.speed, args.outage_speed))
    if args.no_outage:
        days = [make_day(d.seed, args.speed) if d.long_outage else d for d in days]
    if args.calm:
        days = [make_day(d.seed, args.speed, chaos=False) for d in days]
    if args.smoke:
        days = [smoke_actions(d) for d in days]
    root = RUN_DIR / time.strftime("%Y%m%d-%H%M%S")
    results = chaos(days, verbose=args.verbose, root=root)
    return 0 if all(r.clean for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
