"""Every setting checked by shape and range: a bad value stops every process with one line.

Issue 11's rows: ``KIS_ACCOUNT`` with a trailing newline or full-width digits, ``CLOCK_EPOCH``
nan/inf/1e20, ``CLOCK_START`` in year 9999, ``DISCORD_WEBHOOK_URL=not-a-url`` and
``STATUS_API_TOKEN=abc`` were all accepted. See docs/ARCHITECTURE.md, 'Configuration'.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from shared.infra.settings import ConfigError, load_settings
from tests.conftest import ROOT, service_env

ACCOUNT = "73519024-01"
WEBHOOK = "https://discord.com/api/webhooks/" + "123456789012345678" + "/shape-test-webhook-token"
TOKEN = "t" * 32


def error_of(env: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"KIS_ACCOUNT": ACCOUNT + "\n"}, "KIS_ACCOUNT: must look like 12345678-01"),
        ({"KIS_ACCOUNT": "７３５１９０２４-０１"}, "KIS_ACCOUNT: must look like 12345678-01"),
        ({"KIS_ACCOUNT": "73519024-01x"}, "KIS_ACCOUNT: must look like 12345678-01"),
        ({"KIS_HTS_ID": "user\nname"}, "KIS_HTS_ID: must be"),
        ({"KIS_APP_KEY": "PSkey with space 0123"}, "KIS_APP_KEY: must be"),
        ({"KIS_APP_SECRET": "secret\n"}, "KIS_APP_SECRET: must be"),
        ({"CLOCK_START": "2026-03-03T09:00:00+09:00", "CLOCK_EPOCH": "nan"}, "CLOCK_EPOCH:"),
        ({"CLOCK_START": "2026-03-03T09:00:00+09:00", "CLOCK_EPOCH": "inf"}, "CLOCK_EPOCH:"),
        ({"CLOCK_START": "2026-03-03T09:00:00+09:00", "CLOCK_EPOCH": "1e20"}, "CLOCK_EPOCH:"),
        ({"CLOCK_START": "2026-03-03T09:00:00+09:00", "CLOCK_EPOCH": "-5"}, "CLOCK_EPOCH:"),
        ({"CLOCK_START": "9999-12-31T09:00:00+09:00"}, "CLOCK_START: must lie between"),
        ({"CLOCK_START": "1900-01-02T09:00:00+09:00"}, "CLOCK_START: must lie between"),
        ({"CLOCK_START": "2026-03-03T09:00:00+09:00", "CLOCK_SPEED": "nan"}, "CLOCK_SPEED:"),
        ({"KIS_RATE_LIMIT": "inf"}, "KIS_RATE_LIMIT:"),
        ({"TAKE_PROFIT_PCT": "Infinity"}, "TAKE_PROFIT_PCT:"),
        ({"TAKE_PROFIT_PCT": "NaN"}, "TAKE_PROFIT_PCT:"),
        ({"TAKE_PROFIT_PCT": "1e9"}, "TAKE_PROFIT_PCT:"),
        ({"STOP_LOSS_PCT": "-1e9"}, "STOP_LOSS_PCT:"),
        ({"BUY_BAND_RATIO": "1e9"}, "BUY_BAND_RATIO:"),
        ({"DISCORD_WEBHOOK_URL": "not-a-url"}, "DISCORD_WEBHOOK_URL: must be a Discord webhook"),
        ({"DISCORD_WEBHOOK_URL": "https://discord.com/"}, "DISCORD_WEBHOOK_URL: must be"),
        ({"DISCORD_WEBHOOK_URL": "ftp://discord.com/api/webhooks/1/x"}, "DISCORD_WEBHOOK_URL:"),
        ({"DISCORD_WEBHOOK_URL": WEBHOOK.replace("https", "http")}, "DISCORD_WEBHOOK_URL:"),
        ({"DISCORD_WEBHOOK_URL": WEBHOOK + "\n"}, "DISCORD_WEBHOOK_URL:"),
        ({"STATUS_API_TOKEN": "abc"}, "STATUS_API_TOKEN: must be at least 32 characters"),
        ({"STATUS_API_TOKEN": "t" * 31}, "STATUS_API_TOKEN: must be at least 32 characters"),
        ({"STATUS_API_TOKEN": "t" * 31 + " "}, "STATUS_API_TOKEN: must be"),
        ({"KIS_BASE_URL": "http://"}, "KIS_BASE_URL: must be an http:// or https:// URL"),
        ({"KIS_SIM_URL": "http://:8001"}, "KIS_SIM_URL: must be an http:// or https:// URL"),
        ({"REDIS_URL": "redis://"}, "REDIS_URL:"),
        ({"REDIS_PREFIX": "kat :"}, "REDIS_PREFIX: must be"),
        ({"REDIS_PREFIX": "kat:\n"}, "REDIS_PREFIX: must be"),
        # Issue 20: Python's own number parsing takes underscores and full-width digits.
        ({"CLOCK_START": "2026-03-03T09:00:00+09:00", "CLOCK_SPEED": "1_000"}, "CLOCK_SPEED:"),
        ({"MAX_ORDERS_PER_DAY": "１２"}, "MAX_ORDERS_PER_DAY: must be a number"),
        ({"MAX_ORDER_KRW": "1_000_000"}, "MAX_ORDER_KRW: must be a number"),
        ({"TAKE_PROFIT_PCT": "５"}, "TAKE_PROFIT_PCT: must be a number"),
        # Issue 20: an empty value silently became the default.
        ({"REDIS_URL": ""}, "REDIS_URL: is empty"),
        ({"MAX_ORDERS_PER_DAY": ""}, "MAX_ORDERS_PER_DAY: is empty"),
        ({"KIS_ENV": ""}, "KIS_ENV: is empty"),
    ],
)
def test_bad_shapes_and_ranges_name_the_variable(env: dict[str, str], expected: str) -> None:
    message = error_of(env)
    assert message.startswith(expected), message


@pytest.mark.parametrize(
    "env",
    [
        {"KIS_ACCOUNT": ACCOUNT},
        {"DISCORD_WEBHOOK_URL": WEBHOOK},
        # A stand-in Discord on a loopback address (the tests', a relay's) may speak plain http.
        {"DISCORD_WEBHOOK_URL": "http://127.0.0.1:9/api/webhooks/1/fake-token"},
        {"STATUS_API_TOKEN": TOKEN},
        {"CLOCK_START": "2026-03-03T09:00:00+09:00", "CLOCK_EPOCH": "1772495400.5"},
        {"KIS_HTS_ID": "hts_user01"},
        {"REDIS_URL": "unix:///run/redis.sock"},
        {"CLOCK_START": "2026-03-03T09:00:00+09:00", "CLOCK_SPEED": "1000"},
        {"TAKE_PROFIT_PCT": "5.5", "STOP_LOSS_PCT": "-3", "MAX_ORDER_KRW": "+1000000"},
        {"TAKE_PROFIT_PCT": "1e1", "FEE_PCT": ".015"},
        # Empty where there is no default to fall back to: the same as leaving it out.
        {"KIS_RATE_LIMIT": "", "DISCORD_WEBHOOK_URL": "", "REAL_TRADING_CONFIRM": ""},
    ],
)
def test_good_values_pass(env: dict[str, str]) -> None:
    load_settings(env)


def test_an_empty_value_in_the_dotenv_file_is_refused_too(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("REAL_TRADING_CONFIRM=\nMAX_ORDERS_PER_DAY=\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "shared.infra.settings"],
        cwd=ROOT,
        env=service_env("redis://127.0.0.1:1/0", KAT_ENV_FILE=str(dotenv)),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2, result.stdout
    assert result.stderr.startswith("configuration error: MAX_ORDERS_PER_DAY: is empty")


def test_the_error_never_echoes_a_secret() -> None:
    assert "not-a-url" not in error_of({"DISCORD_WEBHOOK_URL": "not-a-url-secretish"})
    assert "abcdef" not in error_of({"STATUS_API_TOKEN": "abcdef"})
    assert "73519024" not in error_of({"KIS_ACCOUNT": ACCOUNT + "\n"})


ENTRY_POINTS = [
    ["-m", "services.scheduler"],
    ["-m", "services.executor"],
    ["-m", "services.notifier"],
    ["-m", "services.api"],
    ["-m", "services.kis_sim"],
    ["-m", "services.cli", "status"],
    ["-m", "shared.infra.settings"],
]


@pytest.mark.slow
@pytest.mark.parametrize("args", ENTRY_POINTS, ids=[" ".join(a[1:]) for a in ENTRY_POINTS])
@pytest.mark.parametrize(
    ("env", "line"),
    [
        (
            {"CLOCK_START": "2026-03-03T08:50:00+09:00", "CLOCK_EPOCH": "nan"},
            "configuration error: CLOCK_EPOCH: ",
        ),
        ({"KIS_ACCOUNT": ACCOUNT + "\n"}, "configuration error: KIS_ACCOUNT: must look like"),
    ],
    ids=["epoch", "account"],
)
def test_every_entry_point_stops_with_one_line(
    args: list[str], env: dict[str, str], line: str
) -> None:
    result = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=service_env("redis://127.0.0.1:1/0", **env),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith(line), result.stderr
