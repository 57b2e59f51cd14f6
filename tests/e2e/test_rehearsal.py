"""Rehearsal: real mode (KIS_ENV=real) on a simulated clock against the simulator's real rules.

The same day as ``test_trading_day`` (same picks, prices and cash), but every process runs as it
would with money: credentials from the keyring (the tests' file store, tests/keyring_backend.py,
in a temporary folder, written by ``python -m shared.infra.credentials ... --allow-plaintext``),
``REAL_TRADING_CONFIRM=yes``, T-prefixed tr_ids, the 18 requests/s limiter and the once-a-day
holiday cross-check. The simulator enforces real rules (``SIM_RULES=real``, its default 18
requests/s), so a V-prefixed tr_id or a burst over the limit would show as a rejection.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from shared.infra.clock import KST
from shared.infra.redis_keys import text
from shared.infra.settings import SIM_ACCOUNT
from tests.e2e.conftest import KEYS, Market
from tests.e2e.test_trading_day import DAY, NAMES, PRICES, assert_the_days_orders
from tests.keyring_backend import store_with_the_command

pytestmark = pytest.mark.slow

APP_KEY = "PS" + "RehearsalAppKey0123456789abcdefgh"  # 36 characters, the shape of a real key
APP_SECRET = "RehearsalSecret/" + "x" * 164  # 180 characters


@pytest.fixture
def file_keyring(tmp_path: Path) -> dict[str, str]:
    """The variables that point ``keyring`` at a file store in ``tmp_path``, holding the keys.

    The keys are written by the command a user runs (``python -m shared.infra.credentials store``),
    never into the machine's own keyring.
    """
    return store_with_the_command(tmp_path, "real", APP_KEY, APP_SECRET)


def rehearse(open_market: Any, keyring_env: dict[str, str], **sim: str) -> Market:
    """A market whose processes run KIS_ENV=real against a simulator with real rules."""
    market: Market = open_market(
        datetime(2026, 3, 3, 8, 50, tzinfo=KST),
        1200,
        prices=PRICES,
        names=NAMES,
        picks={code: (name, 10000) for code, name in NAMES.items()},
        cash=10_000_000,
        holdings=[{"code": "000600", "name": NAMES["000600"], "qty": 10, "avg_price": 50000}],
        # Real rules with their own 18 requests/s (the e2e default widens it to 20).
        sim_env={"SIM_RULES": "real", "SIM_RATE_LIMIT": "", **sim},
        KIS_ENV="real",
        REAL_TRADING_CONFIRM="yes",
        KIS_ACCOUNT=SIM_ACCOUNT,
        # Unset: real mode's default limit (18/s) applies, not the e2e default of 20.
        KIS_RATE_LIMIT="",
        **keyring_env,
    )
    assert market.sim.admin("GET", "health").json()["rules"] == "real"
    market.env["KIS_BASE_URL"] = market.sim.url
    for name in ("KIS_APP_KEY", "KIS_APP_SECRET"):
        assert name not in market.env, "the keys come from the keyring only"
    return market


def real_rate_windows(market: Market) -> list[str]:
    return [text(k) for k in market.redis.keys(f"{KEYS.prefix}kis:rate:real:*")]


def test_a_rehearsed_real_day_places_the_sim_days_orders(
    open_market: Any, file_keyring: dict[str, str]
) -> None:
    market = rehearse(open_market, file_keyring)
    # What every process will load: real mode and rules, the 18/s default, keys from the keyring.
    checked = subprocess.run(
        [sys.executable, "-m", "shared.infra.settings"],
        env=market.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    assert f"KIS_ENV=real rules=real endpoint={market.sim.url}" in checked.stdout
    assert "rate_limit=18/s" in checked.stdout
    assert APP_KEY not in checked.stdout
    market.executor()
    scheduler = market.scheduler()

    # Mid-morning: the same cycle budget as in sim mode, on the real limiter's window.
    market.wait_clock(datetime(2026, 3, 3, 10, 30, tzinfo=KST))
    [beat] = market.schedulers()
    assert beat["last_cycle"]["phase"] == "intraday"
    assert beat["last_cycle"]["calls"]["requests"] == 3
    [window] = real_rate_windows(market)
    assert 0 < market.redis.zcard(window) <= 18

    market.wait(lambda: market.events("daily_summary"), timeout=90, what="the daily summary")

    # Exactly the orders of the sim-mode day (tests/e2e/test_trading_day.py).
    assert_the_days_orders(market)
    [summary] = market.events("daily_summary")
    assert summary["realized_profit"] == 40_000
    assert summary["cash_d2"] == 8_046_900
    assert summary["orders"] == {"filled": 5}
    assert summary["reconciliation"] == "finished"
    assert not market.events("error")
    assert not market.events("closed_day")

    # Real mode's own paths all ran. The holiday check asked KIS once and kept its answer;
    # the simulator refused nothing (a V-prefixed tr_id would be refused under real rules) and
    # never had to rate-limit the 18/s limiter shared through Redis.
    assert text(market.redis.get(KEYS.once("kis-calendar", DAY)) or b"") == "open"
    stats = market.sim.admin("GET", "stats").json()
    assert stats["rejections"] == {}, stats
    assert stats["rate_limited"] == 0, stats
    assert stats["orders"] == 5
    assert stats["token_issuances"]["total"] >= 1
    assert not market.redis.keys(f"{KEYS.prefix}kis:*:sim:*"), "nothing ran as sim"
    assert scheduler.process.poll() is None, "the scheduler must not exit on its own"


def test_a_day_kis_calls_closed_is_not_traded_in_a_rehearsal(
    open_market: Any, file_keyring: dict[str, str]
) -> None:
    # KIS's calendar (the simulator's) closes the day; ours does not: KIS wins, once.
    market = rehearse(open_market, file_keyring, KRX_EXTRA_CLOSED=DAY.isoformat())
    market.executor()
    market.scheduler()

    market.wait(
        lambda: market.redis.get(KEYS.once("kis-calendar", DAY)),
        timeout=60,
        what="the holiday cross-check",
    )
    market.wait_clock(datetime(2026, 3, 3, 11, 30, tzinfo=KST))
    assert text(market.redis.get(KEYS.once("kis-calendar", DAY)) or b"") == "closed"
    [error] = market.events("error")
    assert "KIS says KRX does not open on 2026-03-03" in error["message"]
    assert market.sim_orders() == []
    assert market.records(DAY) == []
    assert not market.events("buy_attempt")
