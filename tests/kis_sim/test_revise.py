"""Revise (정정, order-rvsecncl with RVSE_CNCL_DVSN_CD 01) and the revisable-orders list
(inquire-psbl-rvsecncl), spoken to the simulator as KIS's official samples do."""

from __future__ import annotations

from typing import Any

from tests.kis_sim.conftest import ACCOUNT, KisClient, KisFactory, rejection


def ok(response: Any) -> dict[str, Any]:
    body = response.json()
    assert body["rt_cd"] == "0", body
    return dict(body)


def rows_by_odno(client: KisClient) -> dict[str, dict[str, str]]:
    return {r["odno"]: r for r in client.execution_rows()}


def flat(client: KisClient, price: int) -> None:
    client.sim.admin("POST", "prices", json={"005930": [["00:00", price]]})


def test_a_revise_to_a_marketable_price_fills_at_once_as_a_new_order(client: KisClient) -> None:
    flat(client, 70_000)
    original = client.placed("buy", "005930", 3, division="00", price=60_000)
    answer = ok(client.revise(original, 70_000))["output"]
    assert set(answer) == {"krx_fwdg_ord_orgno", "odno", "ord_tmd"}
    revised = answer["odno"]
    assert int(revised) > int(original)
    rows = rows_by_odno(client)
    assert (rows[original]["rmn_qty"], rows[original]["tot_ccld_qty"]) == ("0", "0")
    assert rows[revised]["orgn_odno"] == original
    assert (rows[revised]["ord_qty"], rows[revised]["ord_unpr"]) == ("3", "70000")
    assert (rows[revised]["tot_ccld_qty"], rows[revised]["avg_prvs"]) == ("3", "70000")
    assert rows[revised]["cncl_yn"] == "N"
    assert client.holdings()["005930"]["hldg_qty"] == "3"
    assert client.buyable("005930", "70000", "00")["ord_psbl_cash"] == str(10_000_000 - 210_000)
    # Nothing is left to revise or cancel on either order.
    assert rejection(client.revise(original, 70_000))[1] == "SIM00010"
    assert rejection(client.cancel(revised))[1] == "SIM00010"


def test_a_partial_revise_rests_at_its_new_price_and_fills_when_the_price_comes(
    client: KisClient,
) -> None:
    flat(client, 70_000)
    original = client.placed("buy", "005930", 3, division="00", price=60_000)
    revised = ok(client.revise(original, 65_000, qty=1))["output"]["odno"]
    rows = rows_by_odno(client)
    assert rows[original]["rmn_qty"] == "2" and rows[revised]["rmn_qty"] == "1"
    # The reservation follows the terms: 2 x 60,000 + 1 x 65,000.
    assert client.buyable("005930", "70000", "00")["ord_psbl_cash"] == str(10_000_000 - 185_000)
    flat(client, 65_000)
    rows = rows_by_odno(client)
    assert (rows[revised]["tot_ccld_qty"], rows[revised]["avg_prvs"]) == ("1", "65000")
    assert (rows[original]["tot_ccld_qty"], rows[original]["rmn_qty"]) == ("0", "2")
    # A revise quantity above the remainder is refused.
    assert rejection(client.revise(original, 61_000, qty=3))[1] == "SIM00012"


def test_a_revise_the_cash_cannot_carry_is_refused_and_changes_nothing(client: KisClient) -> None:
    client.sim.admin("POST", "accounts", json={"account": ACCOUNT, "cash": 150_000})
    flat(client, 70_000)
    original = client.placed("buy", "005930", 2, division="00", price=60_000)
    assert rejection(client.revise(original, 90_000))[1] == "40910000"
    assert rows_by_odno(client)[original]["rmn_qty"] == "2"
    assert len(client.execution_rows()) == 1
    assert client.buyable("005930", "60000", "00")["ord_psbl_cash"] == str(150_000 - 120_000)
    # Off the tick or past the daily limit (70,000 + 30 % = 91,000) is refused too.
    assert rejection(client.revise(original, 60_050))[1] == "SIM00004"
    assert rejection(client.revise(original, 91_100))[1] == "SIM00004"


def test_a_sell_revised_to_market_fills_at_once(client: KisClient) -> None:
    flat(client, 70_000)
    client.placed("buy", "005930", 5)
    original = client.placed("sell", "005930", 5, division="00", price=80_000)
    revised = ok(client.revise(original, 0, qty=2, division="01"))["output"]["odno"]
    rows = rows_by_odno(client)
    assert (rows[revised]["tot_ccld_qty"], rows[revised]["avg_prvs"]) == ("2", "70000")
    assert rows[revised]["ord_dvsn_cd"] == "01"
    assert rows[original]["rmn_qty"] == "3"
    assert client.holdings()["005930"]["hldg_qty"] == "3"


def test_the_revisable_list_pages_by_50_and_filters_sides(kis: KisFactory) -> None:
    client = kis(SIM_RULES="real", prefix="T")
    flat(client, 70_000)
    client.placed("buy", "005930", 1)
    client.placed("sell", "005930", 1, division="00", price=80_000)
    buys = [client.placed("buy", "005930", 1, division="00", price=60_000) for _ in range(51)]
    revised = ok(client.revise(buys[0], 61_000))["output"]["odno"]
    first = client.revisable(sides="2")
    body = ok(first)
    assert first.headers["tr_cont"] == "F" and len(body["output"]) == 50
    row = body["output"][0]
    assert row["odno"] == buys[1]  # buys[0] was wholly revised: nothing left on it
    assert (row["psbl_qty"], row["ord_unpr"], row["sll_buy_dvsn_cd"]) == ("1", "60000", "02")
    following = client.revisable(
        sides="2", tr_cont="N", fk=body["ctx_area_fk100"], nk=body["ctx_area_nk100"]
    )
    rest = ok(following)["output"]
    assert following.headers["tr_cont"] == "E"
    assert [r["odno"] for r in rest] == [revised]  # after buys[1..50]
    assert (rest[-1]["orgn_odno"], rest[-1]["rvse_cncl_dvsn_name"]) == (buys[0], "정정")
    [sell] = ok(client.revisable(sides="1"))["output"]
    assert (sell["sll_buy_dvsn_cd"], sell["psbl_qty"]) == ("01", "1")


def test_the_revisable_list_is_real_only_as_at_kis(client: KisClient) -> None:
    # Official inquire_psbl_rvsecncl.py: TTTC0084R, no paper id (모의투자 미지원).
    assert rejection(client.revisable())[:2] == (500, "OPSQ0002")
    paper_id = client.get(
        "/uapi/domestic-stock/v1/trading/inquire-psbl-rvsecncl",
        "VTTC0084R",
        {"CANO": client.cano, "ACNT_PRDT_CD": client.product},
    )
    assert rejection(paper_id)[:2] == (500, "OPSQ0001")
