"""The process: configuration errors exit 2 with one line, SIGTERM stops it cleanly."""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from websockets.sync.client import connect

from tests.conftest import Sim, free_port, launch_sim_on
from tests.kis_sim.conftest import run_to_exit


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SIM_RULES", "demo"),
        ("SIM_PORT", "eighty"),
        ("SIM_RATE_LIMIT", "0"),
        ("SIM_SEED", "1.5"),
        ("SIM_SEED", "１２"),
        ("SIM_INITIAL_CASH", "1_000_000"),
        ("SIM_FEE_PCT", "０.０１"),
        ("SIM_WS_TICK_SECONDS", "0.0_5"),
        ("SIM_PRICE_PATHS", "/nonexistent/paths.json"),
        ("SIM_TOKEN_THROTTLE_SECONDS", "-1"),
        ("CLOCK_SPEED", "fast"),
        ("SIM_AUCTIONS", "yes"),
        ("SIM_VI", "1"),
        ("SIM_LIMIT_LOCK", "true"),
        ("SIM_TRADES_PER_MINUTE", "-1"),
        ("SIM_TRADES_PER_MINUTE", "601"),
        ("SIM_LISTINGS", "/nonexistent/listings.json"),
        ("SIM_PRICE_FEED", "live"),
        ("SIM_FEED_MAX_AGE_SECONDS", "61"),
        # A dry run's ledger reads KIS and needs KIS_ENV=dryrun with the quote host's keys.
        ("SIM_PRICE_FEED", "upstream"),
    ],
)
def test_bad_configuration_exits_2_with_one_line(redis_url: str, variable: str, value: str) -> None:
    result = run_to_exit(redis_url, **{variable: value})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert variable in lines[0]


def test_bad_price_path_file_names_the_code(redis_url: str, tmp_path: Path) -> None:
    file = tmp_path / "paths.json"
    file.write_text('{"005930": [["9 o\'clock", 70000]]}', encoding="utf-8")
    result = run_to_exit(redis_url, SIM_PRICE_PATHS=str(file))
    assert result.returncode == 2
    assert "SIM_PRICE_PATHS" in result.stderr and "005930" in result.stderr


def test_sigterm_stops_cleanly(start_sim: object) -> None:
    sim: Sim = start_sim()  # type: ignore[operator]
    sim.service.process.terminate()
    assert sim.service.process.wait(10) == 0
    assert "stopped" in sim.service.output()


@pytest.mark.parametrize("taken", ["http", "websocket"])
def test_ports_taken_before_the_simulator_binds_them_are_left_for_others(
    redis_url: str, tmp_path: Path, taken: str
) -> None:
    """Another process binds a port between its choice and the simulator's start (as another
    test worker's server can): the simulator is started again on other ports, and its
    WebSocket is its own."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        taken_port = other.getsockname()[1]
        offered = iter([taken_port, free_port()] if taken == "http" else [free_port(), taken_port])

        def ports() -> int:
            return next(offered, None) or free_port()

        sim = launch_sim_on(redis_url, tmp_path, ports, {})
        try:
            assert taken_port not in (urlsplit(sim.url).port, urlsplit(sim.ws_url).port)
            assert f"KIS simulator WebSocket on {sim.ws_url}" in sim.service.output()
            with connect(sim.ws_url, open_timeout=5):
                pass
        finally:
            sim.service.stop()
