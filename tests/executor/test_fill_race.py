"""Two writers of one order's fills racing: a realtime fill notice is applied while an executions
read of the same order is in flight, and the order's filled count never goes down.

The executor's own code runs in two threads over a real Redis; KIS is a small HTTP server that
answers like KIS and holds the executions answer until the notice was applied, so the race
happens every time (docs/ARCHITECTURE.md, 'Fills and the ledger').
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from services.executor.context import Context, build_context
from services.executor.notices import FillNotices
from services.executor.reconcile import Reconciler
from shared.infra.settings import load_settings
from shared.kis import Side
from shared.kis.stream_frames import FillNotice
from shared.trading.orders import OrderIntent, OrderRecord, OrderStatus, Reason
from tests.conftest import TUESDAY_10AM, service_env, wait_for
from tests.executor.conftest import SAMSUNG, SESSION
from tests.kis_client.scripted_kis import Reply, ScriptedKis

EXECUTIONS = "/uapi/domestic-stock/v1/trading/inquire-daily-ccld"
ORDER_NO = "0000000007"
PRICE = 70_000


@pytest.fixture
def kis() -> Iterator[ScriptedKis]:
    server = ScriptedKis()
    yield server
    server.close()


@pytest.fixture
def ctx(kis: ScriptedKis, redis_url: str) -> Context:
    """The executor's context, talking to the scripted KIS on a simulated Tuesday."""
    env = service_env(
        redis_url,
        KIS_BASE_URL=kis.url,
        KIS_RATE_LIMIT="100",
        KIS_TOKEN_ISSUE_INTERVAL_SECONDS="0",
        CLOCK_START=TUESDAY_10AM,
        CLOCK_EPOCH=f"{time.time():.3f}",
    )
    return build_context(load_settings(env))


def accepted_buy(ctx: Context, quantity: int = 10) -> OrderRecord:
    """A market buy KIS accepted as ORDER_NO, recorded as the placing job records it."""
    intent = OrderIntent(SESSION, SAMSUNG, "삼성전자", Side.BUY, Reason.ENTRY, quantity, PRICE)
    record = ctx.book.create(intent)
    assert record is not None
    assert ctx.book.transition(record.id, OrderStatus.PENDING, OrderStatus.SUBMITTING)
    accepted = ctx.book.transition(
        record.id,
        OrderStatus.SUBMITTING,
        OrderStatus.ACCEPTED,
        broker_order_no=ORDER_NO,
        broker_branch_no="06010",
    )
    assert accepted is not None
    return accepted


def fill(shares: int, hhmmss: str) -> FillNotice:
    """KIS's realtime notice of one fill of ORDER_NO."""
    return FillNotice(ORDER_NO, SAMSUNG, "buy", shares, PRICE, True, hhmmss, order_quantity=10)


def executions(filled: int, quantity: int = 10) -> dict[str, Any]:
    """KIS's ``inquire-daily-ccld`` answer listing ORDER_NO with ``filled`` shares filled."""
    row = {
        "ord_dt": SESSION.strftime("%Y%m%d"),
        "odno": ORDER_NO,
        "orgn_odno": "",
        "ord_gno_brno": "06010",
        "sll_buy_dvsn_cd": "02",
        "pdno": SAMSUNG,
        "prdt_name": "삼성전자",
        "ord_qty": str(quantity),
        "ord_unpr": "0",
        "ord_tmd": "100000",
        "tot_ccld_qty": str(filled),
        "avg_prvs": str(PRICE),
        "tot_ccld_amt": str(PRICE * filled),
        "rmn_qty": str(quantity - filled),
        "rjct_qty": "0",
        "cncl_yn": "N",
    }
    return {"rt_cd": "0", "msg_cd": "MCA00000", "msg1": "ok", "output1": [row], "output2": {}}


def held(ctx: Context) -> int:
    position = ctx.ledger.get(SAMSUNG)
    return position.quantity if position is not None else 0


@pytest.mark.parametrize(("listed", "expected"), [(3, 5), (6, 6)])
def test_a_notice_applied_during_an_executions_read_is_never_taken_back(
    kis: ScriptedKis, ctx: Context, listed: int, expected: int
) -> None:
    record = accepted_buy(ctx)
    notices = FillNotices(ctx, owner_wait_seconds=0)
    assert notices.apply(fill(2, "100001")) == "applied"
    assert ctx.book.get(record.id).filled_quantity == 2  # type: ignore[union-attr]

    # KIS's executions list ``listed`` shares; they answer only once the next notice is applied.
    notice_applied = threading.Event()
    kis.script(EXECUTIONS, Reply(200, executions(listed), hold=notice_applied))
    errors: list[BaseException] = []

    def reconcile() -> None:
        try:
            Reconciler(ctx).reconcile_session(SESSION)
        except BaseException as e:  # reported by the test below
            errors.append(e)

    reconciling = threading.Thread(target=reconcile)
    reconciling.start()
    try:
        wait_for(lambda: kis.requests_to(EXECUTIONS), what="the executions read in flight")
        assert notices.apply(fill(3, "100002")) == "applied"  # 5 of 10 now
    finally:
        notice_applied.set()
        reconciling.join(30)
    assert not reconciling.is_alive() and not errors, errors

    after = ctx.book.get(record.id)
    assert after is not None
    assert after.status is OrderStatus.PARTIALLY_FILLED
    assert after.filled_quantity == expected
    assert after.applied_quantity == expected
    assert after.average_fill_price == Decimal(PRICE)
    assert held(ctx) == expected
