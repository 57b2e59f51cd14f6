"""Redaction of every form a secret takes in a log line, at every level.

Issue 11: a day at ``LOG_LEVEL=DEBUG`` printed 536 lines with ``CANO=…&ACNT_PRDT_CD=…``, the
account number split across a query string. See docs/ARCHITECTURE.md, 'Secrets'.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from shared.infra.logs import RedactingFilter, setup_logging
from shared.infra.settings import load_settings

ACCOUNT = "73519024-01"
APP_KEY = "PSredactionTestAppKey0123456789abcd"
APP_SECRET = "redaction-test-secret/" + "s" * 40
WEBHOOK = "https://discord.com/api/webhooks/" + "998877665544332211" + "/redaction-hook-token"
STATUS_TOKEN = "redaction-status-token-" + "0" * 16
LEVELS = [logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL]


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def configured() -> list[str]:
    settings = load_settings(
        {
            "KIS_APP_KEY": APP_KEY,
            "KIS_APP_SECRET": APP_SECRET,
            "KIS_ACCOUNT": ACCOUNT,
            "DISCORD_WEBHOOK_URL": WEBHOOK,
            "STATUS_API_TOKEN": STATUS_TOKEN,
        }
    )
    return settings.secret_values()


@pytest.mark.parametrize("level", LEVELS, ids=logging.getLevelName)
def test_the_account_prefix_alone_in_a_query_string(
    level: int, capfd: pytest.CaptureFixture[str]
) -> None:
    setup_logging("executor", "DEBUG", configured())
    # What urllib3 prints at DEBUG for every balance and order inquiry.
    logging.getLogger("urllib3.connectionpool").log(
        level,
        '%s:%s "%s %s HTTP/1.1" 200 None',
        "http://127.0.0.1",
        8001,
        "GET",
        "/uapi/domestic-stock/v1/trading/inquire-balance?CANO=73519024&ACNT_PRDT_CD=01&AFHR_FLPR_YN=N",
    )
    logging.getLogger("shared.test").log(level, "account prefix %s on its own", "73519024")
    err = capfd.readouterr().err
    assert "73519024" not in err, err
    assert "CANO=***" in err


@pytest.mark.parametrize(
    "line",
    [
        "params {'CANO': '12345678', 'ACNT_PRDT_CD': '01'}",
        '{"appkey": "PSunconfigured0123456789", "appsecret": "unconfigured-secret-999"}',
        "headers {'authorization': 'Bearer eyJunconfiguredAccessToken.abc.def'}",
        '{"access_token": "eyJunconfiguredAccessToken.abc.def", "token_type": "Bearer"}',
        '{"approval_key": "unconfigured-approval-key-123"}',
        "POST /api/webhooks/111222333/unconfiguredHookToken HTTP/1.1",
        "https://discordapp.com/api/webhooks/111222333/unconfiguredHookToken",
    ],
)
def test_secrets_nobody_configured_are_redacted_by_their_field(line: str) -> None:
    redacted = RedactingFilter().redact(line)
    for secret in (
        "12345678",
        "PSunconfigured0123456789",
        "unconfigured-secret-999",
        "eyJunconfiguredAccessToken",
        "unconfigured-approval-key-123",
        "unconfiguredHookToken",
    ):
        assert secret not in redacted, redacted
    assert "***" in redacted


@pytest.mark.parametrize("level", LEVELS, ids=logging.getLevelName)
def test_every_configured_secret_at_every_level(
    level: int, capfd: pytest.CaptureFixture[str]
) -> None:
    setup_logging("notifier", "DEBUG", configured())
    log = logging.getLogger("shared.test")
    log.log(level, "key %s secret %s", APP_KEY, APP_SECRET)
    log.log(level, "hook %s token %s", WEBHOOK, STATUS_TOKEN)
    log.log(level, "account %s and %s", ACCOUNT, ACCOUNT.replace("-", ""))
    err = capfd.readouterr().err
    for secret in (APP_KEY, APP_SECRET, STATUS_TOKEN, "73519024", "redaction-hook-token"):
        assert secret not in err, err


def test_ordinary_words_about_tokens_are_kept() -> None:
    text = "issued a KIS access token valid until 2026-03-03T08:00:00+09:00; 5 orders, 12345 won"
    assert RedactingFilter().redact(text) == text


def test_the_redis_password_and_the_hts_id_are_secrets_too() -> None:
    settings = load_settings(
        {"REDIS_URL": "redis://:redisPassw0rd-hygiene@127.0.0.1:6379/0", "KIS_HTS_ID": "htsUser77"}
    )
    line = RedactingFilter(settings.secret_values()).redact(
        "connecting to redis://:redisPassw0rd-hygiene@127.0.0.1:6379/0 as htsUser77"
    )
    assert "redisPassw0rd-hygiene" not in line and "htsUser77" not in line, line
