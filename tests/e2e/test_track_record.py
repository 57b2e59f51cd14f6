"""Two simulated sessions, with KIS's fees and tax, and the track record they leave behind.

Session one buys three picks at the open and in its band, sells one by take profit and one by
stop loss and keeps the third overnight; the processes stop. Session two starts them again on the
same Redis and data volume, sells the third by take profit, and Redis is wiped after the sale.
Then ``GET /performance`` (the API as a process), its CSV and ``kat performance`` agree, to the
won, with a recomputation from the simulator's own fills, each trade once. See
docs/ARCHITECTURE.md, 'Track record'.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections.abc import Callable
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
import requests

from shared.infra.clock import KST
from tests.conftest import ROOT, free_port, wait_for
from tests.e2e.conftest import Market
from tests.e2e.test_state_loss import wipe_our_state

pytestmark = pytest.mark.slow

FIRST, SECOND = date(2026, 3, 3), date(2026, 3, 4)
PICKS = {
    "000910": ("익절예정", 10000),
    "000920": ("손절예정", 10000),
    "000930": ("하루보유", 10000),
}
PRICES = {
    "000910": [("09:00", 10000), ("11:00", 10501)],  # take profit at 11:00
    "000920": [("09:00", 10000), ("11:00", 9699)],  # stop loss at 11:00
    "000930": [("09:00", 9000), ("10:30", 10000)],  # enters its band at 10:30, kept
}
SECOND_PICKS = {"000940": ("안닿음", 10000)}
SECOND_PRICES = {
    "000930": [("09:00", 10000), ("09:30", 10600)],  # take profit at 09:30
    "000940": [("09:00", 13000)],  # far above its band: never bought
}


def run_session(
    open_market: Callable[..., Market], day: date, data: Path, **options: Any
) -> Market:
    market = open_market(
        datetime.combine(day, time(8, 50), KST),
        1200,
        sim_env={"SIM_PROFILE": "kis"},
        DATA_DIR=str(data),
        EXPORT_DIR=str(data),
        **options,
    )
    market.executor()
    market.scheduler()
    return market


def summary_of(market: Market, day: date) -> None:
    market.wait(
        lambda: any(s["session"] == day.isoformat() for s in market.events("daily_summary")),
        timeout=180,
        what=f"the daily summary of {day}",
    )


def round_trips(buys: list[dict[str, Any]], sells: list[dict[str, Any]]) -> dict[str, int]:
    """Each code's net from the simulator's fills: what its sells brought after fee and tax,
    less what its buys cost with their fee (every position here is bought once, sold once)."""
    net: dict[str, int] = {}
    for order in sells:
        for f in order["fills"]:
            net[order["code"]] = net.get(order["code"], 0) + (
                f["qty"] * f["price"] - f["fee"] - f["tax"]
            )
    for order in buys:
        if order["code"] in net:
            for f in order["fills"]:
                net[order["code"]] -= f["qty"] * f["price"] + f["fee"]
    return net


def test_two_sessions_leave_a_track_record_that_agrees_with_kis_to_the_won(
    open_market: Callable[..., Market], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    first = run_session(open_market, FIRST, data, prices=PRICES, picks=PICKS)
    summary_of(first, FIRST)
    first_orders = first.sim_orders()
    first.stop()
    held = first.positions()
    assert set(held) == {"000930"}, "the third pick is kept overnight"
    kept = held["000930"]

    second = run_session(
        open_market,
        SECOND,
        data,
        prices=SECOND_PRICES,
        picks=SECOND_PICKS,
        holdings=[
            {
                "code": "000930",
                "name": kept.name,
                "qty": kept.quantity,
                "avg_price": int(kept.average_price),
            }
        ],
    )
    second.wait_clock(datetime.combine(SECOND, time(10, 30), KST))
    assert any(o["side"] == "sell" for o in second.sim_orders()), "sold by 10:30"
    assert wipe_our_state(second.redis) > 0  # after the sale: it must stay journaled once
    summary_of(second, SECOND)
    second_orders = second.sim_orders()

    everything = first_orders + second_orders
    buys = [o for o in everything if o["side"] == "buy"]
    sells = [o for o in everything if o["side"] == "sell"]
    expected = round_trips(buys, sells)
    assert set(expected) == {"000910", "000920", "000930"}

    port = free_port()
    second.start("services.api", "api", API_PORT=str(port))
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: requests.get(f"{base}/healthz", timeout=1).ok, what="status API")

    record = requests.get(f"{base}/performance", timeout=10).json()
    assert record["corrupt_count"] == 0
    assert record["figures"]["trades"] == 3, record
    assert {c["code"]: c["net"] for c in record["codes"]} == expected
    assert record["figures"]["net"] == sum(expected.values())
    assert {d["period"]: d["net"] for d in record["days"]} == {
        FIRST.isoformat(): expected["000910"] + expected["000920"],
        SECOND.isoformat(): expected["000930"],
    }
    assert record["figures"]["exits"] == {"stop_loss": 1, "take_profit": 2}
    assert record["figures"]["wins"] == 2
    fees = sum(f["fee"] for o in everything for f in o["fills"])
    tax = sum(f["tax"] for o in everything for f in o["fills"])
    assert record["figures"]["fees"] == fees
    assert record["figures"]["tax"] == tax
    assert record["account_drawdown"] is not None  # a close of each session was kept

    only_first = requests.get(
        f"{base}/performance",
        params={"from": FIRST.isoformat(), "to": FIRST.isoformat()},
        timeout=10,
    ).json()
    assert only_first["figures"]["trades"] == 2
    reversed_range = requests.get(f"{base}/performance?from=2026-03-04&to=2026-03-03", timeout=5)
    assert reversed_range.status_code == 400

    rows = list(
        csv.DictReader(io.StringIO(requests.get(f"{base}/performance/trades.csv", timeout=5).text))
    )
    assert {r["code"]: int(r["net"]) for r in rows} == expected
    assert {r["code"]: int(r["sessions_held"]) for r in rows} == {
        "000910": 0,
        "000920": 0,
        "000930": 1,
    }

    kat = subprocess.run(
        [sys.executable, "-m", "services.cli", "performance", "--json"],
        env=second.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert kat.returncode == 0, kat.stderr
    said = json.loads(kat.stdout)
    assert said["figures"] == record["figures"]
    assert said["codes"] == record["codes"]
    text = subprocess.run(
        [sys.executable, "-m", "services.cli", "performance", "--from", "2026-3-1"],
        env=second.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert text.returncode == 2
    assert "--from" in text.stderr
