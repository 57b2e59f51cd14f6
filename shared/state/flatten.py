"""Flatten: sell every position the system opened, once each, and stop new entries.

See docs/ARCHITECTURE.md, 'Flatten'. Each position gets one market sell whose id is
deterministic (``{session}-{code}-sell-manual``), created with ``SET NX`` and queued under that
same job id: a repeated call, a retry or two calls at once find the record already there and
sell nothing more. The sells go through the normal executor path (gate, one POST per record),
which also refuses a second live sell of one position.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

import redis

from shared.infra.clock import Clock
from shared.infra.redis_keys import Keys
from shared.kis.models import Side
from shared.messaging.queues import enqueue_order
from shared.state.control import stop_entries
from shared.state.order_book import OrderBook
from shared.state.positions import BOT, PositionLedger
from shared.trading.market_calendar import Session
from shared.trading.orders import OrderIntent, OrderRecord, OrderStatus, Reason

DEAD = frozenset({OrderStatus.REJECTED, OrderStatus.CANCELLED})
"""A sell in one of these did not and will not trade: it does not stand for the position."""


@dataclass(frozen=True)
class FlattenedPosition:
    """What flatten did for one position."""

    code: str
    quantity: int
    order_id: str
    outcome: str
    """``queued`` (a new sell), ``already`` (this session's flatten sell is on its way or done),
    ``retried`` (a new sell after KIS refused the previous flatten sell), or ``selling``
    (another live sell of the position today, e.g. a stop-loss)."""

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "quantity": self.quantity,
            "order_id": self.order_id,
            "outcome": self.outcome,
        }


def flatten_refusal(now: datetime, session: Session | None) -> str | None:
    """Why flatten cannot run at ``now``, or None while the market is open.

    Flatten sells at market: out of hours KIS refuses the sells, and the stop of new buys would
    fall on a session the user did not mean. So it runs from the open to the close only."""
    if session is None:
        return f"{now.date()} is not a KRX session: nothing can be sold today"
    if session.opens <= now < session.closes:
        return None
    return (
        f"the market is not open ({now:%H:%M} KST; {session.day} trades "
        f"{session.opens:%H:%M}-{session.closes:%H:%M}): flatten sells at market, so it runs "
        "only while the market is open; nothing was stopped or sold "
        "(kat pause holds new orders meanwhile)"
    )


def flatten(
    client: redis.Redis, keys: Keys, clock: Clock, session: date, by: str
) -> list[FlattenedPosition]:
    """Stop entries on ``session`` and queue one market sell per position the system opened.

    The caller checks :func:`flatten_refusal` first."""
    stop_entries(client, keys, session, f"flatten requested by {by}")
    book = OrderBook(client, keys, clock)
    records = book.of_day(session)
    live_sells = {
        r.intent.code: r for r in records if r.intent.side is Side.SELL and r.status not in DEAD
    }
    done = []
    for position in PositionLedger(client, keys, clock).all().values():
        if position.opened_by != BOT or position.quantity <= 0:
            continue
        intent = OrderIntent(
            session=session,
            code=position.code,
            name=position.name,
            side=Side.SELL,
            reason=Reason.MANUAL,
            quantity=position.quantity,
            price_seen=int(position.average_price),
        )
        live = live_sells.get(position.code)
        if live is not None:
            outcome = "already" if live.intent.reason is Reason.MANUAL else "selling"
            done.append(FlattenedPosition(position.code, position.quantity, live.id, outcome))
            continue
        intent = replace(intent, attempt=_next_attempt(records, intent))
        created = book.create(intent)
        if created is not None:
            enqueue_order(client, created.id, Side.SELL)
        outcome = "already" if created is None else "retried" if intent.attempt > 1 else "queued"
        done.append(FlattenedPosition(position.code, position.quantity, intent.id, outcome))
    return done


def _next_attempt(records: list[OrderRecord], intent: OrderIntent) -> int:
    """The attempt a flatten sell of ``intent``'s code is at: the last one, or the one after it
    when KIS refused (or the executor cancelled) the last one."""
    mine = [
        r
        for r in records
        if r.intent.code == intent.code
        and r.intent.side is Side.SELL
        and r.intent.reason is Reason.MANUAL
    ]
    if not mine:
        return 1
    last = max(mine, key=lambda r: r.intent.attempt)
    return last.intent.attempt + 1 if last.status in DEAD else last.intent.attempt
