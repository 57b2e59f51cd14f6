"""Flatten: sell every position the system opened, once each, and stop new entries.

See docs/ARCHITECTURE.md, 'Flatten'. Each position gets one market sell whose id is
deterministic (``{session}-{code}-sell-manual``), created with ``SET NX`` and queued under that
same job id: a repeated call, a retry or two calls at once find the record already there and
sell nothing more. The sells go through the normal executor path (gate, one POST per record),
which also refuses a second live sell of one position.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import redis

from shared.infra.clock import Clock
from shared.infra.redis_keys import Keys
from shared.kis.models import Side
from shared.messaging.queues import enqueue_order
from shared.state.control import stop_entries
from shared.state.order_book import OrderBook
from shared.state.positions import BOT, PositionLedger
from shared.trading.orders import OrderIntent, OrderStatus, Reason

DEAD = frozenset({OrderStatus.REJECTED, OrderStatus.CANCELLED})
"""A sell in one of these did not and will not trade: it does not stand for the position."""


@dataclass(frozen=True)
class FlattenedPosition:
    """What flatten did for one position."""

    code: str
    quantity: int
    order_id: str
    outcome: str
    """``queued`` (a new sell), ``already`` (this session's flatten sell exists), or
    ``selling`` (another live sell of the position today, e.g. a stop-loss)."""

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "quantity": self.quantity,
            "order_id": self.order_id,
            "outcome": self.outcome,
        }


def flatten(
    client: redis.Redis, keys: Keys, clock: Clock, session: date, by: str
) -> list[FlattenedPosition]:
    """Stop entries on ``session`` and queue one market sell per position the system opened."""
    stop_entries(client, keys, session, f"flatten requested by {by}")
    book = OrderBook(client, keys, clock)
    live_sells = {
        r.intent.code: r.id
        for r in book.of_day(session)
        if r.intent.side is Side.SELL and r.status not in DEAD
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
        other = live_sells.get(position.code)
        if other is not None and other != intent.id:
            done.append(FlattenedPosition(position.code, position.quantity, other, "selling"))
            continue
        created = book.create(intent)
        if created is not None:
            enqueue_order(client, created.id, Side.SELL)
        outcome = "queued" if created is not None else "already"
        done.append(FlattenedPosition(position.code, position.quantity, intent.id, outcome))
    return done
