"""Tokens, the rate limit, tr_id checks and error envelopes, as KIS's gateway enforces them."""

from __future__ import annotations

import hashlib
import json
import time

import requests

from tests.kis_sim.conftest import QUOTATIONS, TRADING, KisClient, KisFactory, rejection


def test_token_issue_then_throttle_answers_egw00133(kis: KisFactory) -> None:
    client = kis(login=False, SIM_TOKEN_THROTTLE_SECONDS="60")
    first = client.issue_token()
    assert first.status_code == 200
    body = first.json()
    assert body["token_type"] == "Bearer"
    assert body["access_token"]
    assert 86_300 < body["expires_in"] <= 86_400
    assert body["access_token_token_expired"].startswith("2026-03-04 10:00:")

    second = client.issue_token()
    assert second.status_code == 403
    assert second.json() == {
        "error_description": "접근토큰 발급 잠시 후 다시 시도하세요(1분당 1회)",
        "error_code": "EGW00133",
    }
    stats = client.sim.admin("GET", "stats").json()
    assert stats["token_issuances"]["total"] == 1
    assert client.app_key not in json.dumps(stats)


def test_token_request_with_bad_credentials_is_refused(client: KisClient) -> None:
    url = f"{client.sim.url}/oauth2/tokenP"
    no_key = requests.post(
        url, json={"grant_type": "client_credentials", "appsecret": "s"}, timeout=5
    )
    assert (no_key.status_code, no_key.json()["error_code"]) == (403, "EGW00103")
    body = {"grant_type": "client_credentials", "appkey": "k", "appsecret": "secret\n"}
    newline = requests.post(url, json=body, timeout=5)
    assert (newline.status_code, newline.json()["error_code"]) == (403, "EGW00105")


def test_second_request_after_the_throttle_gets_the_same_token(client: KisClient) -> None:
    first, second = client.issue_token().json(), client.issue_token().json()
    assert second["access_token"] == first["access_token"]
    assert second["access_token_token_expired"] == first["access_token_token_expired"]


def test_expired_token_answers_egw00123_and_a_new_one_works(client: KisClient) -> None:
    client.quote("005930")
    assert client.sim.admin("POST", "tokens/expire").json()["expired"] == 1
    response = client.get(
        f"{QUOTATIONS}/inquire-price",
        "FHKST01010100",
        {"FID_COND_MRKT_DIV_CODE": "J", "FID_INPUT_ISCD": "005930"},
    )
    assert rejection(response) == (500, "EGW00123", "기간이 만료된 token 입니다.")
    old = client.access_token
    client.login()
    assert client.access_token != old
    assert client.quote("005930")["stck_prpr"] != "0"


def test_unknown_token_and_foreign_app_key_answer_egw00121(client: KisClient) -> None:
    stranger = KisClient(client.sim, app_key="another-key")
    stranger.access_token = "not-a-token"
    assert rejection(stranger.balance())[:2] == (500, "EGW00121")
    stranger.access_token = client.access_token  # someone else's token
    assert rejection(stranger.balance())[:2] == (500, "EGW00121")


def test_rate_limit_answers_egw00201_and_refusals_do_not_count(kis: KisFactory) -> None:
    client = kis(SIM_RATE_LIMIT="")  # the paper default: 1 request per second
    admitted = time.monotonic()
    assert client.balance().json()["rt_cd"] == "0"
    time.sleep(0.6)
    refused = client.balance()
    assert rejection(refused) == (500, "EGW00201", "초당 거래건수를 초과하였습니다.")
    # More than 1 s after the admitted request but within 1 s of the refused one: admitted
    # only because a refusal does not take a place in the window.
    time.sleep(max(0.0, admitted + 1.15 - time.monotonic()))
    assert client.balance().json()["rt_cd"] == "0"
    stats = client.sim.admin("GET", "stats").json()
    assert stats["rate_limited"] == 1
    assert list(stats["rate_limited_by_app_key"].values()) == [1]


def test_burst_above_the_limit_is_cut_and_paced_requests_all_pass(kis: KisFactory) -> None:
    client = kis(SIM_RATE_LIMIT="4")
    codes = [client.balance().json()["msg_cd"] for _ in range(8)]
    assert codes.count("MCA00000") == 4
    assert codes.count("EGW00201") == 4
    time.sleep(1.05)
    answers = []
    for _ in range(4):
        answers.append(client.balance().json()["msg_cd"])
        time.sleep(0.3)
    assert answers == ["MCA00000"] * 4


def test_paper_rules_refuse_real_tr_ids_and_unknown_ones(client: KisClient) -> None:
    client.prefix = "T"
    assert rejection(client.balance()) == (500, "OPSQ0002", "모의투자 TR 이 아닙니다.")
    client.prefix = "X"
    status, msg_cd, _ = rejection(client.balance())
    assert (status, msg_cd) == (500, "OPSQ0001")


def test_real_rules_use_t_prefixed_tr_ids(kis: KisFactory) -> None:
    client = kis(prefix="T", SIM_RULES="real")
    assert client.balance().json()["rt_cd"] == "0"
    client.placed("buy", "005930", 1)
    client.prefix = "V"
    assert rejection(client.balance()) == (500, "OPSQ0002", "실전투자 TR 이 아닙니다.")


def test_missing_or_non_string_fields_are_named(client: KisClient) -> None:
    response = client.get(f"{TRADING}/inquire-balance", "VTTC8434R", {"ACNT_PRDT_CD": "01"})
    status, msg_cd, msg1 = rejection(response)
    assert (status, msg_cd) == (500, "OPSQ2001")
    assert "CANO" in msg1
    body = {**client.order_body("005930", 1), "ORD_QTY": 1}
    status, msg_cd, msg1 = rejection(client.post(f"{TRADING}/order-cash", "VTTC0012U", body))
    assert (status, msg_cd) == (500, "OPSQ2002")
    assert "ORD_QTY" in msg1


def test_hashkey_is_sha256_of_the_body_and_checked_on_orders(client: KisClient) -> None:
    raw = json.dumps(client.order_body("005930", 1)).encode()
    response = requests.post(
        f"{client.sim.url}/uapi/hashkey",
        data=raw,
        headers={"content-type": "application/json", "appkey": "k", "appsecret": "s"},
        timeout=5,
    )
    digest = response.json()["HASH"]
    assert digest == hashlib.sha256(raw).hexdigest()
    url = f"{client.sim.url}{TRADING}/order-cash"
    headers = client.headers("VTTC0012U")
    good = requests.post(url, data=raw, headers={**headers, "hashkey": digest}, timeout=5)
    assert good.json()["rt_cd"] == "0"
    bad = requests.post(url, data=raw, headers={**headers, "hashkey": "0" * 64}, timeout=5)
    assert rejection(bad)[:2] == (200, "SIM00008")


def test_approval_key_is_issued(client: KisClient) -> None:
    body = {"grant_type": "client_credentials", "appkey": "k", "secretkey": "s"}
    response = requests.post(f"{client.sim.url}/oauth2/Approval", json=body, timeout=5)
    assert response.status_code == 200
    assert response.json()["approval_key"]


def test_errors_are_json_never_html(client: KisClient) -> None:
    missing = requests.get(f"{client.sim.url}/uapi/domestic-stock/v1/nothing", timeout=5)
    assert (missing.status_code, missing.json()["msg_cd"]) == (404, "SIM00404")
    wrong_method = requests.get(f"{client.sim.url}{TRADING}/order-cash", timeout=5)
    assert (wrong_method.status_code, wrong_method.json()["msg_cd"]) == (405, "SIM00405")
    response = client.balance()
    assert response.headers["tr_id"] == "VTTC8434R"
    assert response.headers["gt_uid"]
