"""A position bought before the Chuseok holidays is sold at the pre-close of its fifth session.

Bought 2025-09-30 (per the ledger and the account). Sessions after it: 10-01, 10-02, then
Gaecheonjeol, Chuseok and Hangul Day close the market until 10-10, then 10-13 (the fourth) and
10-14 (the fifth). Two short runs around the pre-close, with the same Redis in between.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
import redis

from shared.infra.clock import KST
from shared.state.positions import Position
from shared.trading.orders import OrderStatus
from tests.e2e.conftest import KEYS, Market

pytestmark = pytest.mark.slow

CODE = "000700"
BOUGHT = Position(CODE, "추석전매수", 100, Decimal(10000), date(2025, 9, 30))


def run_preclose(open_market: Any, day: date) -> Market:
    """Run the scheduler and executor from 15:13 to the end of post-market on ``day``."""
    market: Market = open_market(
        datetime(day.year, day.month, day.day, 15, 13, tzinfo=KST),
        120,
        # Flat at the cost: no take-profit or stop-loss can interfere.
        prices={CODE: [("09:00", 10000)]},
        names={CODE: BOUGHT.name},
        holdings=[{"code": CODE, "name": BOUGHT.name, "qty": 100, "avg_price": 10000}],
    )
    market.executor()
    scheduler = market.scheduler()
    market.wait(
        lambda: any(s["session"] == day.isoformat() for s in market.events("daily_summary")),
        timeout=60,
        what="the daily summary",
    )
    assert scheduler.process.poll() is None
    market.stop()
    return market


def test_held_five_sessions_across_holidays_is_sold_on_the_fifth(
    open_market: Any, redis_client: redis.Redis
) -> None:
    redis_client.hset(KEYS.positions(), CODE, BOUGHT.to_json())

    fourth = run_preclose(open_market, date(2025, 10, 13))
    assert fourth.sim_orders() == []
    assert fourth.records(date(2025, 10, 13)) == []
    assert fourth.positions() == {CODE: BOUGHT}
    [summary] = fourth.events("daily_summary")
    assert [p["code"] for p in summary["positions"]] == [CODE]

    fifth = run_preclose(open_market, date(2025, 10, 14))
    [order] = fifth.sim_orders()
    assert (order["code"], order["side"], order["qty"], order["filled"]) == (CODE, "sell", 100, 100)
    [record] = fifth.records(date(2025, 10, 14))
    assert (record.id, record.status) == (f"20251014-{CODE}-sell-expiry", OrderStatus.FILLED)
    assert fifth.positions() == {}
    [summary] = [s for s in fifth.events("daily_summary") if s["session"] == "2025-10-14"]
    assert [(t["code"], t["profit"], t["reason"]) for t in summary["realized"]] == [
        (CODE, 0, "expiry")
    ]
    [attempt] = fifth.events("sell_attempt")
    assert (attempt["code"], attempt["quantity"], attempt["reason"]) == (CODE, 100, "expiry")
