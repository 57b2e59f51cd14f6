"""The watchlist: the scheduler writes every pick and position with its band or thresholds, its
last price and the distance to its next decision; the status API and page show it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import redis

from services.api.app import create_app
from shared.infra.clock import KST
from shared.infra.redis_keys import Keys
from shared.infra.settings import load_settings
from shared.kis.models import Side
from shared.state.order_book import OrderBook
from shared.state.picks_store import store_picks
from shared.state.positions import Position
from shared.trading.orders import OrderIntent, OrderStatus, Reason
from shared.trading.picks import Pick
from tests.scheduler.conftest import Kis

KEYS = Keys()
DAY = date(2026, 3, 3)


def test_the_watchlist_shows_why_nothing_was_bought(
    make: Any, redis_url: str, redis_client: redis.Redis, kis: Kis
) -> None:
    store_picks(
        redis_client,
        KEYS,
        DAY,
        (Pick("000010", "in band", 10000), Pick("000030", "below", 10000)),
    )
    kis.prices({"000010": 10000, "000030": 9500, "000040": 10300})
    kis.account(10_000_000, {"000040": (10, 10000)})
    scheduler = make(datetime(2026, 3, 3, 10, 0, tzinfo=KST))
    held = Position("000040", "held", 10, Decimal(10000), date(2026, 3, 2))
    redis_client.hset(KEYS.positions(), held.code, held.to_json())
    scheduler.step()

    settings = load_settings({"REDIS_URL": redis_url})
    api = create_app(settings, redis_client).test_client()
    watchlist = api.get("/watchlist").get_json()
    assert watchlist["quote_source"] == "polling"
    assert watchlist["stream_healthy"] is None
    assert watchlist["written_kst"].startswith("2026-03-03T10:0")  # the scheduler's clock
    rows = {r["code"]: r for r in watchlist["rows"]}
    # The pick 5 % under its target is watched, the position 2 % from take profit too; the pick
    # bought this cycle is listed as ordered, last.
    assert [r["code"] for r in watchlist["rows"]] == ["000040", "000030", "000010"]
    below = rows["000030"]
    assert (below["kind"], below["target"], below["band_top"]) == ("pick", 10000, "10500.00")
    assert (below["price"], below["price_feed"], below["on_stream"]) == (9500, "polling", False)
    assert (below["distance_pct"], below["next_decision"]) == (5.263, "buy")
    assert 0 <= below["price_age_seconds"] < 30
    position = rows["000040"]
    assert (position["kind"], position["average_price"]) == ("position", "10000.00")
    assert (position["take_profit_above"], position["stop_loss_below"]) == ("10500.00", "9700.00")
    assert (position["price"], position["price_feed"]) == (10300, "balance")
    # To 10,510, the first valid price above +5 % (10,500 itself does not sell).
    assert (position["distance_pct"], position["next_decision"]) == (2.039, "take_profit")
    assert rows["000010"]["next_decision"] == "ordered"
    assert rows["000010"]["distance_pct"] is None

    page = api.get("/").get_data(as_text=True)
    assert 'id="watchlist"' in page
    assert '<tr class="watched" data-code="000030">' in page
    assert "5.263 %" in page and "take_profit" in page


def test_no_or_an_unreadable_watchlist_is_an_empty_one(
    redis_url: str, redis_client: redis.Redis
) -> None:
    api = create_app(load_settings({"REDIS_URL": redis_url}), redis_client).test_client()
    empty = {
        "written_kst": None,
        "quote_source": None,
        "stream_healthy": None,
        "stream_capacity": None,
        "rows": [],
    }
    assert api.get("/watchlist").get_json() == empty
    redis_client.set(KEYS.watchlist(), '{"rows": [{"code": "000010"}]}')
    assert api.get("/watchlist").get_json() == empty
    assert "Nothing watched" in api.get("/").get_data(as_text=True)


def test_a_pick_bought_and_sold_today_leaves_the_watchlist(
    make: Any, redis_url: str, redis_client: redis.Redis, kis: Kis
) -> None:
    # Issue 20: a pick bought and sold the same day stayed listed as "ordered" until the close.
    store_picks(
        redis_client, KEYS, DAY, (Pick("000010", "sold", 10000), Pick("000030", "w", 10000))
    )
    kis.prices({"000010": 10600, "000030": 9500})
    kis.account(10_000_000)
    scheduler = make(datetime(2026, 3, 3, 10, 0, tzinfo=KST))
    book = OrderBook(redis_client, KEYS, scheduler.clock)
    bought = book.create(OrderIntent(DAY, "000010", "sold", Side.BUY, Reason.ENTRY, 10, 10000))
    assert bought is not None
    book.transition(bought.id, OrderStatus.PENDING, OrderStatus.SUBMITTING, attempts=1)
    book.transition(bought.id, OrderStatus.SUBMITTING, OrderStatus.ACCEPTED, broker_order_no="1")
    book.transition(
        bought.id,
        OrderStatus.ACCEPTED,
        OrderStatus.FILLED,
        filled_quantity=10,
        average_fill_price=Decimal(10000),
    )
    scheduler.step()  # the ledger holds nothing of 000010 any more: it was sold

    api = create_app(load_settings({"REDIS_URL": redis_url}), redis_client).test_client()
    rows = api.get("/watchlist").get_json()["rows"]
    assert [r["code"] for r in rows] == ["000030"]
