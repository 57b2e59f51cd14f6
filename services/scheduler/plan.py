"""The day plan: made once per session at pre-market (or at a late start), kept in Redis as JSON."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import redis

from services.scheduler.metering import KisReader
from services.scheduler.notices import Notifier
from services.scheduler.plan_file import PlanFiles
from shared.infra.clock import Clock
from shared.infra.redis_keys import SESSION_RETENTION_SECONDS, Keys
from shared.messaging.events import NoPicks, PicksUnreadable, PlannedPick, PremarketPlan
from shared.state.account_cash import remember_orderable_cash
from shared.state.once import OnceMarks
from shared.state.picks_store import store_picks, stored_picks
from shared.trading.market_calendar import KrxCalendar
from shared.trading.picks import Pick, PicksError, load_picks
from shared.trading.picks_files import PicksChoice, choose_picks_file
from shared.trading.rules import DayPlan, plan_day

log = logging.getLogger(__name__)

CASH_PROBE_CODE = "005930"
"""Code the buyable-cash inquiry names when there is no pick (KIS wants one; the seed's choice)."""


def plan_to_json(plan: DayPlan) -> str:
    return json.dumps(
        {
            "session": plan.session.isoformat(),
            "cash": plan.cash,
            "buy_amount": plan.buy_amount,
            "picks": [pick_json(p) for p in plan.picks],
            "held_picks": list(plan.held_picks),
        },
        ensure_ascii=False,
    )


def plan_from_json(raw: str | bytes) -> DayPlan:
    data: dict[str, Any] = json.loads(raw)
    return DayPlan(
        session=date.fromisoformat(data["session"]),
        cash=int(data["cash"]),
        buy_amount=int(data["buy_amount"]),
        picks=tuple(
            Pick(code=str(p["code"]), name=str(p["name"]), target=int(p["target"]))
            for p in data["picks"]
        ),
        held_picks=tuple(str(c) for c in data["held_picks"]),
    )


def pick_json(pick: Pick) -> dict[str, object]:
    """A pick as notifications and the plan show it."""
    return {"code": pick.code, "name": pick.name, "target": pick.target}


def stored_plan(client: redis.Redis, keys: Keys, session: date) -> DayPlan | None:
    raw = client.get(keys.plan(session))
    return None if raw is None else plan_from_json(raw)


def store_plan(client: redis.Redis, keys: Keys, plan: DayPlan) -> tuple[DayPlan, bool]:
    """Keep ``plan`` unless the session already has one; return the plan in force and if it is new.

    SET NX: a restarted or newly promoted scheduler keeps the morning's plan instead of
    re-splitting cash that has partly been spent.
    """
    if client.set(
        keys.plan(plan.session), plan_to_json(plan), nx=True, ex=SESSION_RETENTION_SECONDS
    ):
        return plan, True
    existing = stored_plan(client, keys, plan.session)
    if existing is None:
        raise RuntimeError(f"the plan of {plan.session} vanished right after SET NX")
    return existing, False


@dataclass(frozen=True)
class PicksFiles:
    """Where picks files are (``PICKS_FILE``, ``PICKS_DIR``) and how to date them."""

    picks_file: Path | None
    picks_dir: Path | None
    calendar: KrxCalendar
    clock: Clock

    def for_session(self, session: date) -> PicksChoice:
        """The file of ``session``'s picks, or why there is none (docs/ARCHITECTURE.md, 'Picks')."""
        if self.picks_file is not None and not self.picks_file.is_file():
            return PicksChoice(problem=f"PICKS_FILE {self.picks_file} is not a readable file")
        listing: list[Path] = []
        if self.picks_dir is not None:
            try:
                listing = [p for p in self.picks_dir.iterdir() if p.is_file()]
            except OSError as e:
                return PicksChoice(problem=f"PICKS_DIR {self.picks_dir} unreadable: {e}")
        return choose_picks_file(
            session,
            picks_file=self.picks_file,
            picks_dir=self.picks_dir,
            listing=listing,
            previous_close=self.calendar.previous_session(session).closes,
            written_kst=lambda path: self.clock.at_real(path.stat().st_mtime),
        )


class Planner:
    """Makes each session's plan once: picks, held codes from one balance, cash, the split."""

    def __init__(
        self,
        client: redis.Redis,
        keys: Keys,
        kis: KisReader,
        files: PicksFiles,
        notify: Notifier,
        once: OnceMarks,
        plan_files: PlanFiles | None = None,
    ) -> None:
        self._redis = client
        self._keys = keys
        self._kis = kis
        self._files = files
        self._notify = notify
        self._once = once
        self._plan_files = plan_files
        """The plans' copies on the data volume; None: Redis only."""
        self._current: DayPlan | None = None

    def plan_for(self, session: date) -> DayPlan:
        """The session's plan: from memory, from Redis, from its file, or made now.

        Reading or making it writes the session's sentinel (docs/ARCHITECTURE.md, 'When our
        state is lost'), which :mod:`services.scheduler.lost_state` watches.
        """
        if self._current is not None and self._current.session == session:
            return self._current
        plan = stored_plan(self._redis, self._keys, session)
        if plan is not None:
            self._keep_file(plan, missing_only=True)
        else:
            plan = self._from_file(session) or self._make(session)
        self._redis.set(self._keys.session_alive(session), "1", ex=SESSION_RETENTION_SECONDS)
        self._current = plan
        return plan

    def _make(self, session: date) -> DayPlan:
        picks = self.picks(session)
        held = self._kis.balance().held()
        probe = picks[0].code if picks else CASH_PROBE_CODE
        cash = self._kis.buyable_cash(probe).orderable_cash
        remember_orderable_cash(self._redis, self._keys, cash, self._files.clock.now())
        plan, new = store_plan(self._redis, self._keys, plan_day(session, picks, held, cash))
        if not new:
            return plan
        self._keep_file(plan, missing_only=False)
        log.info(
            "plan for %s: cash %d, %d picks to buy at %d each, held picks dropped %s",
            session,
            plan.cash,
            len(plan.picks),
            plan.buy_amount,
            list(plan.held_picks),
        )
        if plan.picks:
            self._notify(
                PremarketPlan(
                    session=session,
                    cash=plan.cash,
                    buy_amount=plan.buy_amount,
                    picks=tuple(PlannedPick(p.code, p.name, p.target) for p in plan.picks),
                    held_picks=plan.held_picks,
                )
            )
        else:
            # Zero picks is a normal day without buying, not an error (the seed divided by zero).
            self._notify(
                NoPicks(session=session, picks_given=len(picks), held_picks=plan.held_picks)
            )
        return plan

    def _from_file(self, session: date) -> DayPlan | None:
        """The plan kept on the data volume, put back into Redis (a Redis that came back
        empty: the morning's split goes on, docs/ARCHITECTURE.md, 'When our state is lost')."""
        raw = self._plan_files.read(session) if self._plan_files is not None else None
        if raw is None:
            return None
        try:
            kept = plan_from_json(raw)
        except (ValueError, KeyError, TypeError) as e:
            log.error("the plan file of %s is unreadable (%s): making a new plan", session, e)
            return None
        if kept.session != session:
            return None
        plan, _ = store_plan(self._redis, self._keys, kept)
        log.warning("plan of %s read back from its file: Redis had none", session)
        return plan

    def _keep_file(self, plan: DayPlan, *, missing_only: bool) -> None:
        if self._plan_files is None:
            return
        if missing_only and self._plan_files.path(plan.session).exists():
            return
        self._plan_files.write(plan.session, plan_to_json(plan))

    def picks(self, session: date) -> list[Pick]:
        """The session's stored picks, else its file's (then stored); none when bad or stale.

        Stale or missing picks mean no buys that session, said once; sells go on.
        """
        try:
            stored = stored_picks(self._redis, self._keys, session)
            if stored is not None:
                return list(stored)
            choice = self._files.for_session(session)
            if choice.path is None:
                if not choice.problem:
                    log.info("no picks stored for %s and no PICKS_FILE or PICKS_DIR set", session)
                    return []
                raise PicksError(f"picks of {session}", [choice.problem])
            picks = list(load_picks(choice.path))
        except PicksError as e:
            # A bad file is a day without buying, said once; never a crash of the loop.
            log.error("picks for %s unusable: %s", session, e)
            if self._once.first("picks_error", session):
                self._notify(PicksUnreadable(session=session, message=str(e)))
            return []
        store_picks(self._redis, self._keys, session, picks)
        return picks
