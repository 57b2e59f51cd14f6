"""KIS_ENV=dryrun settings: the quote host's keys required, the orders' endpoint local only,
one-line errors that never show a secret (docs/ARCHITECTURE.md, 'Dry run')."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.infra import credentials
from shared.infra.settings import (
    DRY_RUN_LABEL,
    PAPER_BASE_URL,
    PAPER_WS_URL,
    REAL_BASE_URL,
    REAL_WS_URL,
    SIM_ACCOUNT,
    load_settings,
)
from tests.shared.test_settings import error_of, file_keyring, run_module

__all__ = ["file_keyring"]  # the keyring fixture, used below

APP_KEY = "PSdryrunkeyabcdefghijklmnopqrstuvwxyz0"
APP_SECRET = "dryrun-secret-" + "Z" * 60
DRY = {"KIS_ENV": "dryrun", "KIS_APP_KEY": APP_KEY, "KIS_APP_SECRET": APP_SECRET}


def test_a_dry_run_reads_quotes_from_the_real_host_and_orders_from_the_local_ledger() -> None:
    settings = load_settings(DRY)
    assert settings.dry_run and settings.mode_label == DRY_RUN_LABEL
    assert settings.quote_env == "real" and settings.rules == "real"
    assert settings.base_url == REAL_BASE_URL
    assert settings.ws_url == REAL_WS_URL
    assert settings.order_base_url == "http://127.0.0.1:8001"
    assert settings.rate_limit == 18.0
    # No account is needed: the ledger's is the simulator's own.
    assert settings.account == SIM_ACCOUNT


def test_the_paper_host_can_be_the_quote_host() -> None:
    settings = load_settings({**DRY, "DRYRUN_QUOTE_HOST": "paper"})
    assert (settings.base_url, settings.ws_url) == (PAPER_BASE_URL, PAPER_WS_URL)
    assert settings.rules == "paper" and settings.rate_limit == 1.0


def test_kis_base_url_moves_the_quotes_never_the_orders() -> None:
    settings = load_settings(
        {**DRY, "KIS_BASE_URL": REAL_BASE_URL, "KIS_SIM_URL": "http://localhost:8001"}
    )
    assert settings.base_url == REAL_BASE_URL
    assert settings.order_base_url == "http://localhost:8001"


@pytest.mark.parametrize(
    ("missing", "expected"),
    [
        (
            "KIS_APP_KEY",
            "KIS_APP_KEY: is required when KIS_ENV=dryrun: quotes are read from the KIS real",
        ),
        (
            "KIS_APP_SECRET",
            "KIS_APP_SECRET: is required when KIS_ENV=dryrun: quotes are read from the KIS real",
        ),
    ],
)
def test_missing_quote_host_credentials_are_named(missing: str, expected: str) -> None:
    env = {k: v for k, v in DRY.items() if k != missing}
    message = error_of(env)
    assert message.startswith(expected), message
    assert APP_KEY not in message and APP_SECRET not in message


@pytest.mark.parametrize(
    "url",
    [
        "https://openapi.koreainvestment.com:9443",
        "https://openapivts.koreainvestment.com:29443",
        "http://8.8.8.8:8001",
        "http://ledger.example.com:8001",
    ],
)
def test_the_ledger_must_be_local(url: str) -> None:
    message = error_of({**DRY, "KIS_SIM_URL": url})
    assert message.startswith("KIS_SIM_URL: must be the local ledger"), message
    assert APP_KEY not in message and APP_SECRET not in message


def test_a_simulated_clock_needs_a_local_quote_host() -> None:
    clock = {"CLOCK_START": "2026-03-03T08:50:00+09:00", "CLOCK_SPEED": "100"}
    assert "CLOCK_START: a simulated clock with KIS_ENV=dryrun" in error_of({**DRY, **clock})
    load_settings({**DRY, **clock, "KIS_BASE_URL": "http://127.0.0.1:9001"})


def test_no_real_trading_confirmation_is_asked() -> None:
    assert load_settings({**DRY, "REAL_TRADING_CONFIRM": ""}).real_trading_confirm == ""


def test_the_quote_hosts_keys_come_from_its_keyring_entries(file_keyring: Path) -> None:
    credentials.store_in_keyring("real", APP_KEY, APP_SECRET)
    settings = load_settings({"KIS_ENV": "dryrun"})
    assert (settings.app_key, settings.app_secret) == (APP_KEY, APP_SECRET)
    assert "KIS_APP_KEY: is required when KIS_ENV=dryrun" in error_of(
        {"KIS_ENV": "dryrun", "DRYRUN_QUOTE_HOST": "paper"}
    )


@pytest.mark.processes
def test_the_check_command_says_dry_run_and_no_secret() -> None:
    result = run_module("shared.infra.settings", DRY)
    assert result.returncode == 0, result.stderr
    assert (
        "KIS_ENV=dryrun rules=real endpoint=https://openapi.koreainvestment.com:9443"
        in result.stdout
    )
    assert (
        "DRY RUN: quotes from the KIS real host, orders and the account at the local ledger http://127.0.0.1:8001"
        in result.stdout
    )
    assert APP_KEY not in result.stdout and APP_SECRET not in result.stdout
    missing = run_module(
        "shared.infra.settings", {"KIS_ENV": "dryrun", "KIS_APP_SECRET": APP_SECRET}
    )
    assert missing.returncode == 2
    assert missing.stderr.startswith(
        "configuration error: KIS_APP_KEY: is required when KIS_ENV=dryrun"
    )
    assert APP_SECRET not in missing.stderr
