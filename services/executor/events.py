"""Notification payloads about orders: JSON-safe fields only, never an account, key or token.

Building a payload is separate from sending it, and sending never raises into trading code: a
Redis hiccup on the notification queue must not turn a placed order into a failed job.
"""

from __future__ import annotations

import logging

import redis

from shared.orders import OrderRecord
from shared.positions import Realized
from shared.queues import notify

log = logging.getLogger(__name__)

ORDER_ACCEPTED = "order_accepted"
ORDER_FILLED = "order_filled"
ORDER_REJECTED = "order_rejected"
ORDER_UNKNOWN = "order_unknown"
ORDER_CANCELLED = "order_cancelled"
ORDER_ERROR = "order_error"
ENTRIES_STOPPED = "entries_stopped"

Fields = dict[str, str | int | bool]


def order_fields(record: OrderRecord) -> Fields:
    """What every order event says about the order (the KIS order number is not a secret)."""
    intent = record.intent
    return {
        "order_id": record.id,
        "session": intent.session.isoformat(),
        "code": intent.code,
        "name": intent.name,
        "side": intent.side.label,
        "reason": intent.reason.value,
        "quantity": intent.quantity,
        "status": record.status.value,
        "broker_order_no": record.broker_order_no,
        "attempts": record.attempts,
    }


def filled_fields(record: OrderRecord, realized: Realized | None) -> Fields:
    """An ``order_filled`` event: the fill, and for a sell the realised profit."""
    fields = order_fields(record)
    fields |= {
        "filled_quantity": record.filled_quantity,
        "fill_price": str(record.average_fill_price),
        "amount": int(record.average_fill_price * record.filled_quantity),
    }
    if realized is not None:
        fields |= {
            "realized_quantity": realized.quantity,
            "buy_price": str(realized.buy_price),
            "sell_price": str(realized.sell_price),
            "realized_profit": realized.profit,
            "profit_rate": str(realized.profit_rate),
        }
    return fields


def problem_fields(record: OrderRecord, code: str, message: str) -> Fields:
    """A rejection, an unknown outcome or an error: the order and KIS's (or our) words."""
    return order_fields(record) | {"error_code": code, "message": message}


def send(client: redis.Redis, event: str, fields: Fields) -> None:
    """Queue ``event`` for the notifier; a failure is logged, never raised."""
    try:
        notify(client, event, **fields)
    except Exception:
        log.exception("could not queue the %s notification for %s", event, fields.get("order_id"))
