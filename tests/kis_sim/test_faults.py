"""Injected faults: gateway 500, slow answers, malformed bodies and dropped connections."""

from __future__ import annotations

import time

import pytest
import requests

from tests.kis_sim.conftest import KisClient


def test_http_500_fault_executes_nothing(client: KisClient) -> None:
    client.sim.admin("POST", "faults", json={"kind": "http_500", "count": 1, "path": "order-cash"})
    client.quote("005930")  # another path: untouched
    response = client.order("buy", "005930", 1)
    assert response.status_code == 500
    assert "<html>" in response.text
    with pytest.raises(ValueError, match="Expecting value"):
        response.json()
    assert client.execution_rows() == []
    assert client.order("buy", "005930", 1).json()["rt_cd"] == "0"  # count used up


def test_malformed_fault_executes_and_truncates(client: KisClient) -> None:
    client.sim.admin("POST", "faults", json={"kind": "malformed", "count": 1})
    response = client.order("buy", "005930", 1)
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()
    assert len(client.execution_rows()) == 1


def test_slow_fault_delays_then_answers(client: KisClient) -> None:
    client.sim.admin("POST", "faults", json={"kind": "slow", "count": 2, "delay_seconds": 0.4})
    for _ in range(2):
        started = time.monotonic()
        client.quote("005930")
        assert time.monotonic() - started >= 0.4
    started = time.monotonic()
    client.quote("005930")
    assert time.monotonic() - started < 0.3
    stats = client.sim.admin("GET", "stats").json()
    assert stats["faults_applied"] == {"slow": 2}


def test_drop_response_executes_the_order_once_and_drops_the_connection(client: KisClient) -> None:
    client.sim.admin("POST", "faults", json={"kind": "drop_response", "path": "order-cash"})
    with pytest.raises(requests.ConnectionError):
        client.order("buy", "005930", 7)
    rows = client.execution_rows()
    assert [(r["ord_qty"], r["tot_ccld_qty"]) for r in rows] == [("7", "7")]
    assert client.holdings()["005930"]["hldg_qty"] == "7"
    output = client.sim.service.output()
    assert "Traceback" not in output
    assert " ERROR " not in output


def test_faults_can_be_cleared(client: KisClient) -> None:
    client.sim.admin("POST", "faults", json={"kind": "http_500", "count": 5})
    assert len(client.sim.admin("GET", "stats").json()["faults_armed"]) == 1
    client.sim.admin("DELETE", "faults")
    assert client.quote("005930")["stck_prpr"] != "0"
    bad = requests.post(f"{client.sim.url}/sim/faults", json={"kind": "nope"}, timeout=5)
    assert bad.status_code == 400
    assert "kind" in bad.json()["error"]


def test_reset_forgets_everything(client: KisClient) -> None:
    client.placed("buy", "005930", 1)
    client.sim.admin("POST", "reset")
    response = client.balance()
    assert response.json()["msg_cd"] == "EGW00121"  # tokens are gone too
    client.login()
    assert client.holdings() == {}
    assert client.sim.admin("GET", "stats").json()["orders"] == 0


def test_rate_limited_fault_answers_egw00201_and_executes_nothing(client: KisClient) -> None:
    # An EGW00201 storm whatever the real rate: KIS's own refusal, before anything is done.
    client.sim.admin("POST", "faults", json={"kind": "rate_limited", "count": 2})
    for _ in range(2):
        response = client.order("buy", "005930", 1)
        assert response.status_code == 500
        assert (response.json()["rt_cd"], response.json()["msg_cd"]) == ("1", "EGW00201")
    assert client.execution_rows() == []
    assert client.order("buy", "005930", 1).json()["rt_cd"] == "0"  # count used up
