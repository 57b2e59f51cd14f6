"""KIS order numbers have one spelling from the client boundary on: 10 digits, zero-padded
(docs/ARCHITECTURE.md, 'KIS rules we rely on'). Records and claims stored before, in whatever
spelling KIS sent, are still found: they are read into today's spelling, over a real Redis."""

from __future__ import annotations

import json
import time
from datetime import date, datetime

import pytest
import redis

from shared.infra.clock import KST, SimulatedClock
from shared.infra.redis_keys import Keys
from shared.kis.models import Execution, OrderAck, Side, order_number
from shared.state.order_book import OrderBook
from shared.trading.orders import OrderIntent, OrderRecord, OrderStatus, Reason

KEYS = Keys("kat:")
SESSION = date(2026, 3, 3)
CLOCK = SimulatedClock(datetime(2026, 3, 3, 10, tzinfo=KST), 1.0, time.time())


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("0000117057", "0000117057"),
        ("117057", "0000117057"),
        (" 117057 ", "0000117057"),
        (117057, "0000117057"),
        ("12345678901", "12345678901"),
        ("", ""),
        ("0000000000", ""),
        (None, ""),
        ("A-17", "A-17"),
    ],
)
def test_order_number_spelling(sent: object, kept: str) -> None:
    assert order_number(sent) == kept


def test_kis_answers_carry_the_one_spelling() -> None:
    ack = OrderAck.from_api({"KRX_FWDG_ORD_ORGNO": "06010", "ODNO": "117057", "ORD_TMD": "1"})
    assert ack.order_no == "0000117057"
    cancel = OrderAck.from_api({"krx_fwdg_ord_orgno": "06010", "odno": "117058", "ord_tmd": "1"})
    assert cancel.order_no == "0000117058"
    row = {"ord_dt": "20260303", "sll_buy_dvsn_cd": "02", "pdno": "005930"}
    original = Execution.from_api({**row, "odno": "117057", "orgn_odno": "0000000000"})
    assert (original.order_no, original.original_order_no) == ("0000117057", "")
    cancelling = Execution.from_api({**row, "odno": "0000117058", "orgn_odno": "117057"})
    assert (cancelling.order_no, cancelling.original_order_no) == ("0000117058", "0000117057")


def stored_before(client: redis.Redis, book: OrderBook, order_no: str) -> OrderRecord:
    """An accepted record as an earlier release stored it: KIS's number as KIS sent it, and its
    claim in the broker-orders hash under the same spelling."""
    intent = OrderIntent(SESSION, "005930", "삼성전자", Side.BUY, Reason.ENTRY, 10, 70_000)
    record = book.create(intent)
    assert record is not None
    data = json.loads(record.to_json())
    data.update(status=OrderStatus.ACCEPTED.value, broker_order_no=order_no, version=3)
    client.set(KEYS.order(record.id), json.dumps(data))
    client.hset(KEYS.broker_orders(SESSION), order_no, record.id)
    return record


def test_records_and_claims_stored_in_an_old_spelling_are_still_found(
    redis_client: redis.Redis,
) -> None:
    book = OrderBook(redis_client, KEYS, CLOCK)
    record = stored_before(redis_client, book, "117057")
    read = book.get(record.id)
    assert read is not None and read.broker_order_no == "0000117057"
    assert [r.broker_order_no for r in book.of_day(SESSION)] == ["0000117057"]
    assert book.broker_owner(SESSION, "0000117057") == record.id
    assert book.broker_owner(SESSION, "0000117058") is None
