"""The day plan: made once per session at pre-market (or at a late start), kept in Redis as JSON."""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path
from typing import Any

import redis

from services.scheduler.metering import Broker
from services.scheduler.notices import Notifier, first_time
from shared.events import NoPicks, PicksUnreadable, PlannedPick, PremarketPlan
from shared.picks import Pick, PicksError, load_picks, store_picks, stored_picks
from shared.redis_keys import Keys
from shared.rules import DayPlan, plan_day

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
    if client.set(keys.plan(plan.session), plan_to_json(plan), nx=True):
        return plan, True
    existing = stored_plan(client, keys, plan.session)
    if existing is None:
        raise RuntimeError(f"the plan of {plan.session} vanished right after SET NX")
    return existing, False


class Planner:
    """Makes each session's plan once: picks, held codes from one balance, cash, the split."""

    def __init__(
        self,
        client: redis.Redis,
        keys: Keys,
        broker: Broker,
        picks_file: Path | None,
        notify: Notifier,
    ) -> None:
        self._redis = client
        self._keys = keys
        self._broker = broker
        self._picks_file = picks_file
        self._notify = notify
        self._current: DayPlan | None = None

    def plan_for(self, session: date) -> DayPlan:
        """The session's plan: from memory, from Redis, or made now."""
        if self._current is not None and self._current.session == session:
            return self._current
        plan = stored_plan(self._redis, self._keys, session)
        if plan is None:
            plan = self._make(session)
        self._current = plan
        return plan

    def _make(self, session: date) -> DayPlan:
        picks = self.picks(session)
        held = self._broker.balance().held()
        probe = picks[0].code if picks else CASH_PROBE_CODE
        cash = self._broker.buyable_cash(probe).orderable_cash
        plan, new = store_plan(self._redis, self._keys, plan_day(session, picks, held, cash))
        if not new:
            return plan
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

    def picks(self, session: date) -> list[Pick]:
        """The session's stored picks, else PICKS_FILE's (then stored); none when they are bad."""
        try:
            stored = stored_picks(self._redis, self._keys, session)
            if stored is not None:
                return list(stored)
            if self._picks_file is None:
                log.info("no picks stored for %s and no PICKS_FILE set", session)
                return []
            picks = list(load_picks(self._picks_file))
        except PicksError as e:
            # A bad file is a day without buying, said once; never a crash of the loop.
            log.error("picks for %s unusable: %s", session, e)
            if first_time(self._redis, self._keys.once("picks_error", session)):
                self._notify(PicksUnreadable(session=session, message=str(e)))
            return []
        store_picks(self._redis, self._keys, session, picks)
        return picks
