"""The demo day through compose, then crashes and a restart of the whole project.

The system runs the example picks and scripted prices (examples/README.md) on a clock starting
2026-03-03 08:50 KST at 600x once every service is healthy, exactly as ``make demo-day`` does
locally (scripts/demo-day.sh, there at 60x), and must place the orders examples/README.md
lists. The tests of this module run
in order on one project: the day, then ``kill -9`` of each stateful process, then ``down`` and
``up`` again; after each, the day's orders and the ledger are what they were.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from benchmarks.demo_day import EXPECTED_ORDERS
from shared.infra.redis_keys import Keys
from tests.compose.conftest import (
    APP_SERVICES,
    DAY,
    DEMO_ENV,
    SERVICES,
    TOKEN,
    Project,
    wait_until,
    write_override,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

SPEED = 600
"""Simulated seconds per real second: the 08:50-15:20 stretch takes 39 s."""
START = f"{DAY}T08:50:00+09:00"
"""Where the clock is held (``CLOCK_HOLD``) until every service is up and healthy."""


@pytest.fixture(scope="module")
def day(new_project: Callable[..., Project], tmp_path_factory: pytest.TempPathFactory) -> Project:
    """A project whose simulated day starts once every service is up, run to its close."""
    folder = tmp_path_factory.mktemp("day")
    override = write_override(
        folder, "demo-day.yml", {name: {"environment": DEMO_ENV} for name in APP_SERVICES}
    )
    project = new_project(
        files=[override], CLOCK_START=START, CLOCK_SPEED=str(SPEED), CLOCK_HOLD="true"
    )
    project.up()
    # The day begins: the anchor every service waits for (docs/ARCHITECTURE.md, 'The clock').
    anchor = Keys().clock_epoch(START, SPEED)
    began = project.exec("redis", "redis-cli", "SET", anchor, f"{time.time():.6f}", "NX")
    assert began.stdout.strip() == "OK", began.stdout + began.stderr
    wait_until(
        lambda: project.exec("scheduler", "test", "-s", "/app/data/positions.json").returncode == 0,
        timeout=6.5 * 3600 / SPEED + 60,
        what="the post-market export of the ledger",
        project=project,
    )
    halted = requests.post(
        f"{project.api_url}/control/halt",
        json={"reason": "day done"},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=10,
    )
    assert halted.status_code == 200, halted.text
    return project


def orders(project: Project) -> list[tuple[str, str, int, str, str, int]]:
    rows = project.get("/orders", date=DAY)["orders"]
    return sorted(
        (o["side"], o["code"], o["quantity"], o["reason"], o["status"], o["filled_quantity"])
        for o in rows
    )


def ledger(project: Project) -> list[tuple[Any, ...]]:
    rows = project.get("/positions")["positions"]
    return sorted(
        (p["code"], p["quantity"], p["average_price"], p["buy_session"], p["opened_by"])
        for p in rows
    )


def test_the_day_places_exactly_the_documented_orders(day: Project) -> None:
    placed = orders(day)
    assert [row[:4] for row in placed] == EXPECTED_ORDERS
    assert all(status == "filled" and filled == qty for _, _, qty, _, status, filled in placed)
    [(code, quantity, average, bought, _)] = ledger(day)
    assert (code, quantity, bought) == ("005380", 9, DAY)
    assert float(average) == 203000


def crash_and_recover(project: Project, service: str) -> None:
    before = project.kill_main_process(service)
    wait_until(
        lambda: int(project.container(service)["RestartCount"]) > before,
        timeout=60,
        what=f"{service} restarted by its restart policy",
        project=project,
    )
    project.wait_healthy(SERVICES)


@pytest.mark.parametrize("service", ["redis", "executor", "scheduler"])
def test_kill_9_is_restarted_and_nothing_is_lost(day: Project, service: str) -> None:
    placed, held = orders(day), ledger(day)
    crash_and_recover(day, service)
    assert orders(day) == placed
    assert ledger(day) == held
    assert day.get("/status")["controls"]["halted"] is True


def test_down_then_up_keeps_the_ledger_and_the_orders(day: Project) -> None:
    placed, held = orders(day), ledger(day)
    day.compose("down", "-t", "30")  # no -v: the named volumes stay
    assert day.containers() == {}
    day.up()
    assert orders(day) == placed
    assert ledger(day) == held
    assert day.exec("scheduler", "test", "-s", "/app/data/positions.json").returncode == 0
