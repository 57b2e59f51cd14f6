"""Buys as KIS counts cash: every pick the plan allotted is bought, none refused, none above.

The simulator runs with SIM_PROFILE=kis: a market buy is valued at the day's upper limit, fees
and the sell tax are charged, and cash settles at D+2, as at KIS. With the whole cash split over
five picks, market buys would have the last one refused (2,000,000 won left, 200 x 13,000 won
reserved); limit buys at the band's last tick reserve only quantity x limit.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import pytest

from shared.infra.clock import KST
from shared.state.account_cash import orderable_cash
from shared.trading.orders import OrderStatus
from tests.e2e.conftest import KEYS, Market

pytestmark = pytest.mark.slow

DAY = date(2026, 3, 3)
CODES = ("000710", "000720", "000730", "000740", "000750")
PICKS = {code: (f"픽{i}", 10_000) for i, code in enumerate(CODES, 1)}
# Each pick enters its band a minute after the one before: one cycle each, five buys in minutes.
PRICES = {code: [("09:00", 9_000), (f"09:{i:02d}", 10_000)] for i, code in enumerate(CODES, 1)}


def test_five_picks_with_all_cash_allotted_are_all_bought_none_refused(open_market: Any) -> None:
    market: Market = open_market(
        datetime(2026, 3, 3, 8, 50, tzinfo=KST),
        600,
        prices=PRICES,
        picks=PICKS,
        cash=10_000_000,
        sim_env={"SIM_PROFILE": "kis"},
    )
    market.executor()
    market.scheduler()
    market.wait(
        lambda: sum(r.status is OrderStatus.FILLED for r in market.records(DAY)) == 5,
        timeout=60,
        what="five filled buys",
    )

    [plan] = market.events("premarket_plan")
    assert plan["buy_amount"] == 2_000_000
    orders = {o["code"]: o for o in market.sim_orders()}
    assert sorted(orders) == sorted(CODES)
    assert {o["side"] for o in orders.values()} == {"buy"}
    assert not market.events("order_rejected")
    # As close to the seed's buy_amount // price (200) as KIS's cash check allows: the first
    # four get all 200; the last has what is left after four buys and their fees, at 10,490.
    by_time = sorted(market.records(DAY), key=lambda r: r.submitted_epoch)
    quantities = [r.filled_quantity for r in by_time]
    assert quantities[:4] == [200, 200, 200, 200]
    print("quantities", quantities)
    assert 185 <= quantities[4] <= 200
    # Never above the band: each limit is the band's last tick, and each fill is at the market.
    assert {r.intent.limit_price for r in by_time} == {10_490}
    assert {r.average_fill_price for r in by_time} == {10_000}

    # Cash as the account shows it: the settled deposit has not moved (D+2), the cash after
    # settlement and the orderable cash have: 10,000,000 - 9,900,000 bought - 5 fees.
    market.wait(
        lambda: (
            json.loads(market.redis.get(KEYS.account_snapshot()) or "{}").get("cash_d2")
            == 10_000_000 - 9_900_000 - 4 * 281 - 267
        ),
        timeout=30,
        what="a balance read after the fifth fill",
    )
    snapshot = json.loads(market.redis.get(KEYS.account_snapshot()) or "{}")
    assert snapshot["deposit"] == 10_000_000
    orderable = orderable_cash(market.redis, KEYS)
    assert orderable is not None and orderable.won < 2_000_000
