"""Money limits and flatten against the real executor, Redis and the simulator.

See docs/ARCHITECTURE.md, 'Money limits' and 'Flatten'.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import pytest

from services.scheduler.account import AccountRecorder
from shared.kis import Side
from shared.state.control import entries_stopped
from shared.state.money_limits import LimitError, capped_quantity, loss_tripped, validated
from shared.trading.orders import FINAL, OrderStatus, Reason
from tests.conftest import ROOT, wait_for
from tests.executor.conftest import HYNIX, KAKAO, SAMSUNG, SESSION, Harness

LG_CHEM = "051910"


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "1e3", "１２", " ", "12a", 10**13, None, [5]])
def test_a_limit_value_must_be_a_whole_number_in_range(value: object) -> None:
    with pytest.raises(LimitError, match="max_order_krw must be a whole number from 1"):
        validated("max_order_krw", value)


def test_limit_decisions() -> None:
    assert validated("max_orders_per_day", " 12 ") == 12
    assert capped_quantity(10, 70_000, 350_000) == 5
    assert capped_quantity(10, 70_000, 69_999) == 0
    assert capped_quantity(3, 70_000, 10**9) == 3
    assert loss_tripped(10_000_000, 9_700_000, 300_000)
    assert not loss_tripped(10_000_000, 9_700_001, 300_000)
    assert not loss_tripped(None, 1, 1)
    assert not loss_tripped(1, None, 1)


def limit_events(world: Harness) -> list[dict[str, object]]:
    return [p for p in world.notifications() if p["event"] == "limit_tripped"]


def test_a_buy_over_the_krw_limit_is_reduced_and_notified_once(world: Harness) -> None:
    world.price(HYNIX, 70_000)
    first = world.order(SAMSUNG, Side.BUY, 10)
    second = world.order(HYNIX, Side.BUY, 10)
    world.burst(MAX_ORDER_KRW="350000")

    for order in (first, second):
        record = world.get(order.id)
        assert record.status is OrderStatus.FILLED
        assert (record.sent_quantity, record.filled_quantity) == (5, 5)
    [event] = limit_events(world)
    assert (event["limit"], event["value"]) == ("max_order_krw", 350_000)
    assert world.events(first.id) == ["order_accepted", "order_filled"]


def test_a_buy_no_share_of_which_fits_is_refused(world: Harness) -> None:
    buy = world.order(SAMSUNG, Side.BUY, 1)
    world.burst(MAX_ORDER_KRW="69999")

    record = world.get(buy.id)
    assert record.status is OrderStatus.CANCELLED
    assert "max_order_krw" not in record.error_message  # says it in words
    assert "69,999 won per order: refused" in record.error_message
    assert world.stats()["orders"] == 0
    assert world.events(buy.id) == []
    assert len(limit_events(world)) == 1


def test_orders_per_day_two_executors_at_once_send_only_the_limit(world: Harness) -> None:
    codes = (SAMSUNG, HYNIX, KAKAO, LG_CHEM)
    for code in codes:
        world.price(code, 50_000)
    buys = [world.order(code, Side.BUY, 1) for code in codes]
    executors = [world.start(MAX_ORDERS_PER_DAY="2") for _ in range(2)]
    wait_for(
        lambda: all(world.get(b.id).status in FINAL for b in buys), 30, what="every buy settled"
    )
    statuses = sorted(world.get(b.id).status.value for b in buys)
    assert statuses == ["cancelled", "cancelled", "filled", "filled"]
    assert world.stats()["orders"] == 2
    [event] = limit_events(world)
    assert (event["limit"], event["value"]) == ("max_orders_per_day", 2)
    for executor in executors:
        executor.stop()

    # Restarted with another setting: the stored limit stands, and is not notified again.
    late = world.order(SAMSUNG, Side.BUY, 1, Reason.MANUAL)
    world.burst(MAX_ORDERS_PER_DAY="100")
    assert world.get(late.id).status is OrderStatus.CANCELLED
    assert world.stats()["orders"] == 2
    assert len(limit_events(world)) == 1


def test_open_positions_limit_refuses_a_new_code_but_never_a_sell(world: Harness) -> None:
    world.price(HYNIX, 50_000)
    limits = {"MAX_OPEN_POSITIONS": "1", "MAX_ORDERS_PER_DAY": "3"}
    held = world.order(SAMSUNG, Side.BUY, 2)
    world.burst(**limits)
    assert world.get(held.id).status is OrderStatus.FILLED

    new_code = world.order(HYNIX, Side.BUY, 1)
    more_of_held = world.order(SAMSUNG, Side.BUY, 1, Reason.MANUAL)
    world.burst(**limits)
    assert world.get(new_code.id).status is OrderStatus.CANCELLED
    assert "max_open_positions=1" in world.get(new_code.id).error_message
    assert world.get(more_of_held.id).status is OrderStatus.FILLED

    # The day's three order slots are used; a sell that closes the position still goes.
    sell = world.order(SAMSUNG, Side.SELL, 3, Reason.STOP_LOSS)
    world.burst(**limits)
    assert world.get(sell.id).status is OrderStatus.FILLED
    assert world.ledger.get(SAMSUNG) is None
    assert [e["limit"] for e in limit_events(world)] == ["max_open_positions"]


def test_the_daily_loss_limit_stops_entries_and_notifies_once(world: Harness) -> None:
    world.account(holdings=[{"code": HYNIX, "name": "SK하이닉스", "qty": 10, "avg_price": 200_000}])
    world.price(HYNIX, 200_000)
    recorder = AccountRecorder(world.redis, world.keys)
    recorder.record(world.clock.now(), SESSION, world.client().balance())
    world.price(HYNIX, 150_000)  # 500,000 won lost since the day's first valuation
    recorder.record(world.clock.now(), SESSION, world.client().balance())

    buys = [world.order(SAMSUNG, Side.BUY, 1), world.order(KAKAO, Side.BUY, 1)]
    sell = world.order(HYNIX, Side.SELL, 10, Reason.STOP_LOSS)
    volume = str(world.tmp_path / "data")
    world.burst(DAILY_LOSS_LIMIT_KRW="300000", DATA_DIR=volume)

    for buy in buys:
        assert world.get(buy.id).status is OrderStatus.CANCELLED
    assert world.get(sell.id).status is OrderStatus.FILLED
    assert "500,000 won" in (entries_stopped(world.redis, world.keys, SESSION) or "")
    [event] = limit_events(world)
    assert (event["limit"], event["value"]) == ("daily_loss_limit_krw", 300_000)

    # Redis loses its marks and the stop (a restart without persistence): the loss stops the
    # next buy again, and the volume's mark keeps it from being told twice.
    for key in world.redis.scan_iter(match="kat:once:*"):
        world.redis.delete(key)
    world.redis.delete(world.keys.entries_stopped(SESSION))
    late = world.order(LG_CHEM, Side.BUY, 1)
    world.burst(DAILY_LOSS_LIMIT_KRW="300000", DATA_DIR=volume)
    assert world.get(late.id).status is OrderStatus.CANCELLED
    assert len(limit_events(world)) == 1, "the limit was told once a session"


def kat(world: Harness, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "services.cli", *args],
        env=world.env(),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_flatten_twice_at_once_sells_each_position_once(world: Harness) -> None:
    world.price(HYNIX, 60_000)
    for code in (SAMSUNG, HYNIX):
        world.order(code, Side.BUY, 4)
    world.burst()
    assert set(world.ledger.all()) == {SAMSUNG, HYNIX}

    runs = [kat(world, "flatten", "--reason", "test") for _ in range(2)]
    outputs = [run.communicate(timeout=60)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert sum(o.count(" queued ") for o in outputs) == 2, outputs
    again = kat(world, "flatten")  # a retry before the executor ran: nothing new
    assert again.communicate(timeout=60)[0].count(" already ") == 2
    world.burst()
    after = kat(world, "flatten")  # and after: nothing left to sell
    assert "0 position(s)" in after.communicate(timeout=60)[0]

    assert world.ledger.all() == {}
    for code in (SAMSUNG, HYNIX):
        sells = [
            r for r in world.client().daily_executions(SESSION, code=code) if r.side is Side.SELL
        ]
        assert len(sells) == 1
        assert world.get(f"20260303-{code}-sell-manual").status is OrderStatus.FILLED
    assert entries_stopped(world.redis, world.keys, SESSION) is not None
    late_buy = world.order(KAKAO, Side.BUY, 1)
    world.burst()
    assert world.get(late_buy.id).status is OrderStatus.CANCELLED


def test_a_second_live_sell_of_a_position_is_not_sent(world: Harness) -> None:
    world.order(SAMSUNG, Side.BUY, 3)
    world.burst()
    first = world.order(SAMSUNG, Side.SELL, 3, Reason.TAKE_PROFIT)
    second = world.order(SAMSUNG, Side.SELL, 3, Reason.MANUAL)
    world.burst()

    assert world.get(first.id).status is OrderStatus.FILLED
    assert world.get(second.id).status is OrderStatus.CANCELLED
    assert world.stats()["orders"] == 2
    assert world.events(second.id) == ["order_cancelled"]


def test_a_flatten_sell_kis_refused_is_tried_again_by_the_next_flatten(world: Harness) -> None:
    """KIS refuses the first flatten sell (the shares are not in the account at KIS); once they
    are, flatten sends a new sell instead of answering "already"."""
    world.order(SAMSUNG, Side.BUY, 4)
    world.burst()
    world.account()  # KIS holds no share of it any more: the sell will be refused
    first = kat(world, "flatten", "--reason", "test")
    assert " queued " in first.communicate(timeout=60)[0]
    world.burst()
    assert world.get(f"20260303-{SAMSUNG}-sell-manual").status is OrderStatus.REJECTED

    world.account(holdings=[{"code": SAMSUNG, "name": "삼성전자", "qty": 4, "avg_price": 70_000}])
    again = kat(world, "flatten")
    output = again.communicate(timeout=60)[0]
    assert output.splitlines()[1].split() == [
        SAMSUNG,
        "4",
        "retried",
        f"20260303-{SAMSUNG}-sell-manual-2",
    ], output
    world.burst()
    assert world.get(f"20260303-{SAMSUNG}-sell-manual-2").status is OrderStatus.FILLED
    assert world.ledger.all() == {}
    settled = kat(world, "flatten")
    assert "0 position(s)" in settled.communicate(timeout=60)[0]


def test_resume_clears_flattens_stop_of_new_buys_and_says_so(world: Harness) -> None:
    stopped = kat(world, "flatten", "--reason", "lunch")
    assert stopped.communicate(timeout=60)[0].startswith("entries stopped for 2026-03-03")
    assert entries_stopped(world.redis, world.keys, SESSION) is not None
    resumed = kat(world, "resume")
    output = resumed.communicate(timeout=60)[0]
    assert output.strip() == (
        "resumed, cleared: new buys stopped on 2026-03-03 (flatten requested by cli (lunch))"
    )
    assert entries_stopped(world.redis, world.keys, SESSION) is None
    nothing = kat(world, "resume")
    assert nothing.communicate(timeout=60)[0].strip() == (
        "nothing to clear: no pause, halt or stop of new buys"
    )


def test_flatten_out_of_market_hours_is_refused_and_changes_nothing(
    make_harness: Callable[..., Harness],
) -> None:
    early = make_harness(start="2026-03-03T08:10:00+09:00")
    early.order(SAMSUNG, Side.BUY, 4, enqueue=False)
    refused = kat(early, "flatten")
    output = refused.communicate(timeout=60)[0]
    assert refused.returncode == 2
    assert output.strip().splitlines() == [
        "flatten refused: the market is not open (08:10 KST; 2026-03-03 trades 09:00-15:30): "
        "flatten sells at market, so it runs only while the market is open; nothing was "
        "stopped or sold (kat pause holds new orders meanwhile)"
    ]
    assert entries_stopped(early.redis, early.keys, SESSION) is None
