"""Gateway faults after execution, fills that show late, and market orders filled in two parts."""

from __future__ import annotations

import time

from tests.kis_sim.conftest import KisClient, KisFactory


def test_http_500_after_execution_places_and_fills_the_order(client: KisClient) -> None:
    client.sim.admin("POST", "prices", json={"005930": [["00:00", 70_000]]})
    client.sim.admin("POST", "faults", json={"kind": "http_500_after", "path": "order-cash"})
    response = client.order("buy", "005930", 4)
    assert response.status_code == 500
    body = response.json()
    assert (body["rt_cd"], body["msg_cd"]) == ("1", "EGW00002")
    [row] = client.execution_rows()
    assert (row["ord_qty"], row["tot_ccld_qty"], row["avg_prvs"]) == ("4", "4", "70000")
    assert client.holdings()["005930"]["hldg_qty"] == "4"
    # Used up: the next order answers normally.
    assert client.order("buy", "005930", 1).json()["rt_cd"] == "0"


def test_empty_http_500_after_execution(client: KisClient) -> None:
    client.sim.admin("POST", "faults", json={"kind": "http_500_after_empty", "path": "order-cash"})
    response = client.order("buy", "005930", 2)
    assert (response.status_code, response.content) == (500, b"")
    assert [r["tot_ccld_qty"] for r in client.execution_rows()] == ["2"]
    stats = client.sim.admin("GET", "stats").json()
    assert stats["faults_applied"] == {"http_500_after_empty": 1}


def test_execution_lag_setting_hides_fills_from_daily_executions(kis: KisFactory) -> None:
    client = kis(SIM_EXECUTION_LAG_SECONDS="1.5")
    client.sim.admin("POST", "prices", json={"005930": [["00:00", 70_000]]})
    odno = client.placed("buy", "005930", 3)
    placed = time.monotonic()
    [row] = client.execution_rows()
    assert (row["odno"], row["tot_ccld_qty"], row["rmn_qty"], row["avg_prvs"]) == (
        odno,
        "0",
        "3",
        "0",
    )
    assert [r["odno"] for r in client.execution_rows(CCLD_DVSN="02")] == [odno]
    assert client.execution_rows(CCLD_DVSN="01") == []
    # The balance knows at once; only the execution inquiry lags.
    assert client.holdings()["005930"]["hldg_qty"] == "3"
    time.sleep(max(0.0, placed + 1.6 - time.monotonic()))
    [row] = client.execution_rows()
    assert (row["tot_ccld_qty"], row["rmn_qty"], row["tot_ccld_amt"]) == ("3", "0", "210000")
    assert client.execution_rows(CCLD_DVSN="02") == []


def test_fill_lag_fault_delays_only_the_next_order(client: KisClient) -> None:
    client.sim.admin("POST", "faults", json={"kind": "fill_lag", "delay_seconds": 30})
    lagged = client.placed("buy", "005930", 1)
    prompt = client.placed("buy", "005930", 2)
    rows = {r["odno"]: r["tot_ccld_qty"] for r in client.execution_rows()}
    assert rows == {lagged: "0", prompt: "2"}
    assert client.executions().json()["output2"]["tot_ccld_qty"] == "2"


def test_partial_fill_fault_splits_a_market_order_in_two_executions(client: KisClient) -> None:
    client.sim.admin("POST", "prices", json={"005930": [["00:00", 70_000]]})
    client.sim.admin("POST", "faults", json={"kind": "partial_fill", "delay_seconds": 1})
    odno = client.placed("buy", "005930", 11)
    placed = time.monotonic()
    [row] = client.execution_rows()
    assert (row["tot_ccld_qty"], row["rmn_qty"], row["avg_prvs"]) == ("6", "5", "70000")
    assert client.holdings()["005930"]["hldg_qty"] == "6"
    time.sleep(max(0.0, placed + 1.3 - time.monotonic()))
    [row] = client.execution_rows()
    # 6 at 70,000 and 5 one tick worse at 70,100: cumulative quantity and average.
    assert (row["odno"], row["tot_ccld_qty"], row["rmn_qty"]) == (odno, "11", "0")
    assert (row["tot_ccld_amt"], row["avg_prvs"]) == ("770500", str(770_500 // 11))
    [order] = client.sim.admin("GET", "orders").json()["orders"]
    assert [(f["qty"], f["price"]) for f in order["fills"]] == [(6, 70_000), (5, 70_100)]
    assert client.holdings()["005930"]["pchs_amt"] == "770500"


def test_partial_fill_without_delay_fills_both_parts_at_once(client: KisClient) -> None:
    client.sim.admin("POST", "prices", json={"000660": [["00:00", 230_000]]})
    client.sim.admin("POST", "faults", json={"kind": "partial_fill"})
    client.placed("buy", "000660", 3)
    [row] = client.execution_rows()
    assert (row["tot_ccld_qty"], row["tot_ccld_amt"]) == ("3", str(2 * 230_000 + 230_500))
    [order] = client.sim.admin("GET", "orders").json()["orders"]
    assert len(order["fills"]) == 2
