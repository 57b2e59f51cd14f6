"""Conformance: python-kis, a KIS client this project did not write, against the simulator.

python-kis (PyPI ``python-kis``, github.com/Soju06/python-kis) is the most used Python client
of KIS's REST API. It has no base-URL option: its hosts are module constants that
``pykis.kis.PyKis.request`` reads, so the test points them at the simulator with
``monkeypatch`` (nothing else of it is patched). It runs in both dialects: the simulator with
paper rules (python-kis in 모의투자 mode: V-prefixed trading tr_ids, quotes on the "real" key)
and with real rules (T-prefixed). What it cannot do against the simulator is listed, with the
reason, in tests/conformance/README.md; the tests below pin each of those too.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pykis.kis
import pytest
from pykis import KisAccessToken, PyKis
from pykis.api.account.balance import domestic_balance
from pykis.api.account.daily_order import domestic_daily_orders
from pykis.api.account.order import domestic_order
from pykis.api.account.order_modify import domestic_cancel_order
from pykis.api.account.orderable_amount import domestic_orderable_amount
from pykis.api.stock.quote import domestic_quote
from pykis.client.exceptions import KisHTTPError

from shared.infra.clock import KST
from shared.trading.market_calendar import KrxCalendar
from tests.conftest import Sim, SimPool

pytestmark = pytest.mark.slow

ACCOUNT = "50000000-01"
CASH = 10_000_000
CODE = "005930"
PRICE = 70_000
HOLDINGS = [
    {"code": f"00{i}000", "name": f"보유종목{i}", "qty": 10 * i, "avg_price": 10_000}
    for i in range(1, 6)
]
"""Five holdings: three balance pages at two rows a page."""

# python-kis checks the shape of keys: 36 characters for an app key, 180 for a secret.
REAL_KEY = ("PSconformanceRealAppKey" + "0" * 36)[:36]
REAL_SECRET = "conformance-real-secret/" + "r" * 156
PAPER_KEY = ("PSconformancePaperAppKey" + "0" * 36)[:36]
PAPER_SECRET = "conformance-paper-secret/" + "p" * 155


@dataclass
class Venue:
    """A simulator in one dialect, and python-kis pointed at it."""

    rules: str
    sim: Sim
    kis: PyKis
    day: date

    def stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = self.sim.admin("GET", "stats").json()
        return stats

    def sim_orders(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.sim.admin("GET", "orders").json()["orders"]
        return rows


def trading_day() -> date:
    """The next KRX session from today (KST) on.

    python-kis compares tokens' expiry and the daily-orders range with the machine's clock,
    so the simulated day must not lie in the past.
    """
    return KrxCalendar().next_session(datetime.now(KST).date()).day


@pytest.fixture(params=["paper", "real"])
def venue(
    request: pytest.FixtureRequest,
    sim_pool: SimPool,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Venue]:
    rules: str = request.param
    day = trading_day()
    sim = sim_pool(
        start=datetime.combine(day, datetime.min.time(), KST).replace(hour=11).isoformat(),
        SIM_RULES=rules,
        # Sim settings, not rules: pages of two rows so a handful of rows spans pages.
        SIM_BALANCE_PAGE_SIZE="2",
        SIM_EXECUTIONS_PAGE_SIZE="2",
    ).sim
    sim.admin("POST", "accounts", json={"account": ACCOUNT, "cash": CASH, "holdings": HOLDINGS})
    sim.admin("POST", "prices", json={CODE: [["09:00", PRICE]], "names": {CODE: "삼성전자"}})
    # python-kis has no base-URL option: both of its hosts are module constants.
    monkeypatch.setattr(pykis.kis, "REAL_DOMAIN", sim.url)
    monkeypatch.setattr(pykis.kis, "VIRTUAL_DOMAIN", sim.url)
    kis = python_kis(rules)
    assert kis.virtual == (rules == "paper")
    yield Venue(rules, sim, kis, day)


def python_kis(rules: str) -> PyKis:
    """python-kis for KIS's paper host (모의투자: a real and a paper key) or its real host."""
    common: dict[str, Any] = {
        "id": "conformance",
        "account": ACCOUNT,
        "appkey": REAL_KEY,
        "secretkey": REAL_SECRET,
        "use_websocket": False,
        "keep_token": False,
    }
    if rules == "paper":
        return PyKis(
            **common,
            virtual_id="conformance",
            virtual_appkey=PAPER_KEY,
            virtual_secretkey=PAPER_SECRET,
        )
    return PyKis(**common)


def test_token_quote_balance_and_buyable_cash(venue: Venue) -> None:
    kis = venue.kis
    token = kis.token if venue.rules == "real" else kis.primary_token
    assert isinstance(token, KisAccessToken)
    assert token.token and not token.expired

    quote = domestic_quote(kis, CODE)
    sim_quote = venue.sim.admin("GET", f"price/{CODE}").json()["output"]
    assert quote.price == PRICE
    assert (quote.high_limit, quote.low_limit) == (
        Decimal(sim_quote["stck_mxpr"]),
        Decimal(sim_quote["stck_llam"]),
    )
    assert quote.tick == 100

    balance = domestic_balance(kis, ACCOUNT)
    # Five holdings at two rows a page: python-kis followed tr_cont over three pages.
    assert [(s.symbol, s.qty) for s in balance.stocks] == [(h["code"], h["qty"]) for h in HOLDINGS]
    assert balance.deposits["KRW"].amount == CASH

    market = domestic_orderable_amount(kis, ACCOUNT, CODE, price=None)
    assert market.amount == CASH
    # KIS values a market buy at the day's upper limit (stck_mxpr) when it checks cash.
    assert market.quantity == CASH // int(sim_quote["stck_mxpr"])
    limit = domestic_orderable_amount(kis, ACCOUNT, CODE, price=50_000)
    assert limit.quantity == CASH // 50_000

    stats = venue.stats()
    # One token per app key (paper: the real key for quotes, the paper key for trading), kept.
    assert stats["token_issuances"]["total"] == (2 if venue.rules == "paper" else 1)
    assert not set(stats["rejections"]) - {"EGW00201"}, stats["rejections"]


def test_orders_cancel_and_daily_executions(venue: Venue) -> None:
    kis = venue.kis
    market_buy = domestic_order(kis, ACCOUNT, CODE, "buy", None, 3)
    limit_buy = domestic_order(kis, ACCOUNT, CODE, "buy", 60_000, 2)
    market_sell = domestic_order(kis, ACCOUNT, CODE, "sell", None, 1)
    limit_sell = domestic_order(kis, ACCOUNT, CODE, "sell", 80_000, 1)
    numbers = [o.number for o in (market_buy, limit_buy, market_sell, limit_sell)]
    assert len(set(numbers)) == 4
    assert all(o.branch for o in (market_buy, limit_buy, market_sell, limit_sell))

    # The cancel reaches the simulator and is carried out; python-kis then reads the answer's
    # output in upper case (ORD_TMD), where KIS documents lower case: see README.md.
    with pytest.raises(KeyError, match="ORD_TMD"):
        domestic_cancel_order(kis, limit_buy)
    at_sim = {o["odno"]: o for o in venue.sim_orders()}
    [cancel] = [o for o in at_sim.values() if o["cancel_of"]]
    assert cancel["cancel_of"] == limit_buy.number
    assert cancel["qty"] == 2

    # Four orders and the cancel, at two rows a page: three pages.
    daily = domestic_daily_orders(kis, ACCOUNT, venue.day, venue.day)
    rows = sorted(
        (o.number, o.type, int(o.qty), int(o.executed_qty), o.price) for o in daily.orders
    )
    assert rows == sorted(
        [
            (market_buy.number, "buy", 3, 3, Decimal(PRICE)),
            (limit_buy.number, "buy", 2, 0, Decimal(0)),
            (market_sell.number, "sell", 1, 1, Decimal(PRICE)),
            (limit_sell.number, "sell", 1, 0, Decimal(0)),
            (cancel["odno"], "buy", 2, 0, Decimal(0)),
        ]
    )
    assert {o.symbol for o in daily.orders} == {CODE}
    # python-kis reads "cancelled" from ccld_yn, which KIS does not send (it sends cncl_yn).
    assert not any(o.canceled for o in daily.orders)
    assert all(o.time_kst.date() == venue.day for o in daily.orders)

    balance = domestic_balance(kis, ACCOUNT)
    held = {s.symbol: s.qty for s in balance.stocks}
    assert held[CODE] == 2
    assert balance.deposits["KRW"].amount == CASH - 3 * PRICE + PRICE

    stats = venue.stats()
    assert (stats["orders"], stats["cancels"]) == (4, 1)
    assert not set(stats["rejections"]) - {"EGW00201"}, stats["rejections"]


def test_the_other_dialects_trading_tr_ids_are_refused(venue: Venue) -> None:
    # python-kis set up for the other host sends the other prefix (T on paper, V on real).
    other = python_kis("real" if venue.rules == "paper" else "paper")
    with pytest.raises(KisHTTPError) as caught:
        domestic_order(other, ACCOUNT, CODE, "buy", None, 1)
    expected = "모의투자 TR 이 아닙니다." if venue.rules == "paper" else "실전투자 TR 이 아닙니다."
    assert expected in str(caught.value)
    assert venue.sim_orders() == []


def test_holiday_check_through_the_generic_fetch(venue: Venue) -> None:
    # python-kis has no holiday call; its public fetch() sends any TR with its auth, limiter
    # and paging. Against KIS it only works on the real host (real keys), as here.
    answer = venue.kis.fetch(
        "/uapi/domestic-stock/v1/quotations/chk-holiday",
        api="CTCA0903R",
        params={"BASS_DT": venue.day.strftime("%Y%m%d"), "CTX_AREA_NK": "", "CTX_AREA_FK": ""},
        domain="real",
    )
    # Its generic answer is a KisDynamicDict: the body's keys as attributes.
    days = {row.bass_dt: row.opnd_yn for row in answer.output}
    assert days[venue.day.strftime("%Y%m%d")] == "Y"
    calendar = KrxCalendar()
    for offset in range(1, 8):
        other = venue.day + timedelta(days=offset)
        expected = "Y" if calendar.is_session(other) else "N"
        assert days[other.strftime("%Y%m%d")] == expected


def test_what_python_kis_cannot_do_against_the_simulator(venue: Venue) -> None:
    # Product info (search-info, CTPF1604R): python-kis's repr, names and kis.stock() need it.
    with pytest.raises(KisHTTPError) as caught:
        repr(domestic_quote(venue.kis, CODE))
    assert "search-info" in str(caught.value)
    # Revise (정정): in paper python-kis refuses on its own (KIS's paper host has no
    # revisable-orders list); in real it reads that list (TTTC8036R), which the simulator
    # serves, then needs product info for the revise itself.
    order = domestic_order(venue.kis, ACCOUNT, CODE, "buy", 60_000, 1)
    if venue.rules == "paper":
        with pytest.raises(NotImplementedError):
            order.modify(price=61_000)
    else:
        with pytest.raises(KisHTTPError) as caught:
            order.modify(price=61_000)
        assert "search-info" in str(caught.value)
        assert venue.stats()["requests_by_tr"]["TTTC8036R"] >= 1
