"""The chaos run's pure half: a seeded trading day, its orders by the rules, and its chaos.

See docs/ARCHITECTURE.md, 'Chaos run'. Nothing here starts a process or reads a clock: one seed
gives the same day, the same expected orders and the same chaos every time.

The day: six picks, each given a role whose outcome the trading rules decide on their own (buy
when ``target <= price < target x 1.05``, ``buy_amount // price`` shares with ``buy_amount = cash
// picks``; sell the whole position above +5 % or below -3 %). Prices stay at least a percent
away from every boundary, so the oracle needs no rounding subtleties, and every level holds for
an hour or more of simulated time, so a restart or an outage delays a decision but cannot change
it. The expected orders therefore come from the rules and the prices, not from a run of our code.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from shared.infra.clock import KST

DAY = date(2026, 3, 3)
"""A regular Tuesday session: open 09:00, buys until 15:15, post-market from 15:20."""
START = datetime(2026, 3, 3, 8, 25, tzinfo=KST)
"""Where each run's clock starts: before the 08:30 pre-market plan."""
CLOSE_DONE = datetime(2026, 3, 3, 15, 20, tzinfo=KST)
"""The post-market phase (reconciliation, export, daily summary) starts here."""
CHAOS_FROM = datetime(2026, 3, 3, 8, 35, tzinfo=KST)
CHAOS_UNTIL = datetime(2026, 3, 3, 15, 5, tzinfo=KST)
"""Chaos lands between these times (after the plan, before the preclose)."""
OUTAGE_FROM = datetime(2026, 3, 3, 8, 26, tzinfo=KST)
"""The long outage starts within three minutes of this (see :func:`chaos_actions`)."""
CASH = 10_000_000
TICK = 10
"""KRX's tick from 5,000 to 20,000 won; every price here lies in that range."""

ROLES = ("take_profit", "stop_loss", "hold", "late_take_profit", "above_band", "under_target")
"""What a pick does during the day (see :func:`pick_day`)."""

KILLED_SERVICES = ("executor", "scheduler", "notifier")
KIS_FAULTS = (
    "http_500",
    "http_500_after",
    "http_500_after_empty",
    "malformed",
    "drop_response",
    "slow",
    "rate_limited",
)
"""Simulator fault kinds a run draws from (services/kis_sim/faults.py)."""
ORDER_PATH = "order-cash"
OUTAGE_SECONDS = 60.0
"""Real seconds of the long Redis outage."""


@dataclass(frozen=True)
class Pick:
    """One pick of the day, its price path and what the rules make of it."""

    code: str
    name: str
    target: int
    role: str
    path: tuple[tuple[str, int], ...]
    """``(HH:MM, price)`` levels, each holding until the next."""


@dataclass(frozen=True)
class Expected:
    """An order the rules call for: ``(code, side, quantity, reason)``."""

    code: str
    side: str
    quantity: int
    reason: str

    @property
    def order_id(self) -> str:
        """Our order id for it (docs/ARCHITECTURE.md, 'Order ids')."""
        return f"{DAY:%Y%m%d}-{self.code}-{self.side}-{self.reason}"


@dataclass(frozen=True)
class Action:
    """One act of chaos at a moment of the simulated day (``due_kst``: the system clock)."""

    due_kst: datetime
    kind: str
    """``kill``, ``redis_restart``, ``redis_outage``, ``kis_fault``, ``expire_tokens``,
    ``discord_outage``, ``discord_slow``."""
    target: str = ""
    """The service killed, the fault kind, or the Discord outage mode (``503``/``drop``)."""
    count: int = 1
    path: str = ""
    seconds: float = 0.0
    """Real seconds: a fault's delay, an outage's or a slow spell's length."""

    def describe(self) -> str:
        parts = [f"{self.due_kst:%H:%M}", self.kind]
        if self.target:
            parts.append(self.target)
        if self.kind == "kis_fault":
            parts.append(f"x{self.count}{' on ' + self.path if self.path else ''}")
        if self.seconds:
            parts.append(f"{self.seconds:g}s")
        return " ".join(parts)


@dataclass(frozen=True)
class Day:
    """One run's day: its speed, picks, the orders they must produce, and the chaos."""

    seed: int
    speed: float
    picks: tuple[Pick, ...]
    expected: tuple[Expected, ...]
    actions: tuple[Action, ...] = field(default=())

    @property
    def long_outage(self) -> bool:
        return any(a.kind == "redis_outage" for a in self.actions)


def _round(price: float, up: bool) -> int:
    ticks = price / TICK
    whole = int(ticks) + (1 if up and ticks != int(ticks) else 0)
    return whole * TICK


def _clock(moment: time) -> str:
    return f"{moment:%H:%M}"


def _at(rng: random.Random, first: time, last: time) -> time:
    """A moment on the 10-minute grid between ``first`` and ``last``."""
    lo = first.hour * 6 + first.minute // 10
    hi = last.hour * 6 + last.minute // 10
    slot = rng.randint(lo, hi)
    return time(slot // 6, slot % 6 * 10)


def pick_day(
    rng: random.Random, code: str, role: str, buy_amount: int
) -> tuple[Pick, list[Expected]]:
    """A pick playing ``role``, and the orders the rules make of it.

    - ``take_profit`` / ``stop_loss``: in the band from 09:00, then >= +6 % / <= -4 % later;
    - ``hold``: in the band, then a move inside (-3 %, +5 %): bought and held;
    - ``late_take_profit``: under the target at 09:00, in the band later, then >= +6 %;
    - ``above_band``: at or above target x 1.05 all day; ``under_target``: under it all day.
    """
    target = rng.randrange(10_000, 15_000, 200)  # target x 1.05 is a whole number of ticks
    entry = _round(target * rng.uniform(1.0, 1.03), up=True)
    quantity = buy_amount // entry
    exit_at = _at(rng, time(10, 30), time(12, 30))
    path: list[tuple[str, int]]
    expected: list[Expected] = []
    if role in ("take_profit", "stop_loss", "hold"):
        if role == "take_profit":
            later = _round(entry * rng.uniform(1.06, 1.08), up=True)
        elif role == "stop_loss":
            later = _round(entry * rng.uniform(0.93, 0.96), up=False)
        else:
            later = _round(entry * rng.uniform(0.99, 1.03), up=True)
        path = [("09:00", entry), (_clock(exit_at), later)]
        expected.append(Expected(code, "buy", quantity, "entry"))
        if role != "hold":
            expected.append(Expected(code, "sell", quantity, role))
    elif role == "late_take_profit":
        entry_at = _at(rng, time(9, 30), time(10, 30))
        exit_at = _at(rng, time(entry_at.hour + 2, entry_at.minute), time(13, 0))
        under = _round(target * rng.uniform(0.95, 0.99), up=False)
        later = _round(entry * rng.uniform(1.06, 1.08), up=True)
        path = [("09:00", under), (_clock(entry_at), entry), (_clock(exit_at), later)]
        expected.append(Expected(code, "buy", quantity, "entry"))
        expected.append(Expected(code, "sell", quantity, "take_profit"))
    elif role == "above_band":
        path = [("09:00", _round(target * rng.uniform(1.05, 1.1), up=True))]
    else:
        path = [("09:00", _round(target * rng.uniform(0.9, 0.99), up=False))]
    return Pick(code, f"종목{code[-3:]}", target, role, tuple(path)), expected


def make_day(seed: int, speed: float, chaos: bool = True, long_outage: bool = False) -> Day:
    """The day of run ``seed``: six picks with seeded roles, at least three that trade and one
    that never buys. That one's share of the cash stays unspent, so KIS's orderable cash (read
    at the buy's limit price, the band's top) never cuts a buy short of ``buy_amount // price``.
    """
    rng = random.Random(seed)
    roles = [rng.choice(ROLES[:4]) for _ in range(3)] + [rng.choice(ROLES) for _ in range(2)]
    roles.append(rng.choice(ROLES[4:]))
    rng.shuffle(roles)
    buy_amount = CASH // len(roles)
    picks: list[Pick] = []
    expected: list[Expected] = []
    for i, role in enumerate(roles):
        pick, orders = pick_day(rng, f"{(i + 1) * 100:06d}", role, buy_amount)
        picks.append(pick)
        expected.extend(orders)
    actions = chaos_actions(rng, long_outage) if chaos else ()
    if chaos:
        actions = tuple(sorted(actions + mid_order_kills(rng, picks, speed), key=_when))
    return Day(seed, speed, tuple(picks), tuple(sorted(expected, key=_order_key)), actions)


def _order_key(e: Expected) -> tuple[str, str]:
    return (e.code, e.side)


def _moment(
    rng: random.Random, start: datetime = CHAOS_FROM, end: datetime = CHAOS_UNTIL
) -> datetime:
    span = (end - start).total_seconds()
    return start + timedelta(seconds=rng.uniform(0, span))


def _when(action: Action) -> datetime:
    return action.due_kst


def mid_order_kills(rng: random.Random, picks: list[Pick], speed: float) -> tuple[Action, ...]:
    """One or two orders caught in flight: the next order's answer held back for 3 s (KIS has
    executed it), and the executor SIGKILLed while it waits. Aimed at a price change that
    makes an order (the open, or a pick's later level)."""
    moments = sorted({level[0] for p in picks if p.role not in ROLES[4:] for level in p.path})
    actions: list[Action] = []
    for moment in rng.sample(moments, min(len(moments), rng.randint(1, 2))):
        due = datetime.combine(DAY, time.fromisoformat(moment), KST) - timedelta(seconds=speed)
        actions.append(Action(due, "kis_fault", "drop_response", 1, ORDER_PATH, 3.0))
        actions.append(Action(due + timedelta(seconds=2.5 * speed), "kill", "executor"))
    return tuple(actions)


def chaos_actions(rng: random.Random, long_outage: bool) -> tuple[Action, ...]:
    """A seeded mix: kills, Redis restarts (or one minute-long outage), KIS faults, token
    expiry, a Discord outage and a slow spell."""
    actions: list[Action] = []
    for _ in range(rng.randint(3, 6)):
        actions.append(Action(_moment(rng), "kill", rng.choice(KILLED_SERVICES)))
    for _ in range(rng.randint(1, 2)):
        actions.append(Action(_moment(rng), "redis_restart"))
    if long_outage:
        # Over the pre-market plan and the open, ending (two hours later at 120x) before any
        # price's second level: without Redis nothing trades, by design, so a level that came
        # and went inside the outage would be an order no system could have placed.
        start = _moment(rng, OUTAGE_FROM, OUTAGE_FROM + timedelta(minutes=3))
        actions.append(Action(start, "redis_outage", seconds=OUTAGE_SECONDS))
    for _ in range(rng.randint(4, 8)):
        kind = rng.choice(KIS_FAULTS)
        # A storm of EGW00201 hits whatever comes (KIS counts every request of the app key), so
        # it passes in a second or two as the scheduler's reads use it up, as a real one would.
        on_orders = kind != "rate_limited" and (kind != "slow" or rng.random() < 0.5)
        count = rng.randint(5, 12) if kind == "rate_limited" else rng.randint(1, 3)
        delay = round(rng.uniform(1.0, 3.0), 1) if kind == "slow" else 0.0
        actions.append(
            Action(_moment(rng), "kis_fault", kind, count, ORDER_PATH if on_orders else "", delay)
        )
    for _ in range(rng.randint(0, 2)):
        actions.append(Action(_moment(rng), "expire_tokens"))
    if rng.random() < 0.7:
        mode = rng.choice(("503", "drop"))
        actions.append(Action(_moment(rng), "discord_outage", mode, seconds=rng.uniform(3, 15)))
    if rng.random() < 0.7:
        # Slow answers, sometimes slower than the notifier's read timeout.
        delay = round(rng.choice((rng.uniform(1, 4), rng.uniform(10.5, 13))), 1)
        actions.append(
            Action(_moment(rng), "discord_slow", f"{delay:g}", seconds=rng.uniform(5, 15))
        )
    return tuple(sorted(actions, key=_when))


def smoke_actions(day: Day) -> Day:
    """The same day with a few kinds of chaos only (the test suite's short run)."""
    keep = ("kill", "redis_restart", "kis_fault", "discord_outage")
    picked: dict[str, Action] = {}
    for action in day.actions:
        picked.setdefault(action.kind, action)
    actions = tuple(sorted((a for k, a in picked.items() if k in keep), key=_when))
    return Day(day.seed, day.speed, day.picks, day.expected, actions)
