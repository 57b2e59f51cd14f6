"""KIS's orders adopted after our state was lost: rebuilt quietly, marked as rebuilt.

See docs/ARCHITECTURE.md, 'When our state is lost'. A buy of ours is placed and filled (and told:
accepted, filled); then Redis is wiped. The next reconciliation adopts KIS's order under the
day's entry id with its fills, so the ledger holds the position again, tells nothing a second
time, stops no buys, and marks the pass so the scheduler's new buys may go on.
"""

from __future__ import annotations

import time

from shared.kis import Side
from shared.messaging.queues import enqueue_reconcile
from shared.state.control import entries_stopped
from shared.state.reconciled import reconciled_epoch
from shared.trading.orders import OrderStatus
from tests.executor.conftest import SAMSUNG, SESSION, Harness


def test_an_order_adopted_after_a_wipe_is_not_told_again(world: Harness) -> None:
    record = world.order(SAMSUNG, Side.BUY, 5)
    world.burst()
    assert world.get(record.id).status is OrderStatus.FILLED
    assert world.events(record.id) == ["order_accepted", "order_filled"]

    world.redis.flushdb()
    wiped_epoch = time.time()
    enqueue_reconcile(world.redis, SESSION.isoformat(), "test")
    world.burst()

    adopted = world.get(record.id)  # the entry id of its code: the pick is never bought again
    assert (adopted.status, adopted.filled_quantity) == (OrderStatus.FILLED, 5)
    position = world.ledger.get(SAMSUNG)
    assert position is not None and position.quantity == 5
    assert world.notifications() == [], "accepted and filled were told once, before the wipe"
    assert entries_stopped(world.redis, world.keys, SESSION) is None, "the plan goes on"
    done = reconciled_epoch(world.redis, world.keys, SESSION)
    assert done is not None and done >= wiped_epoch
