"""Daily executions: paging by 15 rows, filters, and the legacy tr_ids."""

from __future__ import annotations

from tests.kis_sim.conftest import KisClient, KisFactory, rejection


def test_executions_page_by_15_and_filter(client: KisClient) -> None:
    client.sim.admin(
        "POST", "prices", json={"005930": [["00:00", 10_000]], "000660": [["00:00", 5_000]]}
    )
    placed = []
    for i in range(12):
        placed.append(client.placed("buy", "005930" if i % 2 else "000660", i + 1))
    for _ in range(6):
        placed.append(client.placed("sell", "005930", 1))
    placed.append(client.placed("buy", "005930", 2, division="00", price=9_000))  # rests

    first = client.executions()
    body = first.json()
    assert first.headers["tr_cont"] == "F"
    assert [r["odno"] for r in body["output1"]] == placed[::-1][:15]
    assert body["output2"]["tot_ord_qty"] == str(sum(range(1, 13)) + 6 + 2)
    second = client.executions("N", body["ctx_area_fk100"], body["ctx_area_nk100"])
    assert second.headers["tr_cont"] == "E"
    assert [r["odno"] for r in second.json()["output1"]] == placed[::-1][15:]

    oldest = client.executions(INQR_DVSN="01").json()
    assert [r["odno"] for r in oldest["output1"]] == placed[:15]
    sells = client.execution_rows(SLL_BUY_DVSN_CD="01")
    assert len(sells) == 6
    assert {(r["sll_buy_dvsn_cd"], r["pdno"]) for r in sells} == {("01", "005930")}
    assert len(client.execution_rows(PDNO="000660")) == 6
    unfilled = client.execution_rows(CCLD_DVSN="02")
    assert [(r["odno"], r["rmn_qty"]) for r in unfilled] == [(placed[-1], "2")]
    filled = client.executions(CCLD_DVSN="01")
    assert filled.headers["tr_cont"] == "F"
    assert filled.json()["output2"]["tot_ccld_qty"] == str(sum(range(1, 13)) + 6)
    one = client.execution_rows(ODNO=placed[3])
    assert [(r["odno"], r["ord_qty"], r["tot_ccld_amt"]) for r in one] == [
        (placed[3], "4", "40000")
    ]
    assert client.execution_rows(INQR_STRT_DT="20260304", INQR_END_DT="20260310") == []
    # Changing the query while paging is refused.
    changed = client.executions("N", body["ctx_area_fk100"], body["ctx_area_nk100"], PDNO="005930")
    assert rejection(changed)[:2] == (500, "OPSQ2002")


def test_real_rules_page_executions_by_100(kis: KisFactory) -> None:
    client = kis(prefix="T", SIM_RULES="real", SIM_EXECUTIONS_PAGE_SIZE="3")
    for _ in range(4):
        client.placed("buy", "005930", 1)
    first = client.executions()
    assert (first.headers["tr_cont"], len(first.json()["output1"])) == ("F", 3)


def test_legacy_tr_ids_work_without_exchange_code(client: KisClient) -> None:
    client.sim.admin("POST", "prices", json={"005930": [["00:00", 70_000]]})
    bought = client.order("buy", "005930", 3, legacy=True).json()
    assert bought["rt_cd"] == "0", bought
    sold = client.order("sell", "005930", 1, legacy=True).json()
    assert sold["rt_cd"] == "0", sold
    resting = client.order("buy", "005930", 1, division="00", price=60_000, legacy=True).json()
    cancel = client.cancel(resting["output"]["ODNO"], legacy=True).json()
    assert cancel["rt_cd"] == "0", cancel
    response = client.executions(legacy=True)
    assert response.headers["tr_id"] == "VTTC8001R"
    assert len(response.json()["output1"]) == 4
    assert client.holdings()["005930"]["hldg_qty"] == "2"
