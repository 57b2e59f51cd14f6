"""A dry run's client (docs/ARCHITECTURE.md, 'Dry run'): every endpoint against two simulator
processes, one standing in for the KIS quote host, the other the local ledger; the quote host's
own request log shows that only quotes, the calendar and tokens reached it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time

import pytest
import redis

from shared.infra.clock import build_clock
from shared.infra.settings import Settings, load_settings
from shared.kis import KisRejected
from shared.kis.client import ORDER_PATH, KisClient, build_client, build_quote_client
from shared.kis.errors import KisProtocolError
from shared.kis.tr_ids import QUOTE_HOST_TR_IDS
from tests.conftest import Sim, scratch_data_dir
from tests.kis_client.test_client_against_sim import clock_env

APP_KEY = "PSdryrunclientkey0123456789abcdefghij"
APP_SECRET = "dryrun-client-secret-" + "W" * 60
DAY = date(2026, 3, 3)


def dry_settings(quote_host: Sim, ledger: Sim, redis_url: str, clock: dict[str, str]) -> Settings:
    return load_settings(
        {
            "KIS_ENV": "dryrun",
            "KIS_APP_KEY": APP_KEY,
            "KIS_APP_SECRET": APP_SECRET,
            "KIS_BASE_URL": quote_host.url,
            "KIS_SIM_URL": ledger.url,
            "REDIS_URL": redis_url,
            "KIS_RATE_LIMIT": "50",
            "KIS_RETRY_BACKOFF_SECONDS": "0.05",
            "KIS_TOKEN_ISSUE_INTERVAL_SECONDS": "0",
            "DATA_DIR": scratch_data_dir(),
            **clock,
        }
    )


@pytest.fixture
def two_hosts(start_sim: Callable[..., Sim]) -> tuple[Sim, Sim, dict[str, str]]:
    clock = clock_env()
    common = {"SIM_RULES": "real", "SIM_RATE_LIMIT": "50", "SIM_TOKEN_THROTTLE_SECONDS": "0"}
    quote_host = start_sim(**common, **clock)
    ledger = start_sim(**common, **clock, SIM_REDIS_PREFIX="dryrun_ledger:", SIM_WS_PORT="0")
    return quote_host, ledger, clock


def test_every_order_and_account_read_goes_to_the_ledger(
    two_hosts: tuple[Sim, Sim, dict[str, str]], redis_url: str
) -> None:
    quote_host, ledger, clock = two_hosts
    settings = dry_settings(quote_host, ledger, redis_url, clock)
    connection = redis.Redis.from_url(redis_url)
    client: KisClient = build_client(settings, connection, build_clock(settings, connection))

    assert client.current_price("005930").price > 0
    assert client.market_days(DAY)
    client.today_minute_bars("005930", DAY, time(9, 0), time(9, 30))
    client.balance()
    client.buyable_cash("005930")
    ack = client.buy("005930", 1, client.current_price("005930").lower_limit)
    client.cancel(ack)
    with pytest.raises(KisRejected):
        client.sell("005930", 1)  # refused by the ledger (nothing held): it still went there
    client.daily_executions(DAY)
    client.approval_key()

    at_quote_host = quote_host.admin("GET", "stats").json()
    sent = set(at_quote_host["requests_by_tr"]) - {"-"}
    assert sent <= QUOTE_HOST_TR_IDS, sent - QUOTE_HOST_TR_IDS
    assert {"FHKST01010100", "CTCA0903R", "FHKST03010200"} <= sent
    assert at_quote_host["orders"] == 0 and at_quote_host["cancels"] == 0
    assert at_quote_host["approvals"] == 1
    at_ledger = ledger.admin("GET", "stats").json()
    assert {"TTTC8434R", "TTTC8908R", "TTTC0012U", "TTTC0011U", "TTTC0013U", "TTTC0081R"} <= set(
        at_ledger["requests_by_tr"]
    )
    assert "FHKST01010100" not in at_ledger["requests_by_tr"]
    assert at_ledger["orders"] == 1 and at_ledger["cancels"] == 1


def test_the_quote_transport_sends_no_order_whatever_it_is_asked(
    two_hosts: tuple[Sim, Sim, dict[str, str]], redis_url: str
) -> None:
    quote_host, ledger, clock = two_hosts
    settings = dry_settings(quote_host, ledger, redis_url, clock)
    connection = redis.Redis.from_url(redis_url)
    quotes = build_quote_client(settings, connection, build_clock(settings, connection))
    assert not hasattr(quotes, "place") and not hasattr(quotes, "balance")
    body = {"CANO": "50000000", "ACNT_PRDT_CD": "01", "PDNO": "005930", "ORD_QTY": "1"}
    with pytest.raises(KisProtocolError, match="not sent"):
        quotes.transport.post_order(ORDER_PATH, "TTTC0012U", body, "a buy")
    with pytest.raises(KisProtocolError, match="not sent"):
        quotes.transport.get(ORDER_PATH, "TTTC8434R", {})
    with pytest.raises(KisProtocolError, match="not sent"):
        quotes.transport.hashkey("/uapi/hashkey", body)
    assert quote_host.admin("GET", "stats").json()["requests"] == 0
