"""The position ledger: what the system holds, since when, and who opened it.

See docs/ARCHITECTURE.md, 'Fills and the ledger'.

Fills reach the ledger exactly once: an order record remembers how many of its filled shares
were applied, and the record and the position change in one Redis transaction.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import redis

from shared.infra.clock import Clock
from shared.infra.files import write_atomically
from shared.infra.redis_keys import SESSION_RETENTION_SECONDS, Keys, text
from shared.kis.models import Side
from shared.trading.orders import OrderRecord, Reason
from shared.trading.trades import Realized

BOT = "bot"
"""``opened_by`` of a position this system bought."""


@dataclass(frozen=True)
class Position:
    """One holding in the ledger."""

    code: str
    name: str
    quantity: int
    average_price: Decimal
    buy_session: date
    opened_by: str = BOT

    def to_json(self) -> str:
        data = asdict(self)
        data["average_price"] = str(self.average_price)
        data["buy_session"] = self.buy_session.isoformat()
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str | bytes) -> Position:
        data: dict[str, Any] = json.loads(raw)
        data["average_price"] = Decimal(data["average_price"])
        data["buy_session"] = date.fromisoformat(data["buy_session"])
        return cls(**data)


@dataclass(frozen=True)
class FillApplied:
    """What one application of fills changed."""

    order: OrderRecord
    position: Position | None
    realized: Realized | None


class PositionLedger:
    """Positions in a Redis hash, changed only through :meth:`apply_fills`."""

    def __init__(self, client: redis.Redis, keys: Keys, clock: Clock) -> None:
        self._redis = client
        self._keys = keys
        self._clock = clock

    def all(self) -> dict[str, Position]:
        raw = self._redis.hgetall(self._keys.positions())
        return {text(k): Position.from_json(v) for k, v in sorted(raw.items())}

    def get(self, code: str) -> Position | None:
        raw = self._redis.hget(self._keys.positions(), code)
        return None if raw is None else Position.from_json(raw)

    def realized(self, session: date) -> list[Realized]:
        rows = self._redis.lrange(self._keys.realized(session), 0, -1)
        return [_realized_from_json(r) for r in rows]

    def apply_fills(self, order_id: str) -> FillApplied | None:
        """Write the order's filled-but-unapplied shares to the ledger; None if there are none."""
        order_key = self._keys.order(order_id)
        positions_key = self._keys.positions()
        outcome: list[FillApplied | None] = [None]

        def apply(pipe: redis.client.Pipeline) -> None:
            raw = pipe.get(order_key)
            if raw is None:
                raise KeyError(f"no order {order_id}")
            order = OrderRecord.from_json(raw)
            delta = order.unapplied_quantity
            if delta <= 0:
                outcome[0] = None
                return
            current_raw = pipe.hget(positions_key, order.intent.code)
            current = Position.from_json(current_raw) if current_raw else None
            position, realized = _applied(current, order, delta)
            updated = replace(
                order, applied_quantity=order.filled_quantity, version=order.version + 1
            )
            pipe.multi()
            pipe.set(order_key, updated.to_json(), keepttl=True)
            if position is None:
                pipe.hdel(positions_key, order.intent.code)
            else:
                pipe.hset(positions_key, order.intent.code, position.to_json())
            if realized is not None:
                realized_key = self._keys.realized(order.intent.session)
                pipe.rpush(realized_key, _realized_to_json(realized))
                pipe.expire(realized_key, SESSION_RETENTION_SECONDS)
            outcome[0] = FillApplied(updated, position, realized)

        self._redis.transaction(apply, order_key, positions_key)
        return outcome[0]

    def restore_from_export(self, folder: Path, held: Mapping[str, int]) -> list[str]:
        """Put back the positions of the last export that the ledger lacks and KIS holds.

        For a ledger lost with Redis (docs/ARCHITECTURE.md, 'When our state is lost'): the
        export written after each close says which positions the system opened and when.
        ``held`` is KIS's balance, code to quantity: a code it does not hold (sold since the
        export, by hand or by a sell adopted after the loss) is not ours any more, and a
        position is restored with at most the quantity KIS holds. A code already in the
        ledger is left as it is. The codes restored.
        """
        try:
            raw = json.loads((folder / "positions.json").read_text(encoding="utf-8"))
            positions = [Position.from_json(json.dumps(p)) for p in raw["positions"]]
        except (OSError, ValueError, KeyError, TypeError):
            return []
        restored = []
        for position in positions:
            quantity = min(position.quantity, held.get(position.code, 0))
            if quantity <= 0:
                continue
            kept = replace(position, quantity=quantity)
            if self._redis.hsetnx(self._keys.positions(), position.code, kept.to_json()):
                restored.append(position.code)
        return restored

    def export(self, folder: Path, session: date) -> tuple[Path, Path]:
        """Write ``positions.json`` and the seed-shaped ``bought_dict.pkl`` into ``folder``.

        The pickle is ``{code: [name, "YYYYMMDD" buy date]}``, the shape of the seed's
        ``select_dict.pkl`` (``{code: [name, value]}``) for users who load it in notebooks.
        """
        positions = self.all()
        folder.mkdir(parents=True, exist_ok=True)
        as_json = folder / "positions.json"
        payload = {
            "session": session.isoformat(),
            "positions": [json.loads(p.to_json()) for p in positions.values()],
        }
        write_atomically(as_json, json.dumps(payload, ensure_ascii=False, indent=2).encode())
        as_pickle = folder / "bought_dict.pkl"
        seed_shape = {
            p.code: [p.name, p.buy_session.strftime("%Y%m%d")] for p in positions.values()
        }
        write_atomically(as_pickle, pickle.dumps(seed_shape, protocol=4))
        return as_json, as_pickle


def _applied(
    current: Position | None, order: OrderRecord, delta: int
) -> tuple[Position | None, Realized | None]:
    intent = order.intent
    price = order.average_fill_price
    if intent.side is Side.BUY:
        if current is None:
            return Position(intent.code, intent.name, delta, price, intent.session), None
        total = current.quantity + delta
        average = (current.average_price * current.quantity + price * delta) / total
        return replace(current, quantity=total, average_price=_money(average)), None
    held = current.quantity if current else 0
    sold = min(delta, held) if current else delta
    buy_price = current.average_price if current else Decimal(0)
    realized = Realized(
        order_id=order.id,
        code=intent.code,
        name=intent.name,
        quantity=sold,
        buy_price=buy_price,
        sell_price=price,
        profit=int(((price - buy_price) * sold).to_integral_value(ROUND_HALF_UP)),
        reason=intent.reason,
        buy_session=current.buy_session if current else None,
    )
    if current is None or held - sold <= 0:
        return None, realized
    return replace(current, quantity=held - sold), realized


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.0001"), ROUND_HALF_UP)


def _realized_to_json(r: Realized) -> str:
    data = r.to_dict()
    for derived in Realized.DERIVED_FIELDS:  # computed again when read, not stored
        del data[derived]
    return json.dumps(data, ensure_ascii=False)


def _realized_from_json(raw: str | bytes) -> Realized:
    data = json.loads(raw)
    data["buy_price"] = Decimal(data["buy_price"])
    data["sell_price"] = Decimal(data["sell_price"])
    data["reason"] = Reason(data["reason"])
    bought = data.get("buy_session")
    data["buy_session"] = None if bought is None else date.fromisoformat(bought)
    return Realized(**data)
