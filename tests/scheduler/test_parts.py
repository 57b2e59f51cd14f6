"""The scheduler's small parts: the plan in Redis, polling quotes, call counting, the benchmark."""

from __future__ import annotations

from datetime import date

import pytest
import redis

from services.scheduler.cycle import measure_intraday_cycle, read_market
from services.scheduler.metering import CallCounts, MeteredKisReader
from services.scheduler.plan import plan_from_json, plan_to_json, store_plan, stored_plan
from services.scheduler.quotes import PollingQuotes
from shared.infra.redis_keys import Keys
from shared.kis.errors import KisTemporaryError
from shared.kis.transport import READ_ATTEMPTS
from shared.trading.picks import Pick
from shared.trading.rules import DayPlan
from tests.scheduler.conftest import Kis

DAY = date(2026, 3, 3)
UNKNOWN = "00002X"
"""Not a code the simulator knows: like KIS, it answers with price 0."""
PLAN = DayPlan(DAY, 10_000_000, 2_000_000, (Pick("002680", "한타", 3155),), ("177350",))


def test_the_plan_survives_json() -> None:
    assert plan_from_json(plan_to_json(PLAN)) == PLAN
    assert "한타" in plan_to_json(PLAN)  # readable in redis-cli, not \u-escaped


def test_the_first_plan_of_a_session_is_kept(redis_client: redis.Redis) -> None:
    keys = Keys()
    assert store_plan(redis_client, keys, PLAN) == (PLAN, True)
    later = DayPlan(DAY, 1, 1, (), ())
    assert store_plan(redis_client, keys, later) == (PLAN, False)
    assert stored_plan(redis_client, keys, DAY) == PLAN
    assert stored_plan(redis_client, keys, date(2026, 3, 4)) is None


def test_polling_asks_once_per_code_and_skips_a_rejected_one(kis: Kis) -> None:
    kis.prices({"000010": 10000, "000030": 9000})
    prices = PollingQuotes(kis.client).prices(["000010", UNKNOWN, "000030"])
    assert prices == {"000010": 10000, "000030": 9000}
    assert kis.wire.codes("price") == ["000010", UNKNOWN, "000030"]


def test_a_temporary_error_reaches_the_loop(kis: Kis) -> None:
    kis.fault("http_500", "inquire-price", count=READ_ATTEMPTS)  # every try of one quote
    with pytest.raises(KisTemporaryError):
        PollingQuotes(kis.client).prices(["000010"])


def holdings(count: int) -> dict[str, tuple[int, int]]:
    """``count`` holdings of one share at 10,000 won: the paper balance shows 20 rows a page."""
    return {f"{100 + i:06d}": (1, 10000) for i in range(count)}


def test_one_cycle_reads_one_quote_per_code_and_one_balance(kis: Kis) -> None:
    kis.prices({"000010": 10000, "000020": 10000})
    held = holdings(41)  # three pages
    kis.account(10_000_000, held)
    metered = MeteredKisReader(kis.client)
    view = read_market(PollingQuotes(metered), metered, ["000010", "000020"])
    assert view.prices == {"000010": 10000, "000020": 10000}
    assert set(view.balance.held()) == set(held)
    assert metered.take() == CallCounts(
        requests=5, price_calls=2, balance_calls=1, balance_pages=3, cash_calls=0
    )
    assert metered.take() == CallCounts()
    # Nothing left to buy: no quote at all, the balance still.
    read_market(PollingQuotes(metered), metered, [])
    assert metered.take().price_calls == 0


def test_the_benchmark_helper_measures_the_same_reads(kis: Kis) -> None:
    kis.prices({"000010": 10000})
    kis.account(10_000_000, holdings(21))  # two pages
    seconds, requests = measure_intraday_cycle(kis.client, ["000010"], cycles=3)
    assert seconds >= 0
    assert requests == 3
    assert kis.wire.calls() == {"price": 3, "balance": 6}  # each cycle: a quote, two pages
