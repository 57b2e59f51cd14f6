"""The process: a bad configuration is one line naming it (exit 2, each place a start reads one),
SIGTERM stops it cleanly, ports taken before the simulator binds them are left."""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from websockets.sync.client import connect

from services.kis_sim.config import load_config
from shared.infra.settings import ConfigError
from tests.conftest import Sim, free_port, launch_sim_on
from tests.kis_sim.conftest import run_to_exit

BAD_SIMULATOR_VALUES = [
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
    ("SIM_AUCTIONS", "yes"),
    ("SIM_VI", "1"),
    ("SIM_LIMIT_LOCK", "true"),
    ("SIM_TRADES_PER_MINUTE", "-1"),
    ("SIM_TRADES_PER_MINUTE", "601"),
    ("SIM_LISTINGS", "/nonexistent/listings.json"),
    ("SIM_PRICE_FEED", "live"),
    ("SIM_FEED_MAX_AGE_SECONDS", "61"),
]


@pytest.mark.parametrize(("variable", "value"), BAD_SIMULATOR_VALUES)
def test_a_bad_simulator_value_is_one_line_naming_it(variable: str, value: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_config({variable: value})
    said = str(refused.value)
    assert said.startswith(f"{variable}: ") and "\n" not in said, said


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        BAD_SIMULATOR_VALUES[0],  # the simulator's own variables (load_config)
        ("CLOCK_SPEED", "fast"),  # the settings every service shares
        # A dry run's ledger reads KIS and needs KIS_ENV=dryrun with the quote host's keys.
        ("SIM_PRICE_FEED", "upstream"),
    ],
)
def test_bad_configuration_exits_2_with_one_line(redis_url: str, variable: str, value: str) -> None:
    """Each place a start can refuse its configuration, through the process: one line, exit 2
    (each value the simulator's own parser refuses: the test above)."""
    result = run_to_exit(redis_url, **{variable: value})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert variable in lines[0]


def test_bad_price_path_file_names_the_code(tmp_path: Path) -> None:
    file = tmp_path / "paths.json"
    file.write_text('{"005930": [["9 o\'clock", 70000]]}', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^SIM_PRICE_PATHS: .*005930"):
        load_config({"SIM_PRICE_PATHS": str(file)})


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
