"""Logging setup: the line format, idempotence, and secrets redacted wherever they appear."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest

from shared.infra.logs import RedactingFilter, setup_logging
from shared.infra.settings import load_settings

SECRET = "PSabcdefSECRETappkey123"
OTHER_SECRET = "s3cr3t-app-secret-value"
SECRETS = [SECRET, OTHER_SECRET]


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)


def test_line_format(capfd: pytest.CaptureFixture[str]) -> None:
    setup_logging("scheduler", "INFO", SECRETS)
    logging.getLogger("shared.test").info("hello %s", "world")
    logging.getLogger("shared.test").debug("not shown at INFO")
    err = capfd.readouterr().err
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+09:00 INFO service=scheduler shared\.test: "
        r"hello world\n",
        err,
    ), err


def test_secret_in_message_and_args_is_redacted(capfd: pytest.CaptureFixture[str]) -> None:
    setup_logging("executor", "DEBUG", SECRETS)
    log = logging.getLogger("shared.test")
    log.info(f"token request with appkey={SECRET}")
    log.debug("headers %s and %r", {"appkey": SECRET}, OTHER_SECRET)
    log.warning("%(key)s in a mapping", {"key": SECRET})
    err = capfd.readouterr().err
    assert SECRET not in err and OTHER_SECRET not in err
    assert "appkey=***" in err
    assert "headers {'appkey': '***'} and '***'" in err
    assert "*** in a mapping" in err


def test_secret_in_exception_traceback_is_redacted(capfd: pytest.CaptureFixture[str]) -> None:
    setup_logging("executor", "INFO", SECRETS)
    try:
        try:
            raise KeyError(OTHER_SECRET)
        except KeyError as e:
            raise RuntimeError(f"KIS refused appkey {SECRET}") from e
    except RuntimeError:
        logging.getLogger("shared.test").exception("order failed")
    err = capfd.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert "RuntimeError: KIS refused appkey ***" in err
    assert "KeyError: '***'" in err
    assert SECRET not in err and OTHER_SECRET not in err


def test_secret_in_stack_info_is_redacted(capfd: pytest.CaptureFixture[str]) -> None:
    setup_logging("executor", "INFO", SECRETS)
    appkey = SECRET  # the stack shows source lines, and this one names the secret
    logging.getLogger("shared.test").info("where am I", stack_info=True)
    err = capfd.readouterr().err
    assert "Stack (most recent call last)" in err
    assert appkey not in err


def test_bad_arguments_are_reported_redacted(capfd: pytest.CaptureFixture[str]) -> None:
    # pytest's own capture handlers raise on bad arguments; production has only ours.
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    setup_logging("executor", "INFO", SECRETS)
    logging.getLogger("shared.test").info("two %s %s but one", SECRET)
    err = capfd.readouterr().err
    assert "bad logging arguments" in err
    assert SECRET not in err


def test_setup_twice_keeps_one_handler(capfd: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    before = len(root.handlers)
    setup_logging("api", "INFO", SECRETS)
    setup_logging("api", "WARNING", [*SECRETS, "another-secret"])
    assert len(root.handlers) == before + 1
    assert root.level == logging.WARNING
    logging.getLogger("shared.test").warning("once another-secret")
    err = capfd.readouterr().err
    assert err.count("once ***") == 1, err


def test_follows_a_redirected_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("notifier", "INFO", SECRETS)
    logging.getLogger("shared.test").error("webhook %s down", SECRET)
    assert "ERROR service=notifier shared.test: webhook *** down" in capsys.readouterr().err


def test_settings_secrets_are_redacted(capfd: pytest.CaptureFixture[str]) -> None:
    webhook = "https://discord.com/api/webhooks/" + "1234567890/abcDEFghiJKLmnoPQR"  # made up
    settings = load_settings(
        {"KIS_APP_KEY": SECRET, "KIS_ACCOUNT": "87654321-01", "DISCORD_WEBHOOK_URL": webhook}
    )
    setup_logging("scheduler", "INFO", settings.secret_values())
    log = logging.getLogger("urllib3.connectionpool")
    log.info("account %s / %s", "87654321-01", "8765432101")
    log.info(
        'https://discord.com:443 "POST %s HTTP/1.1" 204',
        webhook.removeprefix("https://discord.com"),
    )
    log.info("posting to %s", webhook)
    err = capfd.readouterr().err
    assert "87654321" not in err
    assert "abcDEFghiJKLmnoPQR" not in err
    assert "account *** / ***" in err
    assert '"POST *** HTTP/1.1"' in err


def test_filter_alone() -> None:
    redacting = RedactingFilter(["abc", "longer-secret", "longer-secret-2"])
    assert redacting.redact("abc longer-secret longer-secret-2") == "abc *** ***"
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "v=%s", ("longer-secret",), None)
    assert redacting.filter(record) is True
    assert record.getMessage() == "v=***"
    assert RedactingFilter().redact("nothing to hide") == "nothing to hide"
