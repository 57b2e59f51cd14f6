"""Price limits (±30 % of the previous close): the quote's sign at a limit and, with
SIM_LIMIT_LOCK=on, KRX's locked limit: buys queue at the upper limit, sells at the lower."""

from __future__ import annotations

from typing import Any

from tests.kis_sim.conftest import ACCOUNT, KisClient, KisFactory

YESTERDAY = "2026-03-02T09:00"
"""The session before fast_env's day (2026-03-03): its close is 70,000, so the limits of the
day are 91,000 and 49,000."""


def script(client: KisClient, *today: tuple[str, int]) -> None:
    points = [[YESTERDAY, 70_000], *[[f"2026-03-03T{hhmm}", p] for hhmm, p in today]]
    client.sim.admin("POST", "prices", json={"005930": points})


def row(client: KisClient, odno: str) -> dict[str, Any]:
    return {r["odno"]: r for r in client.execution_rows()}[odno]


def with_shares(client: KisClient, qty: int) -> None:
    holding = {"code": "005930", "name": "삼성전자", "qty": qty, "avg_price": 70_000}
    client.sim.admin(
        "POST", "accounts", json={"account": ACCOUNT, "cash": 10_000_000, "holdings": [holding]}
    )


def test_the_quote_signs_a_price_at_a_limit(client: KisClient) -> None:
    script(client, ("09:00", 91_000))
    quote = client.quote("005930")
    assert (quote["stck_prpr"], quote["stck_mxpr"], quote["prdy_vrss_sign"]) == (
        "91000",
        "91000",
        "1",
    )
    script(client, ("09:00", 49_000))
    assert client.quote("005930")["prdy_vrss_sign"] == "4"


def test_locked_at_the_upper_limit_buys_queue_and_sells_fill(kis: KisFactory) -> None:
    client = kis(SIM_LIMIT_LOCK="on")
    with_shares(client, 5)
    script(client, ("09:00", 91_000))
    market_buy = client.placed("buy", "005930", 2)
    limit_buy = client.placed("buy", "005930", 1, division="00", price=91_000)
    assert [row(client, o)["tot_ccld_qty"] for o in (market_buy, limit_buy)] == ["0", "0"]
    assert [row(client, o)["rmn_qty"] for o in (market_buy, limit_buy)] == ["2", "1"]
    # The queued market buy works at the limit it met.
    assert row(client, market_buy)["ord_unpr"] == "91000"
    sell = client.placed("sell", "005930", 1)
    assert (row(client, sell)["tot_ccld_qty"], row(client, sell)["avg_prvs"]) == ("1", "91000")
    # The price comes off the limit: the queue fills at its price.
    script(client, ("09:00", 91_000), ("10:00", 90_000))
    for odno in (market_buy, limit_buy):
        assert (row(client, odno)["rmn_qty"], row(client, odno)["avg_prvs"]) == ("0", "91000")


def test_locked_at_the_lower_limit_sells_queue_and_buys_fill(kis: KisFactory) -> None:
    client = kis(SIM_LIMIT_LOCK="on")
    with_shares(client, 5)
    script(client, ("09:00", 49_000))
    sell = client.placed("sell", "005930", 3)
    assert (row(client, sell)["tot_ccld_qty"], row(client, sell)["ord_unpr"]) == ("0", "49000")
    buy = client.placed("buy", "005930", 1)
    assert row(client, buy)["tot_ccld_qty"] == "1"
    script(client, ("09:00", 49_000), ("10:00", 49_500))
    assert (row(client, sell)["tot_ccld_qty"], row(client, sell)["avg_prvs"]) == ("3", "49000")


def test_without_the_lock_a_buy_at_the_upper_limit_fills_at_once(client: KisClient) -> None:
    script(client, ("09:00", 91_000))
    buy = client.placed("buy", "005930", 1)
    assert (row(client, buy)["tot_ccld_qty"], row(client, buy)["avg_prvs"]) == ("1", "91000")
