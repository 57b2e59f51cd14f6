"""The 60-session run (``make track-record``): the whole system trades 60 KRX sessions in a row,
then its track record is checked against KIS's own fills, to the won.

    python -m benchmarks.track_record [--sessions 60] [--first 2026-03-03] [--speed 3600]
                                      [--seed 1] [--screenshot docs/screens/history.png]

See docs/ARCHITECTURE.md, 'Track record', and docs/benchmarks.md. One redis-server and one data
volume (``DATA_DIR``: the trade journal, the once marks, the exports) for the whole run. Each
session gets its own processes: the KIS simulator (``SIM_PROFILE=kis``: KIS's fees, the sell
tax, D+2 settlement; its accounts and orders kept in that Redis, so they carry over), the
executor and the scheduler, on a clock that starts at 08:50 of the session and runs ``--speed``
times faster than real time; they stop once the session's daily summary (and the week's or the
month's when the session ends one) is queued. Restarting skips the nights and weekends, which
at one clock speed would take three times as long as the sessions.

Each session has three picks from a pool of eight made-up codes, their target the opening price,
and every code a scripted price path (seeded: ``--seed``) that moves about 2 % at seven points of
the day, with a slight upward drift, so positions are sold by take profit, stop loss and expiry.
No notifier runs: the events stay in Redis, and the weekly and monthly summaries are counted and
the last of each printed as the notifier would render them.

At the end the status API (a process on the same Redis and volume) is asked ``GET
/performance``; the realised net P&L of every code, and in total, is recomputed from the
simulator's fills (``GET /sim/orders``: price, fee and tax of each fill; a code's round trips
counted once its position is back to zero) and each line says whether the two agree to the won.
Then ``/history`` is drawn by headless Chromium into ``--screenshot``. Logs stay in
``.run/track-record/<when>/``.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import redis
import requests

from services.notifier.format import as_text, render
from shared.infra.clock import KST
from shared.infra.processes import (
    ROOT,
    RedisProcess,
    Supervised,
    free_port,
    service_env,
    terminate,
    wait_until,
)
from shared.infra.redis_keys import Keys
from shared.infra.screenshot import page_screenshot
from shared.infra.settings import SIM_ACCOUNT
from shared.messaging.queues import queued_notifications
from shared.trading.market_calendar import KrxCalendar
from shared.trading.periods import PeriodKind, ends_period

FIRST_SESSION = date(2026, 3, 3)
SESSIONS = 60
SPEED = 3600.0
"""Clock speed of a session: the demo day trades exactly up to 4800x with these settings
(docs/benchmarks.md, 'A full simulated day')."""
CASH = 10_000_000
LEAD_SECONDS = 6.0
"""Real seconds between starting a session's processes and 08:50 on their clock."""
SESSION_TIMEOUT_SECONDS = 90.0
"""Real seconds after 08:50 for the session's daily summary to be queued."""
POOL = {
    "000910": "가상전자",
    "000920": "가상화학",
    "000930": "가상바이오",
    "000940": "가상금융",
    "000950": "가상건설",
    "000960": "가상조선",
    "000970": "가상통신",
    "000980": "가상유통",
}
"""Made-up codes the simulator quotes only by the run's paths."""
PICKS_A_DAY = 3
PATH_TIMES = ("09:00", "09:40", "10:30", "11:30", "13:00", "14:00", "15:00")
STEP_SIGMA = 0.02
"""The standard deviation of one step of a price path (relative)."""
STEP_DRIFT = 0.002
"""The mean of one step: picks are stocks their picker expects to rise, a little."""
TICK = 10
"""KRX's tick for prices from 5,000 to 20,000 won, where the paths stay."""
LOW, HIGH = 6_000, 16_000
SETTINGS = {
    "SCHEDULER_MIN_CYCLE_SECONDS": "0.2",
    "KIS_RATE_LIMIT": "18",
    "KIS_RETRY_BACKOFF_SECONDS": "0.05",
    "KIS_TOKEN_ISSUE_INTERVAL_SECONDS": "0",
    "ORDER_STALE_SECONDS": "2",
    "LOG_LEVEL": "INFO",
}
SIM_SETTINGS = {
    "SIM_PROFILE": "kis",
    "SIM_RATE_LIMIT": "18",
    "SIM_TOKEN_THROTTLE_SECONDS": "0",
    "SIM_WS_PORT": "0",
}
WINDOW = "1280,2200"
SCREENSHOT = ROOT / "docs" / "screens" / "history.png"


# The market the run plays (pure, seeded) ------------------------------------------------------
def sessions_from(calendar: KrxCalendar, first: date, count: int) -> list[date]:
    found = [calendar.next_session(first).day]
    while len(found) < count:
        found.append(calendar.next_session(found[-1], include=False).day)
    return found


def on_tick(price: float) -> int:
    return max(LOW, min(HIGH, round(price / TICK) * TICK))


@dataclass(frozen=True)
class Day:
    session: date
    paths: dict[str, list[tuple[str, int]]]
    picks: dict[str, tuple[str, int]]


def market(sessions: Sequence[date], seed: int) -> list[Day]:
    """Each session's price paths (every code of the pool, each opening near its last close) and
    picks (three codes, the target their opening price)."""
    rng = random.Random(seed)
    last = dict.fromkeys(POOL, 10_000)
    days = []
    for session in sessions:
        paths = {}
        for code in POOL:
            price = last[code] * (1 + rng.gauss(0, STEP_SIGMA / 2))
            path = []
            for at in PATH_TIMES:
                path.append((at, on_tick(price)))
                price = path[-1][1] * (1 + rng.gauss(STEP_DRIFT, STEP_SIGMA))
            paths[code] = path
            last[code] = path[-1][1]
        chosen = rng.sample(sorted(POOL), PICKS_A_DAY)
        picks = {code: (POOL[code], paths[code][0][1]) for code in chosen}
        days.append(Day(session, paths, picks))
    return days


# KIS's fills against the journal (pure) -------------------------------------------------------
def nets_from_fills(orders: Iterable[Mapping[str, Any]]) -> tuple[dict[str, int], set[str]]:
    """Each code's realised net P&L from the simulator's fills, and the codes still held.

    A code's buys cost their price and fee, its sells bring their price less fee and tax; a
    round trip counts once the code's position is back to zero (what is still held is not
    realised yet, and the journal has it neither)."""
    fills = sorted(
        (
            (f["filled_kst"], order["code"], order["side"], f)
            for order in orders
            for f in order["fills"]
        ),
        key=lambda row: row[0],
    )
    held: dict[str, int] = {}
    flow: dict[str, int] = {}
    realised: dict[str, int] = {}
    for _, code, side, f in fills:
        amount = int(f["qty"]) * int(f["price"])
        if side == "buy":
            held[code] = held.get(code, 0) + int(f["qty"])
            flow[code] = flow.get(code, 0) - amount - int(f["fee"])
        else:
            held[code] = held.get(code, 0) - int(f["qty"])
            flow[code] = flow.get(code, 0) + amount - int(f["fee"]) - int(f["tax"])
        if held[code] == 0:
            realised[code] = realised.get(code, 0) + flow.pop(code)
    return realised, {code for code, n in held.items() if n}


def agreement(journal: Mapping[str, int], kis: Mapping[str, int]) -> list[str]:
    """One line a code, then the total: both figures and whether they agree to the won."""
    lines = []
    for code in sorted(set(journal) | set(kis)):
        ours, theirs = journal.get(code), kis.get(code)
        verdict = "agree" if ours == theirs else "DIFFER"
        lines.append(
            f"  {code} {POOL.get(code, '')}: /performance {_won(ours)}, "
            f"simulator's fills {_won(theirs)}: {verdict}"
        )
    ours_total, theirs_total = sum(journal.values()), sum(kis.values())
    verdict = "agree to the won" if ours_total == theirs_total else "DIFFER"
    lines.append(
        f"total realised net: /performance {ours_total:+,} won, simulator's fills "
        f"{theirs_total:+,} won: {verdict}"
    )
    return lines


def _won(value: int | None) -> str:
    return "-" if value is None else f"{value:+,} won"


# Running it ------------------------------------------------------------------------------------
class Run:
    """One Redis and one data volume for the whole run; each session's processes started and
    stopped around it."""

    def __init__(self, folder: Path, speed: float) -> None:
        self.folder = folder
        self.speed = speed
        self.redis = RedisProcess(folder, aof=False)
        self.data = folder / "data"
        self.picks = folder / "picks"
        self.keys = Keys()
        self.client: redis.Redis | None = None

    def start(self) -> None:
        self.data.mkdir(parents=True)
        self.picks.mkdir()
        self.redis.start()
        self.client = redis.Redis.from_url(self.redis.url)

    def stop(self) -> None:
        self.redis.stop()

    def env(self, session: date, epoch: float, **extra: str) -> dict[str, str]:
        start = datetime.combine(session, clock_time(8, 50), KST)
        return service_env(
            self.redis.url,
            CLOCK_START=start.isoformat(),
            CLOCK_SPEED=f"{self.speed:g}",
            CLOCK_EPOCH=f"{epoch:.6f}",
            DATA_DIR=str(self.data),
            EXPORT_DIR=str(self.data / "export"),
            PICKS_DIR=str(self.picks),
            **SETTINGS,
            **extra,
        )

    def play(self, day: Day, first: bool, calendar: KrxCalendar) -> list[dict[str, Any]]:
        """The session by fresh processes; the simulator's orders at its end."""
        (self.picks / f"{day.session.isoformat()}.json").write_text(
            json.dumps({c: [n, t] for c, (n, t) in day.picks.items()}, ensure_ascii=False),
            encoding="utf-8",
        )
        epoch = time.time() + LEAD_SECONDS
        port = free_port()
        sim_url = f"http://127.0.0.1:{port}"
        logs = self.folder / day.session.isoformat()
        logs.mkdir()
        sim = Supervised(
            "kis-sim",
            [sys.executable, "-m", "services.kis_sim"],
            self.env(day.session, epoch, SIM_HOST="127.0.0.1", SIM_PORT=str(port), **SIM_SETTINGS),
            logs,
        )
        services = [
            Supervised(
                name,
                [sys.executable, "-m", f"services.{name}"],
                self.env(day.session, epoch, KIS_SIM_URL=sim_url),
                logs,
            )
            for name in ("executor", "scheduler")
        ]
        sim.start()
        try:
            wait_until(lambda: requests.get(f"{sim_url}/sim/health", timeout=1).ok, 30, "kis-sim")
            if first:
                admin(sim_url, "POST", "accounts", json={"account": SIM_ACCOUNT, "cash": CASH})
            paths: dict[str, object] = {c: [list(p) for p in path] for c, path in day.paths.items()}
            admin(sim_url, "POST", "prices", json={**paths, "names": POOL})
            for service in services:
                service.start()
            self._wait_for_the_summaries(day.session, calendar)
            orders: list[dict[str, Any]] = admin(sim_url, "GET", "orders").json()["orders"]
        finally:
            for process in [*services, sim]:
                if process.process is not None and process.process.poll() is None:
                    process.process.terminate()
            for process in [*services, sim]:
                process.stop()
        return orders

    def _wait_for_the_summaries(self, session: date, calendar: KrxCalendar) -> None:
        kinds = ["daily_summary"]
        kinds += [
            f"{name}_summary"
            for kind, name in ((PeriodKind.WEEK, "weekly"), (PeriodKind.MONTH, "monthly"))
            if ends_period(calendar, kind, session)
        ]
        day = session.isoformat()

        def queued() -> bool:
            found = set()
            for event in self.events():
                if event.get("session") == day or event.get("last_session") == day:
                    found.add(event["event"])
            return all(kind in found for kind in kinds)

        wait_until(
            queued, LEAD_SECONDS + SESSION_TIMEOUT_SECONDS, f"the summaries of {day} ({kinds})"
        )

    def events(self) -> list[dict[str, Any]]:
        assert self.client is not None
        return [e for e in queued_notifications(self.client, self.keys) if isinstance(e, dict)]


def admin(base: str, method: str, path: str, **kwargs: Any) -> requests.Response:
    response = requests.request(method, f"{base}/sim/{path}", timeout=30, **kwargs)
    response.raise_for_status()
    return response


def screenshot(url: str, path: Path) -> None:
    """The page at ``url`` as a PNG, drawn by headless Chromium."""
    if not page_screenshot(url, path, WINDOW):
        print("no chromium on PATH: no screenshot (apt-get install chromium)")
        return
    print(f"screenshot of {url.split('?')[0].rsplit('/', 1)[-1]}: {path}")


def last_rendered(events: Sequence[Mapping[str, Any]], kind: str) -> str:
    found = [e for e in events if e.get("event") == kind]
    if not found:
        return f"(no {kind})"
    [payload] = render(found[-1], "ko")
    return as_text(payload)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=SESSIONS)
    parser.add_argument("--first", type=date.fromisoformat, default=FIRST_SESSION)
    parser.add_argument("--speed", type=float, default=SPEED)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--screenshot", type=Path, default=ROOT / "docs" / "screens" / "history.png"
    )
    args = parser.parse_args(argv)
    if args.sessions < 1 or args.speed <= 0:
        parser.error("--sessions and --speed must be positive")
    calendar = KrxCalendar()
    sessions = sessions_from(calendar, args.first, args.sessions)
    days = market(sessions, args.seed)
    folder = ROOT / ".run" / "track-record" / time.strftime("%Y%m%d-%H%M%S")
    folder.mkdir(parents=True)
    print(
        f"track record: {len(sessions)} sessions {sessions[0]} to {sessions[-1]} at "
        f"{args.speed:g}x, logs in {folder}",
        flush=True,
    )
    run = Run(folder, args.speed)
    began = time.monotonic()
    orders: dict[str, dict[str, Any]] = {}
    api: subprocess.Popen[bytes] | None = None
    try:
        run.start()
        for i, day in enumerate(days):
            started = time.monotonic()
            for order in run.play(day, i == 0, calendar):
                orders[order["odno"]] = order
            print(
                f"  {day.session} ({day.session:%a}) done in {time.monotonic() - started:.1f} s, "
                f"{len(orders)} orders at KIS so far",
                flush=True,
            )
        played = time.monotonic() - began

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = run.env(sessions[-1], time.time(), API_PORT=str(port))
        with (folder / "api.log").open("ab") as log:
            api = subprocess.Popen(
                [sys.executable, "-m", "services.api"], cwd=ROOT, env=env, stdout=log, stderr=log
            )
        wait_until(lambda: requests.get(f"{base}/healthz", timeout=1).ok, 60, "the status API")
        record = requests.get(f"{base}/performance", timeout=30).json()
        journal = {c["code"]: int(c["net"]) for c in record["codes"]}
        kis, still_held = nets_from_fills(orders.values())
        events = run.events()
        weekly = [e for e in events if e.get("event") == "weekly_summary"]
        monthly = [e for e in events if e.get("event") == "monthly_summary"]
        expected_weeks = sum(ends_period(calendar, PeriodKind.WEEK, d) for d in sessions)
        expected_months = sum(ends_period(calendar, PeriodKind.MONTH, d) for d in sessions)
        figures = record["figures"]
        planned = {e["session"] for e in events if e.get("event") in ("premarket_plan", "no_picks")}
        print(
            f"played {len(sessions)} sessions in {played:.0f} s "
            f"({played / len(sessions):.1f} s a session); {len(orders)} orders at KIS, "
            f"{figures['trades']} trades journaled (corrupt lines {record['corrupt_count']}), "
            f"still held: {', '.join(sorted(still_held)) or 'nothing'}; "
            f"{len(planned)} sessions planned (a plan, or nothing to buy)"
        )
        print(
            f"win rate {figures['win_rate_pct']}%, profit factor {figures['profit_factor']}, "
            f"fees {figures['fees']:,} won, tax {figures['tax']:,} won, exits {figures['exits']}"
        )
        print("realised net P&L by code, /performance against the simulator's fills:")
        for line in agreement(journal, kis):
            print(line)
        print(
            f"weekly summaries queued {len(weekly)} (sessions ending a week: {expected_weeks}), "
            f"monthly {len(monthly)} (ending a month: {expected_months})"
        )
        print("the last weekly summary, as the notifier renders it:")
        print(last_rendered(events, "weekly_summary"))
        print("the last monthly summary:")
        print(last_rendered(events, "monthly_summary"))
        screenshot(f"{base}/history", args.screenshot)
        agree = journal == kis
        return 0 if agree and len(weekly) == expected_weeks else 1
    finally:
        terminate(api)
        run.stop()


if __name__ == "__main__":
    raise SystemExit(main())
