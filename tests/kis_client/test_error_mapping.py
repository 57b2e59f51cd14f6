"""Every KIS answer the client can get, over real HTTP, maps to the exception that tells the
caller what to do — decided from the body, whatever the HTTP status."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import redis

from shared.infra.clock import build_clock
from shared.infra.settings import load_settings
from shared.kis import (
    KisAuthError,
    KisInsufficientFunds,
    KisMarketClosed,
    KisOutcomeUnknown,
    KisProtocolError,
    KisRateLimited,
    KisRejected,
    KisTemporaryError,
    KisTokenExpired,
    KisTokenThrottled,
)
from shared.kis.client import KisClient, build_client
from tests.conftest import free_port, scratch_data_dir
from tests.kis_client.scripted_kis import Reply, ScriptedKis, kis_error, kis_ok

PRICE = "/uapi/domestic-stock/v1/quotations/inquire-price"
ORDER = "/uapi/domestic-stock/v1/trading/order-cash"
PRICE_OUTPUT = {"stck_prpr": "70000", "aspr_unit": "100"}
ORDER_OUTPUT = {"KRX_FWDG_ORD_ORGNO": "06010", "ODNO": "0000000001", "ORD_TMD": "100000"}


@pytest.fixture
def kis() -> Iterator[ScriptedKis]:
    server = ScriptedKis()
    yield server
    server.close()


def make_client(kis_url: str, redis_url: str, token_wait: float = 90.0, **env: str) -> KisClient:
    settings = load_settings(
        {
            "KIS_ENV": "sim",
            "KIS_BASE_URL": kis_url,
            "REDIS_URL": redis_url,
            "KIS_RATE_LIMIT": "100",
            "KIS_READ_TIMEOUT_SECONDS": "1",
            "KIS_TOKEN_ISSUE_INTERVAL_SECONDS": "0",
            "KIS_RETRY_BACKOFF_SECONDS": "0.01",
            "DATA_DIR": scratch_data_dir(),
            **env,
        }
    )
    connection = redis.Redis.from_url(redis_url)
    clock = build_clock(settings, connection)
    return build_client(settings, connection, clock, wait_timeout_seconds=token_wait)


@pytest.fixture
def client(kis: ScriptedKis, redis_url: str) -> KisClient:
    return make_client(kis.url, redis_url)


ORDER_ERRORS = [
    ("APBK0918", "장운영시간이 아닙니다.(주문불가)", KisMarketClosed),
    ("APBK0919", "장운영일자가 주문일과 상이합니다", KisMarketClosed),
    ("KIOK0320", "장운영시간이 아닙니다", KisMarketClosed),
    ("40580000", "모의투자 장종료 입니다.", KisMarketClosed),
    ("99999999", "모의투자 장시작전 입니다.", KisMarketClosed),
    ("40910000", "모의투자 주문가능금액을 초과했습니다.", KisInsufficientFunds),
    ("APBK0656", "조회할 자료가 없습니다", KisRejected),
    # Gateway codes other than the rate limit and the token's may follow an executed order.
    ("EGW00103", "유효하지 않은 AppKey입니다.", KisOutcomeUnknown),
    ("EGW00105", "유효하지 않은 AppSecret입니다.", KisOutcomeUnknown),
    ("EGW02004", "실전투자 도메인은 모의투자 앱키로 호출하실 수 없습니다.", KisOutcomeUnknown),
    ("EGW00002", "서버 에러가 발생했습니다.", KisOutcomeUnknown),
    ("", "", KisOutcomeUnknown),
    ("EGW00201", "초당 거래건수를 초과하였습니다.", KisRateLimited),
    ("EGW00133", "접근토큰 발급 잠시 후 다시 시도하세요(1분당 1회)", KisTokenThrottled),
]
NOTHING_HAPPENED = {"EGW00201", "EGW00133"}
"""Codes that prove an order POST never reached KIS's trading system, whatever the status."""


@pytest.mark.parametrize("status", [200, 500])
@pytest.mark.parametrize(("msg_cd", "msg1", "at_200"), ORDER_ERRORS)
def test_order_errors_map_from_the_body_and_a_5xx_is_unknown_unless_proven(
    kis: ScriptedKis, client: KisClient, msg_cd: str, msg1: str, at_200: type, status: int
) -> None:
    """Below 500 the body decides; a 5xx is an unknown outcome unless KIS proved nothing ran."""
    expected = at_200 if status < 500 or msg_cd in NOTHING_HAPPENED else KisOutcomeUnknown
    kis.script(ORDER, kis_error(msg_cd, msg1, status))
    with pytest.raises(expected) as caught:
        client.buy("005930", 3)
    assert type(caught.value) is expected
    assert caught.value.msg_cd == msg_cd
    # The order's details are in the message, for the operator's log.
    assert "buy 005930 x3 @market" in str(caught.value)
    # An order POST is never resent by the client, even for a retryable rate-limit answer.
    assert len(kis.requests_to(ORDER)) == 1


def test_rate_limited_read_backs_off_and_succeeds(kis: ScriptedKis, client: KisClient) -> None:
    kis.script(PRICE, kis_error("EGW00201", status=500), kis_ok(PRICE_OUTPUT))
    assert client.current_price("005930").price == 70000
    assert len(kis.requests_to(PRICE)) == 2
    counted = client.transport._error_counter
    assert counted is not None
    assert counted[0].hget(counted[1], "EGW00201") == b"1"


def test_rate_limited_read_gives_up_after_bounded_tries(
    kis: ScriptedKis, client: KisClient
) -> None:
    kis.script(PRICE, kis_error("EGW00201", status=500))
    with pytest.raises(KisRateLimited):
        client.current_price("005930")
    assert len(kis.requests_to(PRICE)) == 5


def test_expired_token_is_dropped_and_reissued_once(kis: ScriptedKis, client: KisClient) -> None:
    kis.script(
        PRICE, kis_error("EGW00123", "기간이 만료된 token 입니다.", 500), kis_ok(PRICE_OUTPUT)
    )
    assert client.current_price("005930").price == 70000
    assert kis.tokens_issued == 2
    auth = [s.headers["authorization"] for s in kis.requests_to(PRICE)]
    assert auth == ["Bearer scripted-token-1", "Bearer scripted-token-2"]


def test_token_expired_twice_in_a_row_is_raised(kis: ScriptedKis, client: KisClient) -> None:
    kis.script(PRICE, kis_error("EGW00123", "기간이 만료된 token 입니다.", 500))
    with pytest.raises(KisTokenExpired):
        client.current_price("005930")
    assert kis.tokens_issued == 2


def test_expired_token_on_an_order_is_resent_once_since_the_gateway_refused_it(
    kis: ScriptedKis, client: KisClient
) -> None:
    kis.script(ORDER, kis_error("EGW00121", "유효하지 않은 token 입니다."), kis_ok(ORDER_OUTPUT))
    ack = client.buy("005930", 1)
    assert ack.order_no == "0000000001"
    assert ack.branch_no == "06010"
    assert len(kis.requests_to(ORDER)) == 2


def test_token_issuance_throttle_envelope(kis: ScriptedKis, redis_url: str) -> None:
    kis.script(
        "/oauth2/tokenP",
        Reply(
            403,
            {
                "error_description": "접근토큰 발급 잠시 후 다시 시도하세요(1분당 1회)",
                "error_code": "EGW00133",
            },
        ),
    )
    client = make_client(kis.url, redis_url, token_wait=1.0, KIS_TOKEN_ISSUE_INTERVAL_SECONDS="0.2")
    with pytest.raises(KisTokenThrottled):
        client.buy("005930", 1)
    assert kis.requests_to(ORDER) == []


def test_bad_app_secret_at_issuance_is_an_auth_error(kis: ScriptedKis, client: KisClient) -> None:
    kis.script(
        "/oauth2/tokenP",
        Reply(
            403, {"error_description": "유효하지 않은 AppSecret입니다.", "error_code": "EGW00105"}
        ),
    )
    with pytest.raises(KisAuthError):
        client.current_price("005930")


def test_unknown_gateway_code_is_temporary(kis: ScriptedKis, client: KisClient) -> None:
    kis.script(PRICE, kis_error("EGW00999", "gateway busy", 500), kis_ok(PRICE_OUTPUT))
    assert client.current_price("005930").price == 70000


def test_unreadable_read_answer_is_a_protocol_error(kis: ScriptedKis, client: KisClient) -> None:
    kis.script(PRICE, Reply(500, raw=b"<html>502 Bad Gateway</html>"))
    with pytest.raises(KisProtocolError):
        client.current_price("005930")


def test_unreadable_order_answer_means_outcome_unknown(kis: ScriptedKis, client: KisClient) -> None:
    kis.script(ORDER, Reply(200, raw=b'{"rt_cd":"0","output":{"ODNO'))
    with pytest.raises(KisOutcomeUnknown):
        client.sell("005930", 2)
    assert len(kis.requests_to(ORDER)) == 1


def test_dropped_order_answer_means_outcome_unknown(kis: ScriptedKis, client: KisClient) -> None:
    kis.script(ORDER, Reply(drop=True))
    with pytest.raises(KisOutcomeUnknown, match="buy 005930 x1"):
        client.buy("005930", 1)
    assert len(kis.requests_to(ORDER)) == 1


def test_order_read_timeout_means_outcome_unknown(kis: ScriptedKis, client: KisClient) -> None:
    kis.script(ORDER, Reply(200, {"rt_cd": "0", "output": ORDER_OUTPUT}, delay=2.0))
    with pytest.raises(KisOutcomeUnknown):
        client.buy("005930", 1)
    assert len(kis.requests_to(ORDER)) == 1


def test_order_to_an_unreachable_host_is_temporary_because_nothing_was_sent(
    redis_url: str,
) -> None:
    client = make_client(f"http://127.0.0.1:{free_port()}", redis_url)
    # The token issuance fails first: nothing was sent anywhere.
    with pytest.raises(KisTemporaryError) as caught:
        client.buy("005930", 1)
    assert not isinstance(caught.value, KisOutcomeUnknown)


def test_unknown_stock_code_is_rejected(kis: ScriptedKis, client: KisClient) -> None:
    kis.script(PRICE, kis_ok({"stck_prpr": "0"}))
    with pytest.raises(KisRejected, match="unknown stock code"):
        client.current_price("999999")


def test_requests_carry_kis_headers_and_upper_case_string_bodies(
    kis: ScriptedKis, client: KisClient
) -> None:
    kis.script(ORDER, kis_ok(ORDER_OUTPUT))
    client.buy("005930", 7)
    seen = kis.requests_to(ORDER)[0]
    headers = {k.lower(): v for k, v in seen.headers.items()}
    assert headers["tr_id"] == "VTTC0012U"
    assert headers["custtype"] == "P"
    assert headers["appkey"] and headers["appsecret"]
    body = json.loads(seen.body)
    assert body == {
        "CANO": "50000000",
        "ACNT_PRDT_CD": "01",
        "PDNO": "005930",
        "ORD_DVSN": "01",
        "ORD_QTY": "7",
        "ORD_UNPR": "0",
        "EXCG_ID_DVSN_CD": "KRX",
    }
