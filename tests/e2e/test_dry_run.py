"""A dry run (KIS_ENV=dryrun): live quotes from a KIS host, orders kept by a local ledger.

Two simulators: one stands in for KIS's quote host (``quote_host``, the prices of the sim-mode
day of tests/e2e/test_trading_day.py, and more moves of a pick never bought), the other is the
dry run's ledger (``SIM_PRICE_FEED=upstream``), which reads its prices from the quote host. The
day's orders equal the sim-mode day's (same picks, same prices for what is traded), and the
quote host's own request log shows that nothing but quote, token and approval requests ever
reached it.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from shared.infra.clock import KST
from shared.infra.redis_keys import text
from shared.infra.settings import SIM_ACCOUNT
from shared.kis.tr_ids import QUOTE_HOST_TR_IDS
from tests.conftest import Sim
from tests.e2e.conftest import KEYS, Market
from tests.e2e.test_trading_day import DAY, NAMES, PRICES, assert_the_days_orders

pytestmark = pytest.mark.slow

APP_KEY = "PS" + "DryRunAppKey0123456789abcdefghijk"  # the shape of a real key
APP_SECRET = "DryRunSecret/" + "y" * 167
QUOTE_KEYS = {"KIS_APP_KEY": APP_KEY, "KIS_APP_SECRET": APP_SECRET}
QUOTE_HOST_PRICES = {
    **PRICES,
    # Under its target all day, as in the sim-mode day (never bought), but moving every hour: the
    # quote host's stream has prices to carry however late the scheduler subscribes on a loaded
    # machine (the sim-mode day's last move is at 11:00, seconds after the open at this speed).
    "000400": [("09:00", 9999), *((f"{hour}:00", 9998 + hour % 2) for hour in range(10, 16))],
}


def dry_run(
    open_market: Any, start_sim: Callable[..., Sim], profile: str = "simple", **env: str
) -> tuple[Market, Sim]:
    """The day of test_trading_day with its prices on the quote host, run as a dry run: the
    market (whose ``sim`` is the quote host) and the ledger; ``env`` for the services."""
    market: Market = open_market(
        datetime(2026, 3, 3, 8, 50, tzinfo=KST),
        1200,
        prices=QUOTE_HOST_PRICES,
        names=NAMES,
        sim_env={"SIM_RULES": "real"},
        picks={code: (name, 10000) for code, name in NAMES.items()},
    )
    quote_host = market.sim
    clock = {n: market.env[n] for n in ("CLOCK_START", "CLOCK_SPEED", "CLOCK_HOLD")}
    dry = {
        "KIS_ENV": "dryrun",
        "DRYRUN_QUOTE_HOST": "real",
        "KIS_BASE_URL": quote_host.url,
        "KIS_RATE_LIMIT": "20",
        "KIS_TOKEN_ISSUE_INTERVAL_SECONDS": "0",
        **QUOTE_KEYS,
    }
    ledger = start_sim(
        SIM_PRICE_FEED="upstream",
        SIM_PROFILE=profile,
        SIM_RULES="real",
        SIM_RATE_LIMIT="20",
        SIM_TOKEN_THROTTLE_SECONDS="0",
        SIM_REDIS_PREFIX="dryrun_ledger:",
        SIM_WS_PORT="0",
        **clock,
        **dry,
    )
    assert ledger.admin("GET", "health").json()["price_feed"] == "upstream"
    assert quote_host.admin("GET", "health").json()["price_feed"] == "walk"
    ledger.admin(
        "POST",
        "accounts",
        json={
            "account": SIM_ACCOUNT,
            "cash": 10_000_000,
            "holdings": [
                {"code": "000600", "name": NAMES["000600"], "qty": 10, "avg_price": 50000}
            ],
        },
    )
    market.env.update(dry, KIS_SIM_URL=ledger.url, **env)
    return market, ledger


@pytest.mark.parametrize(
    ("quote_source", "profile"),
    # The sim-mode day's profile, then KIS's money rules (compose.dryrun.yml's): the same orders.
    [("polling", "simple"), ("stream", "kis")],
)
def test_a_dry_run_day_places_the_sim_days_orders_and_none_at_kis(
    open_market: Any, start_sim: Callable[..., Sim], quote_source: str, profile: str
) -> None:
    stream = {"KIS_HTS_ID": "simhts01", "STREAM_SILENCE_SECONDS": "5"}
    market, ledger = dry_run(open_market, start_sim, profile, QUOTE_SOURCE=quote_source, **stream)
    if quote_source == "stream":
        market.env["KIS_WS_URL"] = market.sim.ws_url
    checked = subprocess.run(
        [sys.executable, "-m", "shared.infra.settings"],
        env=market.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    assert f"KIS_ENV=dryrun rules=real endpoint={market.sim.url}" in checked.stdout
    said = "DRY RUN: quotes from the KIS real host, orders and the account at the local ledger"
    assert f"{said} {ledger.url}" in checked.stdout
    assert APP_KEY not in checked.stdout and APP_SECRET not in checked.stdout

    market.executor()
    scheduler = market.scheduler()
    market.wait(lambda: market.events("daily_summary"), timeout=90, what="the daily summary")

    # The quote host's own log: quotes, the calendar, tokens; not one order or account read.
    stats = market.sim.admin("GET", "stats").json()
    assert stats["orders"] == 0 and stats["cancels"] == 0, stats
    assert market.sim_orders() == []
    sent = set(stats["requests_by_tr"]) - {"-"}  # "-": no tr_id (the token endpoint)
    assert QUOTE_HOST_TR_IDS >= sent >= {"FHKST01010100", "CTCA0903R"}, stats
    assert stats["rejections"] == {}, stats
    # The quote host's stream carried prices only: no fill notice was registered there, though
    # KIS_HTS_ID is set (KIS's would be the real account's trades).
    counters = market.sim.admin("GET", "stream").json()["counters"]
    assert counters.get("fill_registrations", 0) == 0, counters
    if quote_source == "stream":
        assert counters["price_frames"] > 0, counters
        assert "stream session opened" in scheduler.output()
    # The sim-mode day's orders, kept by the ledger.
    assert_the_days_orders(dataclasses.replace(market, sim=ledger))
    [summary] = market.events("daily_summary")
    assert summary["realized_profit"] == 40_000  # the sim-mode day's, gross
    if profile == "simple":
        assert summary["cash_d2"] == 8_046_900  # the sim-mode day's (test_rehearsal.py)
    else:
        # The same trades, less KIS's fee on five fills (about 1,400 won) and the tax on two
        # sells (8,080 won).
        assert 8_030_000 < summary["cash_d2"] < 8_046_900, summary
    assert summary["orders"] == {"filled": 5}
    assert not market.events("error")

    # The ledger read its prices there: the quote host answered more quotes than the scheduler
    # alone asked for, and the ledger itself holds every order.
    ledger_stats = ledger.admin("GET", "stats").json()
    assert ledger_stats["orders"] == 5
    assert ledger_stats["upstream_reads"] > 0
    # The ledger's token and limiter are its own; the quote host's are the real host's, shared
    # with every process of that app key (the scheduler's, the executor's and the ledger's).
    assert market.redis.keys(f"{KEYS.prefix}kis:rate:real:*")
    assert text(market.redis.get(KEYS.once("kis-calendar", DAY)) or b"") == "open"
    started = f"DRY RUN: quotes from {market.sim.url}, orders and the account at the local ledger"
    assert f"{started} {ledger.url}" in scheduler.output()
    # The quote host's keys are in every process's environment and in none of their logs.
    logs = "".join(p.output() for p in [*market.processes, ledger.service])
    assert APP_KEY not in logs and APP_SECRET not in logs
    assert scheduler.process.poll() is None
