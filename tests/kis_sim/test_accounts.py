"""Cash and holdings accounting, balance paging, and limit orders that rest, fill or cancel."""

from __future__ import annotations

import time

from tests.conftest import begin_clock
from tests.kis_sim.conftest import ACCOUNT, KisClient, KisFactory, rejection


def test_balance_pages_25_holdings_by_20_rows(client: KisClient) -> None:
    holdings = [
        {"code": f"{100_000 + i * 10:06d}", "name": f"종목{i}", "qty": i + 1, "avg_price": 10_000}
        for i in range(25)
    ]
    client.sim.admin(
        "POST", "accounts", json={"account": ACCOUNT, "cash": 1_000, "holdings": holdings}
    )

    first = client.balance()
    body = first.json()
    assert first.headers["tr_cont"] == "F"
    assert len(body["output1"]) == 20
    assert isinstance(body["output2"], list) and len(body["output2"]) == 1
    second = client.balance("N", body["ctx_area_fk100"], body["ctx_area_nk100"])
    body2 = second.json()
    assert second.headers["tr_cont"] == "E"
    assert len(body2["output1"]) == 5
    seen = [row["pdno"] for row in body["output1"] + body2["output1"]]
    assert seen == sorted(h["code"] for h in holdings)
    summary = body2["output2"][0]
    assert summary["pchs_amt_smtl_amt"] == str(sum(h["qty"] * 10_000 for h in holdings))
    assert summary["dnca_tot_amt"] == "1000"

    # A next-page request must copy the context, and send it only with tr_cont: N.
    assert rejection(client.balance("N", body["ctx_area_fk100"], "garbage"))[:2] == (
        500,
        "OPSQ2002",
    )
    assert rejection(client.balance("N", "other-key", body["ctx_area_nk100"]))[1] == "OPSQ2002"
    assert rejection(client.balance("", body["ctx_area_fk100"], body["ctx_area_nk100"]))[1] == (
        "OPSQ2002"
    )


def test_single_page_balance_is_d_and_real_rules_page_by_50(kis: KisFactory) -> None:
    client = kis(prefix="T", SIM_RULES="real")
    holdings = [{"code": f"{200_000 + i:06d}", "qty": 1, "avg_price": 1_000} for i in range(30)]
    client.sim.admin("POST", "accounts", json={"account": ACCOUNT, "holdings": holdings})
    response = client.balance()
    assert response.headers["tr_cont"] == "D"
    assert len(response.json()["output1"]) == 30


def test_market_buys_and_sells_move_cash_and_average_price(client: KisClient) -> None:
    admin = client.sim.admin
    admin("POST", "prices", json={"005930": [["00:00", 70_000]]})
    assert client.summary()["dnca_tot_amt"] == "10000000"

    client.placed("buy", "005930", 10)
    admin("POST", "prices", json={"005930": [["00:00", 77_000]]})
    client.placed("buy", "005930", 10)
    row = client.holdings()["005930"]
    assert (row["hldg_qty"], row["ord_psbl_qty"], row["thdt_buyqty"]) == ("20", "20", "20")
    assert (row["pchs_amt"], row["pchs_avg_pric"]) == ("1470000", "73500.0000")
    assert (row["prpr"], row["evlu_amt"], row["evlu_pfls_amt"]) == ("77000", "1540000", "70000")
    assert row["evlu_pfls_rt"] == "4.76"

    admin("POST", "prices", json={"005930": [["00:00", 80_000]]})
    client.placed("sell", "005930", 5)
    row = client.holdings()["005930"]
    assert (row["hldg_qty"], row["pchs_amt"], row["pchs_avg_pric"]) == (
        "15",
        "1102500",
        "73500.0000",
    )
    summary = client.summary()
    cash = 10_000_000 - 700_000 - 770_000 + 400_000
    assert summary["dnca_tot_amt"] == str(cash)
    assert summary["prvs_rcdl_excc_amt"] == str(cash)
    assert summary["scts_evlu_amt"] == str(15 * 80_000)
    assert summary["tot_evlu_amt"] == str(cash + 15 * 80_000)
    assert (summary["thdt_buy_amt"], summary["thdt_sll_amt"]) == ("1470000", "400000")

    client.placed("sell", "005930", 15)
    row = client.holdings()["005930"]  # sold out today: the row stays with 0 shares
    assert (row["hldg_qty"], row["thdt_sll_qty"], row["pchs_amt"]) == ("0", "20", "0")
    assert client.summary()["dnca_tot_amt"] == str(cash + 15 * 80_000)
    buyable = client.buyable("005930")
    # A market buy is valued at the day's upper limit, as KIS values it (SIM_MARKET_BUY_VALUATION).
    upper = int(client.quote("005930")["stck_mxpr"])
    assert buyable["nrcvb_buy_qty"] == str((cash + 15 * 80_000) // upper)
    assert buyable["psbl_qty_calc_unpr"] == str(upper)


def test_short_cash_and_short_shares_are_rejected(client: KisClient) -> None:
    client.sim.admin("POST", "prices", json={"005930": [["00:00", 70_000]]})
    client.sim.admin("POST", "accounts", json={"account": ACCOUNT, "cash": 100_000})
    assert rejection(client.order("buy", "005930", 2)) == (
        200,
        "40910000",
        "모의투자 주문가능금액을 초과했습니다.",
    )
    client.placed("buy", "005930", 1)
    assert rejection(client.order("sell", "005930", 2))[:2] == (200, "SIM00006")
    assert client.summary()["dnca_tot_amt"] == "30000"


def test_real_rules_short_cash_code(kis: KisFactory) -> None:
    client = kis(prefix="T", SIM_RULES="real", SIM_INITIAL_CASH="1000")
    status, msg_cd, msg1 = rejection(client.order("buy", "005930", 1_000))
    assert (status, msg_cd) == (200, "SIM00007")
    assert "주문가능금액" in msg1


def test_order_validation(client: KisClient) -> None:
    client.sim.admin("POST", "prices", json={"005930": [["00:00", 70_000]]})
    assert rejection(client.order("buy", "5930", 1))[1] == "SIM00005"
    assert rejection(client.order("buy", "005930", 0))[1] == "SIM00003"
    assert rejection(client.order("buy", "005930", 1, division="03"))[1] == "SIM00001"
    assert rejection(client.order("buy", "005930", 1, EXCG_ID_DVSN_CD="NXT"))[1] == "SIM00002"
    assert rejection(client.order("buy", "005930", 1, division="00", price=70_050))[1] == (
        "SIM00004"  # off the 100-won tick
    )
    assert rejection(client.order("buy", "005930", 1, division="00", price=100_000))[1] == (
        "SIM00004"  # above the +30 % limit
    )
    body = client.order_body("005930", 1)
    del body["EXCG_ID_DVSN_CD"]
    response = client.post("/uapi/domestic-stock/v1/trading/order-cash", "VTTC0012U", body)
    status, msg_cd, msg1 = rejection(response)
    assert (status, msg_cd) == (500, "OPSQ2001")
    assert "EXCG_ID_DVSN_CD" in msg1


def test_limit_orders_rest_fill_when_crossed_and_cancel(client: KisClient) -> None:
    admin = client.sim.admin
    admin("POST", "prices", json={"005930": [["00:00", 70_000]]})

    # Marketable limit buy: fills at once at the current (better) price.
    client.placed("buy", "005930", 1, division="00", price=71_000)
    assert client.holdings()["005930"]["pchs_avg_pric"] == "70000.0000"

    resting = client.placed("buy", "005930", 10, division="00", price=69_000)
    rows = client.execution_rows(CCLD_DVSN="02")
    assert [(r["odno"], r["rmn_qty"], r["tot_ccld_qty"]) for r in rows] == [(resting, "10", "0")]
    assert client.buyable("005930")["ord_psbl_cash"] == str(10_000_000 - 70_000 - 690_000)

    cancelled = client.cancel(resting).json()
    assert cancelled["rt_cd"] == "0"
    assert set(cancelled["output"]) == {"krx_fwdg_ord_orgno", "odno", "ord_tmd"}
    assert cancelled["output"]["odno"] > resting
    rows = {r["odno"]: r for r in client.execution_rows()}
    assert rows[resting]["rmn_qty"] == "0"
    cancel_row = rows[cancelled["output"]["odno"]]
    assert (cancel_row["orgn_odno"], cancel_row["cncl_yn"], cancel_row["cnc_cfrm_qty"]) == (
        resting,
        "Y",
        "10",
    )
    assert client.buyable("005930")["ord_psbl_cash"] == str(10_000_000 - 70_000)
    assert rejection(client.cancel(resting))[1] == "SIM00010"

    # A resting sell fills at its own limit once the price reaches it.
    sell = client.placed("sell", "005930", 1, division="00", price=72_000)
    assert client.holdings()["005930"]["ord_psbl_qty"] == "0"
    admin("POST", "prices", json={"005930": [["00:00", 72_500]]})
    filled = {r["odno"]: r for r in client.execution_rows()}[sell]
    assert (filled["tot_ccld_qty"], filled["avg_prvs"], filled["rmn_qty"]) == ("1", "72000", "0")
    assert client.summary()["dnca_tot_amt"] == str(10_000_000 - 70_000 + 72_000)
    # Filled orders cannot be cancelled; a partial cancel cannot exceed the remainder.
    assert rejection(client.cancel(sell))[1] == "SIM00010"
    part = client.placed("buy", "005930", 5, division="00", price=60_000)
    assert rejection(client.cancel(part, qty=6))[1] == "SIM00012"
    assert client.cancel(part, qty=2).json()["rt_cd"] == "0"
    assert {r["odno"]: r for r in client.execution_rows()}[part]["rmn_qty"] == "3"


def test_unfilled_limit_orders_lapse_at_the_close(kis: KisFactory, redis_url: str) -> None:
    # Held a minute and a half before the close while the order goes in, however slow the
    # simulator's start; then one real second is a clock minute.
    start = "2026-03-03T15:28:30+09:00"
    client = kis(CLOCK_START=start, CLOCK_SPEED="60", CLOCK_HOLD="true")
    client.sim.admin("POST", "prices", json={"005930": [["00:00", 70_000]]})
    odno = client.placed("buy", "005930", 3, division="00", price=60_000)
    begin_clock(redis_url, start, 60.0)
    time.sleep(1.7)
    row = {r["odno"]: r for r in client.execution_rows()}[odno]
    assert (row["rmn_qty"], row["tot_ccld_qty"]) == ("0", "0")
    assert client.buyable("005930")["ord_psbl_cash"] == "10000000"
    assert rejection(client.cancel(odno)) == (200, "40580000", "모의투자 장종료 입니다.")
