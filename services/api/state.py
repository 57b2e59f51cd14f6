"""Readers that turn what the services keep in Redis into JSON-ready dicts (no writes)."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast

from services.api.answers import WATCHLIST_SHOWN, Watchlist
from services.api.context import ApiContext
from shared.infra.clock import KST
from shared.infra.redis_keys import text
from shared.state.account_cash import orderable_cash
from shared.state.control import HALTED, PAUSED, Controls, heartbeats
from shared.state.money_limits import LimitStore, MoneyLimits, usage
from shared.state.order_book import OrderBook
from shared.state.picks_store import stored_picks
from shared.state.positions import PositionLedger
from shared.trading.market_calendar import Session
from shared.trading.orders import OrderRecord, OrderStatus
from shared.trading.picks import PicksError
from shared.trading.rules import Phase, phase_at

log = logging.getLogger(__name__)

HEARTBEAT_FIELDS = ("service", "instance", "role")
"""What the API shows of a heartbeat, besides its age: the rest is the process's own business."""


@dataclass(frozen=True)
class Today:
    """The clock's reading and what it means for trading."""

    now: datetime
    day: date
    session: Session | None
    phase: Phase


@dataclass(frozen=True)
class EquityPoint:
    """The account's total value at one moment of the system clock."""

    valued_kst: datetime
    value: int


def today(api: ApiContext) -> Today:
    now = api.clock.now()
    session = api.calendar.session(now.date())
    return Today(now, now.date(), session, phase_at(now, session, api.thresholds))


def session_json(session: Session | None) -> dict[str, str] | None:
    if session is None:
        return None
    return {
        "date": session.day.isoformat(),
        "opens": session.opens.isoformat(),
        "closes": session.closes.isoformat(),
    }


# Orders and picks ---------------------------------------------------------------------------
def order_json(record: OrderRecord) -> dict[str, Any]:
    """The API's view of an order: the intent's fields, then what became of it, flat."""
    data: dict[str, Any] = json.loads(record.to_json())
    intent = data.pop("intent")
    return {"id": record.id, **intent, **data}


def orders(api: ApiContext, day: date, status: OrderStatus | None = None) -> list[dict[str, Any]]:
    book = OrderBook(api.redis, api.keys, api.clock)
    return [order_json(r) for r in book.of_day(day) if status is None or r.status is status]


def order(api: ApiContext, order_id: str) -> dict[str, Any] | None:
    record = OrderBook(api.redis, api.keys, api.clock).get(order_id)
    return None if record is None else order_json(record)


def order_counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Orders by status, every status present (zero when none)."""
    counts = {s.value: 0 for s in OrderStatus}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    return counts


def picks(api: ApiContext, day: date) -> dict[str, Any]:
    try:
        found = stored_picks(api.redis, api.keys, day)
    except PicksError as e:
        # A corrupt key is the scheduler's problem to report; the API says what it found.
        log.warning("stored picks unreadable: %s", e)
        return {"date": day.isoformat(), "stored": True, "picks": [], "problems": e.problems}
    rows = [{"code": p.code, "name": p.name, "target": p.target} for p in found or ()]
    return {"date": day.isoformat(), "stored": found is not None, "picks": rows, "problems": []}


# Account --------------------------------------------------------------------------------------
def account_snapshot(api: ApiContext) -> dict[str, Any] | None:
    """The scheduler's last balance reading, or None when there is none (or it is unreadable)."""
    raw = api.redis.get(api.keys.account_snapshot())
    if raw is None:
        return None
    try:
        data = json.loads(raw)
        snapshot = {
            # ``at``: its name before timestamps named their clock (a snapshot outlives upgrades).
            "read_kst": str(data["read_kst"] if "read_kst" in data else data["at"]),
            "session": str(data["session"]),
            "deposit": int(data["deposit"]),
            "cash_d2": int(data["cash_d2"]),
            "total_value": int(data["total_value"]),
            "securities_value": int(data["securities_value"]),
            "profit_total": int(data["profit_total"]),
            "holdings": [_holding(h) for h in data.get("holdings", [])],
        }
    except (ValueError, TypeError, KeyError) as e:
        log.warning("account snapshot unreadable: %s", e)
        return None
    return snapshot


def _holding(h: dict[str, Any]) -> dict[str, Any]:
    return {
        "code": str(h["code"]),
        "name": str(h.get("name", "")),
        "quantity": int(h["quantity"]),
        "average_price": str(Decimal(str(h["average_price"]))),
        "price": int(h["price"]),
        "profit_rate": str(Decimal(str(h.get("profit_rate", "0")))),
        "profit": int(h.get("profit", 0)),
    }


def equity_series(api: ApiContext, day: date) -> list[EquityPoint]:
    """The account's value through ``day``, oldest first; unreadable members are skipped."""
    points = []
    rows = cast(
        "list[tuple[bytes, float]]", api.redis.zrange(api.keys.equity(day), 0, -1, withscores=True)
    )
    for member, score in rows:
        try:
            data = json.loads(text(member))
            value = int(data["value"])
            # ``t``: the name before timestamps named their clock (points are kept 8 days).
            valued = data["valued_kst"] if "valued_kst" in data else data.get("t")
            try:
                valued_kst = datetime.fromisoformat(str(valued)).astimezone(KST)
            except ValueError:
                valued_kst = datetime.fromtimestamp(float(score), KST)
        except (ValueError, TypeError, KeyError):
            continue
        points.append(EquityPoint(valued_kst, value))
    return points


def equity_json(points: list[EquityPoint]) -> list[dict[str, Any]]:
    return [{"valued_kst": p.valued_kst.isoformat(), "value": p.value} for p in points]


# Positions ------------------------------------------------------------------------------------
def positions(api: ApiContext, now: Today) -> dict[str, Any]:
    """The ledger's positions valued at the last snapshot's prices, and today's realised P&L."""
    ledger = PositionLedger(api.redis, api.keys, api.clock)
    snapshot = account_snapshot(api)
    prices = {h["code"]: h["price"] for h in snapshot["holdings"]} if snapshot else {}
    rows = []
    for p in ledger.all().values():
        price = prices.get(p.code)
        cost = p.average_price * p.quantity
        row: dict[str, Any] = {
            "code": p.code,
            "name": p.name,
            "quantity": p.quantity,
            "average_price": str(p.average_price),
            "buy_session": p.buy_session.isoformat(),
            "held_sessions": api.calendar.sessions_between(p.buy_session, now.day),
            "opened_by": p.opened_by,
            "price": price,
            "value": None,
            "profit": None,
            "profit_rate": None,
        }
        if price is not None:
            value = price * p.quantity
            row["value"] = value
            row["profit"] = _won(value - cost)
            if cost:
                row["profit_rate"] = str(((value - cost) / cost * 100).quantize(Decimal("0.01")))
        rows.append(row)
    realized = [r.to_dict() for r in ledger.realized(now.day)]
    priced = [r["profit"] for r in rows if r["profit"] is not None]
    return {
        "positions": rows,
        "prices_kst": snapshot["read_kst"] if snapshot else None,
        "unrealized_profit": sum(priced) if priced else None,
        "realized_today": realized,
        "realized_profit_today": sum(r["profit"] for r in realized),
        "realized_profit_today_net": sum(api.costs.net_profit(r) for r in ledger.realized(now.day)),
    }


def _won(value: Decimal) -> int:
    return int(value.to_integral_value(ROUND_HALF_UP))


# Watchlist ------------------------------------------------------------------------------------
def watchlist(api: ApiContext) -> dict[str, Any]:
    """The scheduler's watchlist with each price's age in real seconds; empty when none, or when
    it is unreadable or not of the documented shape (another process wrote it).

    See docs/ARCHITECTURE.md, 'Realtime prices on the stream'.
    """
    empty: dict[str, Any] = {
        "written_kst": None,
        "quote_source": None,
        "stream_healthy": None,
        "stream_capacity": None,
        "rows": [],
    }
    raw = api.redis.get(api.keys.watchlist())
    if raw is None:
        return empty
    try:
        data = json.loads(raw)
        now = time.time()
        rows = []
        for row in data["rows"]:
            shown = {name: row[name] for name in WATCHLIST_SHOWN}
            epoch = row["price_epoch"]
            shown["price_age_seconds"] = None if epoch is None else round(now - float(epoch), 1)
            rows.append(shown)
        shown_list = {
            # ``at``: its name before timestamps named their clock (written by an older leader).
            "written_kst": str(data["written_kst"] if "written_kst" in data else data["at"]),
            "quote_source": str(data["quote_source"]),
            "stream_healthy": data["stream_healthy"],
            "stream_capacity": int(data["stream_capacity"]),
            "rows": rows,
        }
        Watchlist.model_validate(shown_list)  # a ValidationError is a ValueError
    except (ValueError, TypeError, KeyError) as e:
        log.warning("watchlist unreadable: %s", e)
        return empty
    return shown_list


# Processes and controls -----------------------------------------------------------------------
def services(api: ApiContext) -> list[dict[str, Any]]:
    """Every live heartbeat: service, instance, role (None if it has none) and age in seconds."""
    return [
        {
            **{k: (str(b[k]) if b.get(k) is not None else None) for k in HEARTBEAT_FIELDS},
            "age": b["age"],
            "problem": str(b["problem"]) if b.get("problem") else None,
            "problem_since_epoch": _epoch(b.get("problem_since_epoch")),
        }
        for b in heartbeats(api.redis, api.keys)
    ]


def _epoch(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def controls(api: ApiContext) -> dict[str, Any]:
    active = Controls(api.redis, api.keys).active()
    return {"paused": PAUSED in active, "halted": HALTED in active, "flags": active}


def limits(api: ApiContext, day: date) -> dict[str, Any]:
    """The money limits in force and what ``day`` has used of them."""
    store = LimitStore(api.redis, api.keys, MoneyLimits.from_settings(api.settings))
    return usage(api.redis, api.keys, day, store.current())


def status(api: ApiContext) -> dict[str, Any]:
    now = today(api)
    snapshot = account_snapshot(api)
    day_orders = orders(api, now.day)
    held = positions(api, now)
    equity = equity_series(api, now.day)
    orderable = orderable_cash(api.redis, api.keys)
    return {
        "mode": api.settings.kis_env,
        "dry_run": api.settings.dry_run,
        "account": api.settings.masked_account,
        "clock": now.now.isoformat(timespec="seconds"),
        "clock_speed": api.clock.speed,
        "today": now.day.isoformat(),
        "session": session_json(now.session),
        "next_session": session_json(api.calendar.next_session(now.day, include=False)),
        "phase": now.phase.value,
        "controls": controls(api),
        "services": services(api),
        # Labelled apart (docs/ARCHITECTURE.md, 'Settlement (D+2)'): what KIS lets the account
        # buy with now, and the cash once today's trades settle; never the settled deposit.
        "orderable_cash": orderable.won if orderable else None,
        "orderable_cash_kst": (
            orderable.read_kst.isoformat(timespec="seconds") if orderable else None
        ),
        "cash_d2": snapshot["cash_d2"] if snapshot else None,
        "total_value": snapshot["total_value"] if snapshot else None,
        "balance_kst": snapshot["read_kst"] if snapshot else None,
        "pnl": {
            "account_profit": snapshot["profit_total"] if snapshot else None,
            "unrealized": held["unrealized_profit"],
            "realized_today": held["realized_profit_today"],
            "realized_today_net": held["realized_profit_today_net"],
            "day_change": equity[-1].value - equity[0].value if equity else None,
        },
        "orders_today": order_counts(day_orders),
        "limits": limits(api, now.day),
    }
