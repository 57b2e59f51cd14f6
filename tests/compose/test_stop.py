"""``docker compose stop``: every service exits cleanly, and an order in flight finishes first."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import requests

from tests.compose.conftest import (
    APP_SERVICES,
    DAY,
    DEMO_ENV,
    SERVICES,
    Project,
    wait_until,
    write_override,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

ORDER_DELAY_SECONDS = 12.0
"""How long the simulator holds the order POST: the executor is mid-job when the stop comes."""


def test_stop_waits_for_the_order_in_flight_and_every_service_exits_0(
    new_project: Callable[..., Project], tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("stop")
    override = write_override(
        folder, "demo-day.yml", {name: {"environment": DEMO_ENV} for name in APP_SERVICES}
    )
    # 09:30 in real time: 000660 is inside its buy band (examples/demo-prices.json), the other
    # picks are not, so the scheduler's first cycle decides exactly one order.
    project = new_project(
        files=[override],
        CLOCK_START=f"{DAY}T09:30:00+09:00",
        CLOCK_SPEED="1",
        CLOCK_EPOCH=f"{time.time():.3f}",
    )
    project.up(*(s for s in SERVICES if s != "scheduler"))
    fault = {"kind": "slow", "count": 1, "path": "order-cash", "delay_seconds": ORDER_DELAY_SECONDS}
    requests.post(f"{project.sim_url}/sim/faults", json=fault, timeout=10).raise_for_status()
    project.up("scheduler", wait=False)

    def in_flight() -> bool:
        rows = project.get("/orders", date=DAY)["orders"]
        return [(o["code"], o["status"]) for o in rows] == [("000660", "submitting")]

    wait_until(
        in_flight, timeout=90, what="the order to be in the executor's hands", project=project
    )
    started = time.monotonic()
    project.compose("stop")
    took = time.monotonic() - started
    print(f"docker compose stop took {took:.1f}s with an order in flight")

    containers = project.containers()
    exits = {name: c["State"]["ExitCode"] for name, c in containers.items()}
    assert exits == dict.fromkeys(SERVICES, 0), project.logs()
    assert not any(c["State"]["OOMKilled"] for c in containers.values())
    # The executor held the stop until the simulator answered, well inside its grace period.
    assert ORDER_DELAY_SECONDS / 2 < took < 200, took

    # The order was settled, not left "submitting": read it back through the API.
    project.up("redis", "api")
    [order] = project.get("/orders", date=DAY)["orders"]
    assert (order["status"], order["filled_quantity"]) == ("filled", 13), order
