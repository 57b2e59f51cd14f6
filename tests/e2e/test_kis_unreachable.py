"""KIS unreachable mid-session is loud: each service's health and ``kat status`` say so with since
when, and Discord is told once when it starts and once when it ends (docs/ARCHITECTURE.md, 'When
KIS does not answer')."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from typing import Any

import pytest

from shared.infra.clock import KST
from shared.state.control import heartbeats, is_healthy
from tests.conftest import ROOT
from tests.e2e.conftest import KEYS, Market
from tests.tcp_switch import TcpSwitch

pytestmark = pytest.mark.slow


def problems(market: Market) -> dict[str, str]:
    """The problem each live service's heartbeat names, by service."""
    beats = heartbeats(market.redis, KEYS)
    return {str(b["service"]): str(b.get("problem") or "") for b in beats}


def test_kis_unreachable_is_said_by_every_service_and_told_once_each_way(
    open_market: Any,
) -> None:
    kis = TcpSwitch()
    market: Market = open_market(
        datetime(2026, 3, 3, 9, 0, tzinfo=KST),
        30,
        picks={},
        prices={"005930": [("09:00", 70000)]},
        KIS_SIM_URL=kis.url,
    )
    kis.target = ("127.0.0.1", int(market.sim.url.rsplit(":", 1)[1]))
    market.executor()
    market.scheduler()
    market.wait(lambda: market.schedulers() and market.schedulers()[0]["cycles"] > 2, 30, "cycles")
    assert set(problems(market)) == {"scheduler", "executor"}
    assert all(is_healthy(b) for b in heartbeats(market.redis, KEYS))

    kis.down()
    market.wait(
        lambda: all("KIS not answering" in p for p in problems(market).values()),
        40,
        "every service naming the outage",
    )
    assert not any(is_healthy(b) for b in heartbeats(market.redis, KEYS))
    market.wait(lambda: market.events("kis_outage"), 20, "the outage told")
    status = subprocess.run(
        [sys.executable, "-m", "services.cli", "status"],
        env=market.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    kis_line = json.loads(status.stdout)["kis"]
    assert kis_line.startswith("KIS not answering") and "since" in kis_line

    kis.up()
    market.wait(lambda: market.events("kis_back"), 40, "the end told")
    market.wait(lambda: not any(problems(market).values()), 20, "every service healthy again")
    [told] = market.events("kis_outage")
    [back] = market.events("kis_back")
    assert told["since_kst"] == back["since_kst"]
    assert "KIS unreachable" in told["detail"] or "connection lost" in told["detail"]
