"""Writing the trade journal (docs/ARCHITECTURE.md, 'Track record'): from the ledger's realised
trades on a real Redis, once each, across a Redis wiped and the sell adopted under another id;
and rebuilt from KIS's executions (the simulator over HTTP, with KIS's fees and tax) and the
last export when our record of a sale was lost."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import redis

from services.scheduler.journal_writer import JournalWriter
from shared.infra.clock import KST
from shared.infra.redis_keys import Keys
from shared.kis.models import OrderRequest, Side
from shared.state.journal import Journal
from shared.state.order_book import OrderBook
from shared.state.positions import Position, PositionLedger
from shared.trading.costs import TradeCosts
from shared.trading.market_calendar import KrxCalendar
from shared.trading.orders import OrderIntent, OrderStatus, Reason
from tests.conftest import Sim
from tests.scheduler.clock import ManualClock
from tests.scheduler.conftest import connect

DAY = date(2026, 3, 3)
KEYS = Keys()
COSTS = TradeCosts()


def writer_on(client: redis.Redis, data: Path) -> tuple[JournalWriter, OrderBook, PositionLedger]:
    clock = ManualClock(datetime(2026, 3, 3, 11, 0, tzinfo=KST))
    book = OrderBook(client, KEYS, clock)
    ledger = PositionLedger(client, KEYS, clock)
    return JournalWriter(Journal(data, "sim"), ledger, book, KrxCalendar(), COSTS), book, ledger


def filled(
    book: OrderBook,
    ledger: PositionLedger,
    intent: OrderIntent,
    price: int,
    broker_no: str,
    quantity: int | None = None,
) -> None:
    """Take an intent through the executor's path to (partly) filled, applied to the ledger."""
    book.create(intent)
    book.transition(intent.id, OrderStatus.PENDING, OrderStatus.SUBMITTING)
    book.transition(
        intent.id, OrderStatus.SUBMITTING, OrderStatus.ACCEPTED, broker_order_no=broker_no
    )
    shares = intent.quantity if quantity is None else quantity
    book.transition(
        intent.id,
        OrderStatus.ACCEPTED,
        OrderStatus.FILLED if shares == intent.quantity else OrderStatus.PARTIALLY_FILLED,
        filled_quantity=shares,
        average_fill_price=Decimal(price),
    )
    ledger.apply_fills(intent.id)


def test_a_sale_is_journaled_once_across_a_wipe_and_its_adoption(
    redis_client: redis.Redis, tmp_path: Path
) -> None:
    writer, book, ledger = writer_on(redis_client, tmp_path)
    held = Position("005930", "삼성전자", 300, Decimal(10_000), date(2026, 2, 27))
    redis_client.hset(KEYS.positions(), held.code, held.to_json())
    sell = OrderIntent(DAY, "005930", "삼성전자", Side.SELL, Reason.TAKE_PROFIT, 300, 10_500)
    filled(book, ledger, sell, 10_500, "0000012345", quantity=100)  # 100 of 300 so far

    [first] = writer.from_ledger(DAY)
    assert (first.sell_ref, first.quantity, first.through) == ("0000012345", 100, 100)
    assert (first.entry_session, first.sessions_held, first.reason) == (
        date(2026, 2, 27),
        1,  # 03-03 after the buy of 02-27 (03-02: Samiljeol's substitute holiday)
        "take_profit",
    )
    assert first.gross == 50_000
    assert first.net == 50_000 - COSTS.of_round_trip(ledger.realized(DAY)[0])
    assert writer.from_ledger(DAY) == []
    assert writer.from_ledger(DAY, force=True) == []

    # Redis wiped: the rebuild puts the position back and adopts KIS's sell, now all filled,
    # under another id with the same KIS order number.
    redis_client.flushdb()
    redis_client.hset(KEYS.positions(), held.code, held.to_json())
    adopted = OrderIntent(DAY, "005930", "삼성전자", Side.SELL, Reason.ADOPTED, 300, 10_500)
    filled(book, ledger, adopted, 10_500, "0000012345")
    [rest] = writer_on(redis_client, tmp_path)[0].from_ledger(DAY)  # a restarted scheduler
    assert (rest.sell_ref, rest.quantity, rest.through, rest.reason) == (
        "0000012345",
        200,
        300,
        "adopted",
    )
    entries = Journal(tmp_path, "sim").read().entries
    assert [e.quantity for e in entries] == [100, 200]
    assert sum(e.gross for e in entries) == 150_000


def test_a_sale_without_a_ledger_position_waits_for_kis(
    redis_client: redis.Redis, tmp_path: Path
) -> None:
    writer, book, ledger = writer_on(redis_client, tmp_path)
    sell = OrderIntent(DAY, "000660", "하이닉스", Side.SELL, Reason.ADOPTED, 10, 20_000)
    filled(book, ledger, sell, 20_000, "0000000777")
    [row] = ledger.realized(DAY)
    assert row.buy_session is None
    assert writer.from_ledger(DAY) == []  # no buy price: never a made-up profit


def test_sales_only_kis_knows_are_rebuilt_from_its_executions_and_the_export(
    start_sim: Callable[..., Sim], redis_url: str, redis_client: redis.Redis, tmp_path: Path
) -> None:
    """The simulator's clock at 2026-03-03 10:00 with KIS's fees and tax: a code bought and
    sold that session, another held from the export and sold; both journaled from KIS's
    executions, their net agreeing to the won with what the simulator charged."""
    sim = start_sim(
        SIM_PROFILE="kis",
        SIM_RATE_LIMIT="100",
        SIM_TOKEN_THROTTLE_SECONDS="0",
        CLOCK_START="2026-03-03T10:00:00+09:00",
        CLOCK_SPEED="1",
        CLOCK_EPOCH=f"{time.time():.3f}",
    )
    kis = connect(sim, redis_url, redis_client)
    kis.account(10_000_000, {"000660": (50, 19_000)})
    export = tmp_path / "export"
    export.mkdir()
    exported = Position("000660", "하이닉스", 50, Decimal(19_000), date(2026, 2, 26))
    (export / "positions.json").write_text(
        json.dumps({"session": "2026-03-02", "positions": [json.loads(exported.to_json())]})
    )
    kis.prices({"005930": 10_000, "000660": 20_100})
    kis.client.place(OrderRequest("005930", Side.BUY, 30))
    kis.prices({"005930": 10_550, "000660": 20_100})
    kis.client.place(OrderRequest("005930", Side.SELL, 30))
    kis.client.place(OrderRequest("000660", Side.SELL, 50))
    executions = kis.client.daily_executions(DAY)

    writer, _, _ = writer_on(redis_client, tmp_path / "data")
    added = writer.from_kis(DAY, executions, export)
    assert writer.from_kis(DAY, executions, export) == []  # once
    by_code = {e.code: e for e in added}
    assert set(by_code) == {"005930", "000660"}
    assert (by_code["005930"].entry_session, by_code["005930"].entry_price) == (
        DAY,
        Decimal(10_000),
    )
    assert (by_code["000660"].entry_session, by_code["000660"].sessions_held) == (
        date(2026, 2, 26),
        2,  # 02-27 and 03-03
    )
    assert all(e.reason == "adopted" and e.source == "kis" for e in added)

    fills = {
        (o["code"], o["side"]): o["fills"] for o in sim.admin("GET", "orders").json()["orders"]
    }
    sold_5930 = fills[("005930", "sell")]
    bought_5930 = fills[("005930", "buy")]
    net_5930 = sum(f["qty"] * f["price"] - f["fee"] - f["tax"] for f in sold_5930) - sum(
        f["qty"] * f["price"] + f["fee"] for f in bought_5930
    )
    assert by_code["005930"].net == net_5930
    sold_660 = fills[("000660", "sell")]
    cost_660 = 50 * 19_000
    net_660 = sum(f["qty"] * f["price"] - f["fee"] - f["tax"] for f in sold_660) - (
        cost_660 + COSTS.fee(Decimal(cost_660))
    )
    assert by_code["000660"].net == net_660
