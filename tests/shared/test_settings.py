"""Settings: clear one-line errors, refused placeholders, credentials from env, files and the
keyring, and secrets that never show."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared.infra import credentials
from shared.infra import settings as settings_module
from shared.infra.logs import setup_logging
from shared.infra.settings import ConfigError, load_settings
from tests.conftest import ROOT
from tests.keyring_backend import FILE_VARIABLE, SELECT, PlainFileKeyring

PAPER = {
    "KIS_ENV": "paper",
    "KIS_APP_KEY": "PSabcdefghijklmnopqrstuvwxyz0123456789",
    "KIS_APP_SECRET": "secret-" + "Q" * 60,
    "KIS_ACCOUNT": "73001234-01",
}


def error_of(env: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_sim_needs_nothing() -> None:
    settings = load_settings({})
    assert settings.kis_env == "sim"
    assert settings.rules == "paper"
    assert settings.rate_limit == 1.0
    assert settings.base_url == "http://127.0.0.1:8001"


def test_paper_and_real_defaults() -> None:
    paper = load_settings(PAPER)
    assert paper.base_url == "https://openapivts.koreainvestment.com:29443"
    assert paper.rate_limit == 1.0
    real = load_settings({**PAPER, "KIS_ENV": "real", "REAL_TRADING_CONFIRM": "yes"})
    assert real.base_url == "https://openapi.koreainvestment.com:9443"
    assert real.rate_limit == 18.0
    assert real.rules == "real"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"KIS_ENV": "live"}, "KIS_ENV: Input should be 'sim', 'paper', 'real' or 'dryrun'"),
        ({**PAPER, "KIS_APP_KEY": ""}, "KIS_APP_KEY: is required when KIS_ENV=paper"),
        ({"KIS_ENV": "paper"}, "KIS_APP_KEY: is required when KIS_ENV=paper"),
        ({**PAPER, "KIS_ACCOUNT": "7300123401"}, "KIS_ACCOUNT: must look like 12345678-01"),
        ({**PAPER, "KIS_ENV": "real"}, "REAL_TRADING_CONFIRM: must be 'yes'"),
        ({**PAPER, "KIS_ENV": "real", "REAL_TRADING_CONFIRM": "y"}, "REAL_TRADING_CONFIRM"),
        ({"KIS_RATE_LIMIT": "fast"}, "KIS_RATE_LIMIT: must be a number"),
        ({"KIS_RATE_LIMIT": "0"}, "KIS_RATE_LIMIT: Input should be greater than 0"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL: must start with redis://"),
        ({"REDIS_PREFIX": "rq:"}, "REDIS_PREFIX: must be non-empty and must not start with 'rq:'"),
        ({"CLOCK_SPEED": "60"}, "CLOCK_START: is required when CLOCK_SPEED"),
        ({"CLOCK_START": "2026-03-03T09:00:00"}, "CLOCK_START: needs a UTC offset"),
        ({**PAPER, "CLOCK_START": "2026-03-03T09:00:00+09:00"}, "CLOCK_START: a simulated"),
        ({"SELL_SCOPE": "everything"}, "SELL_SCOPE: Input should be 'bot' or 'all'"),
        ({"STOP_LOSS_PCT": "3"}, "STOP_LOSS_PCT: Input should be less than 0"),
        ({"BUY_BAND_RATIO": "0.95"}, "BUY_BAND_RATIO: Input should be greater than 1"),
        ({"PRECLOSE_CUTOFF_MINUTES": "20"}, "PRECLOSE_CUTOFF_MINUTES: must be smaller"),
        ({"KRX_EXTRA_CLOSED": "2026-13-01"}, "KRX_EXTRA_CLOSED"),
        ({"KRX_SPECIAL_SESSIONS": "2026-11-19=10:00"}, "KRX_SPECIAL_SESSIONS: '2026-11-19=10:00'"),
        ({"KRX_SPECIAL_SESSIONS": "2026-11-19=16:30-10:00"}, "opens after it closes"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], expected: str) -> None:
    assert expected in error_of(env)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("KIS_APP_KEY", "your-app-key"),
        ("KIS_APP_SECRET", "your-app-secret"),
        ("KIS_ACCOUNT", "12345678-01"),
        ("DISCORD_WEBHOOK_URL", "your-discord-webhook-url"),
        ("STATUS_API_TOKEN", "change-me"),
    ],
)
def test_placeholders_are_refused(name: str, value: str) -> None:
    assert error_of({**PAPER, name: value}) == f"{name}: is still the placeholder from .env.example"


def test_errors_never_echo_the_secret() -> None:
    message = error_of({**PAPER, "KIS_APP_SECRET": "your-very-secret-value"})
    assert "very-secret" not in message


def test_secrets_are_masked_in_repr_and_str() -> None:
    settings = load_settings(
        {**PAPER, "DISCORD_WEBHOOK_URL": "https://discord.com/api/webhooks/1/abc123"}
    )
    shown = repr(settings) + str(settings)
    for secret in (PAPER["KIS_APP_KEY"], PAPER["KIS_APP_SECRET"], "abc123", "73001234"):
        assert secret not in shown
    assert settings.masked_account == "******34-01"


def test_secrets_are_redacted_from_logs(capfd: pytest.CaptureFixture[str]) -> None:
    settings = load_settings(PAPER)
    setup_logging("test", "INFO", settings.secret_values())
    logging.getLogger("leaky").info("key=%s account=%s", settings.app_key, settings.account)
    err = capfd.readouterr().err
    assert PAPER["KIS_APP_KEY"] not in err
    assert "73001234" not in err
    assert "key=*** account=***" in err


def test_credentials_from_files(tmp_path: Path) -> None:
    (tmp_path / "key").write_text(PAPER["KIS_APP_KEY"] + "\n")
    (tmp_path / "secret").write_text(PAPER["KIS_APP_SECRET"] + "\n")
    env = {
        "KIS_ENV": "paper",
        "KIS_ACCOUNT": "73001234-01",
        "KIS_APP_KEY_FILE": str(tmp_path / "key"),
        "KIS_APP_SECRET_FILE": str(tmp_path / "secret"),
    }
    settings = load_settings(env)
    # The trailing newline of a secret file is stripped (it is the classic EGW00105).
    assert settings.app_key == PAPER["KIS_APP_KEY"]
    assert settings.app_secret == PAPER["KIS_APP_SECRET"]


def test_environment_wins_over_files(tmp_path: Path) -> None:
    (tmp_path / "key").write_text("from-the-file-0000")
    settings = load_settings({**PAPER, "KIS_APP_KEY_FILE": str(tmp_path / "key")})
    assert settings.app_key == PAPER["KIS_APP_KEY"]


def test_unreadable_secret_file_names_the_variable(tmp_path: Path) -> None:
    env = {**PAPER, "KIS_APP_SECRET": "", "KIS_APP_SECRET_FILE": str(tmp_path / "missing")}
    assert error_of(env).startswith("KIS_APP_SECRET_FILE: cannot read")


@pytest.fixture
def file_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A real keyring backend (the tests' file store, tests/keyring_backend.py) in a folder."""
    import keyring

    backend = PlainFileKeyring(tmp_path / "keyring.json")
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield tmp_path
    keyring.set_keyring(previous)


def test_credentials_from_the_keyring(file_keyring: Path) -> None:
    credentials.store_in_keyring("paper", PAPER["KIS_APP_KEY"], PAPER["KIS_APP_SECRET"])
    settings = load_settings({"KIS_ENV": "paper", "KIS_ACCOUNT": "73001234-01"})
    assert settings.app_key == PAPER["KIS_APP_KEY"]
    assert settings.app_secret == PAPER["KIS_APP_SECRET"]
    # Entries are per environment: the real ones are separate.
    assert "KIS_APP_KEY: is required" in error_of(
        {"KIS_ENV": "real", "KIS_ACCOUNT": "73001234-01", "REAL_TRADING_CONFIRM": "yes"}
    )


def run_module(
    module: str, env: dict[str, str], stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), "HOME": "/nonexistent"}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            module,
            *([] if not stdin else ["store", "--env", "paper", "--allow-plaintext"]),
        ],
        env={**base, **env},
        cwd="/",
        capture_output=True,
        text=True,
        input=stdin,
        timeout=60,
    )


@pytest.mark.processes
def test_a_process_with_a_bad_setting_stops_with_one_line() -> None:
    result = run_module(
        "shared.infra.settings",
        {"KIS_ENV": "real", **{k: v for k, v in PAPER.items() if k != "KIS_ENV"}},
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "configuration error: REAL_TRADING_CONFIRM: must be 'yes' to trade real money"
        " with KIS_ENV=real"
    ]


@pytest.mark.processes
def test_the_check_command_shows_settings_masked() -> None:
    result = run_module("shared.infra.settings", PAPER)
    assert result.returncode == 0, result.stderr
    assert "account=******34-01" in result.stdout
    assert PAPER["KIS_APP_SECRET"] not in result.stdout
    assert PAPER["KIS_APP_KEY"] not in result.stdout


@pytest.mark.processes
def test_the_store_command_writes_the_keyring(tmp_path: Path) -> None:
    env = {**SELECT, FILE_VARIABLE: str(tmp_path / "keyring.json")}
    stored = run_module(
        "shared.infra.credentials",
        env,
        stdin=f"{PAPER['KIS_APP_KEY']}\n{PAPER['KIS_APP_SECRET']}\n",
    )
    assert stored.returncode == 0, stored.stderr
    assert PAPER["KIS_APP_KEY"] not in stored.stdout + stored.stderr
    check = run_module(
        "shared.infra.settings", {**env, "KIS_ENV": "paper", "KIS_ACCOUNT": "73001234-01"}
    )
    assert check.returncode == 0, check.stderr


# Rehearsal: a simulated clock in paper or real mode, only against a simulator ------------------
CLOCK = {"CLOCK_START": "2026-03-03T08:50:00+09:00", "CLOCK_SPEED": "60"}
REAL = {**PAPER, "KIS_ENV": "real", "REAL_TRADING_CONFIRM": "yes"}


@pytest.mark.parametrize("env", [PAPER, REAL], ids=["paper", "real"])
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8001",
        "http://127.8.9.10:8001",
        "http://localhost:8001",
        "http://LOCALHOST:8001",
        "http://[::1]:8001",
        "http://10.1.2.3:8001",
        "http://172.16.0.1:8001",
        "http://172.31.255.254",
        "https://192.168.1.20:9443",
    ],
)
def test_a_simulated_clock_runs_against_a_private_endpoint(env: dict[str, str], url: str) -> None:
    settings = load_settings({**env, **CLOCK, "KIS_BASE_URL": url})
    assert settings.clock_start is not None
    assert settings.clock_speed == 60
    assert settings.base_url == url.rstrip("/")
    assert settings.rules == env["KIS_ENV"]


@pytest.mark.parametrize("env", [PAPER, REAL], ids=["paper", "real"])
@pytest.mark.parametrize(
    ("url", "reason"),
    [
        (None, "against KIS the clock is always real"),
        ("https://openapi.koreainvestment.com:9443", "is KIS itself"),
        ("https://openapivts.koreainvestment.com:29443", "is KIS itself"),
        ("https://OPENAPI.koreainvestment.com:9443", "is KIS itself"),
        ("https://koreainvestment.com", "is KIS itself"),
        ("http://8.8.8.8:8001", "8.8.8.8 is not a loopback or private address"),
        ("http://172.32.0.1:8001", "172.32.0.1 is not a loopback or private address"),
        ("http://169.254.1.1:8001", "169.254.1.1 is not a loopback or private address"),
        ("http://[2001:db8::1]:8001", "is not a loopback or private address"),
        ("http://sim.example.internal:8001", "is a DNS name"),
        ("http://localhost.example.com:8001", "is a DNS name"),
    ],
)
def test_a_simulated_clock_is_refused_against_kis_and_public_hosts(
    env: dict[str, str], url: str | None, reason: str
) -> None:
    message = error_of({**env, **CLOCK, **({"KIS_BASE_URL": url} if url else {})})
    kis_env = env["KIS_ENV"]
    assert message.startswith(
        f"CLOCK_START: a simulated clock with KIS_ENV={kis_env} needs KIS_BASE_URL on a loopback"
        " or private address"
    )
    assert "127.0.0.0/8, ::1, 10/8, 172.16/12, 192.168/16, localhost" in message
    assert reason in message


def test_clock_speed_and_epoch_alone_still_need_a_start() -> None:
    env = {**REAL, "KIS_BASE_URL": "http://127.0.0.1:8001"}
    assert error_of({**env, "CLOCK_EPOCH": "1772409000"}).startswith("CLOCK_START: is required")


@pytest.mark.parametrize(
    ("addresses", "refusal"),
    [
        (["172.18.0.5"], None),
        (["10.0.0.7", "127.0.0.1"], None),
        (["fe80::1%eth0"], "resolves to fe80::1%eth0, not a private address"),
        (["172.18.0.5", "203.0.113.9"], "resolves to 203.0.113.9, not a private address"),
        ([], "resolves to nothing"),
    ],
)
def test_a_single_label_name_counts_by_what_it_resolves_to(
    addresses: list[str], refusal: str | None
) -> None:
    asked: list[str] = []

    def resolver(host: str) -> list[str]:
        asked.append(host)
        return addresses

    found = settings_module.rehearsal_refusal("http://kis-sim:8001", resolver)
    assert asked == ["kis-sim"]
    assert found == (None if refusal is None else f"kis-sim {refusal}")


def test_a_single_label_name_that_does_not_resolve_is_refused() -> None:
    def resolver(host: str) -> list[str]:
        raise OSError(f"no such host {host}")

    assert settings_module.rehearsal_refusal("http://kis-sim:8001", resolver) == (
        "kis-sim does not resolve"
    )


def test_names_with_a_dot_and_kis_hosts_are_never_looked_up() -> None:
    def resolver(host: str) -> list[str]:
        raise AssertionError(f"looked up {host}")

    for url in ("https://openapi.koreainvestment.com:9443", "http://kis-sim.lan:8001"):
        assert settings_module.rehearsal_refusal(url, resolver) is not None


def test_the_system_resolver_answers_for_localhost() -> None:
    # The one name every machine resolves without a network: what a single-label check reads.
    assert set(settings_module.resolve_host("localhost")) & {"127.0.0.1", "::1"}


def test_rehearsal_reads_credentials_from_the_keyring(file_keyring: Path) -> None:
    credentials.store_in_keyring("real", PAPER["KIS_APP_KEY"], PAPER["KIS_APP_SECRET"])
    settings = load_settings(
        {
            "KIS_ENV": "real",
            "KIS_ACCOUNT": "73001234-01",
            "REAL_TRADING_CONFIRM": "yes",
            "KIS_BASE_URL": "http://127.0.0.1:8001",
            **CLOCK,
        }
    )
    assert settings.app_key == PAPER["KIS_APP_KEY"]
    assert (settings.rules, settings.rate_limit) == ("real", 18.0)


def test_the_data_directory_and_where_exports_go() -> None:
    default = load_settings({})
    assert default.data_dir == Path("data") and default.export_folder == Path("data")
    moved = load_settings({"DATA_DIR": "/srv/kat"})
    assert moved.data_dir == Path("/srv/kat") and moved.export_folder == Path("/srv/kat")
    # EXPORT_DIR, then the picks file's folder, still come first (as before DATA_DIR).
    beside = load_settings({"DATA_DIR": "/srv/kat", "PICKS_FILE": "/picks/select_dict.pkl"})
    assert beside.export_folder == Path("/picks")
    named = load_settings({"DATA_DIR": "/srv/kat", "EXPORT_DIR": "/exports"})
    assert named.export_folder == Path("/exports")
