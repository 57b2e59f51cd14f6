"""``python -m services.api`` serves over real HTTP (waitress); bad settings exit 2."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.api.conftest import TOKEN, RunningApi, start_api, stop_api
from tests.conftest import ROOT, RedisServer, service_env

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def api(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningApi]:
    running = start_api(redis_server, 2, tmp_path_factory.mktemp("api"), STATUS_API_TOKEN=TOKEN)
    yield running
    stop_api(running)


def test_serves_health_status_and_openapi_over_http(api: RunningApi) -> None:
    assert requests.get(f"{api.url}/healthz", timeout=5).json() == {"status": "ok"}
    status = requests.get(f"{api.url}/status", timeout=5)
    assert status.status_code == 200
    body = status.json()
    assert body["phase"] == "intraday"
    assert body["session"]["date"] == "2026-03-03"
    assert body["controls"]["paused"] is True
    doc = requests.get(f"{api.url}/openapi.json", timeout=5).json()
    assert "/control/picks/{date}" in doc["paths"]
    assert "waitress" in api.service.output()


def test_control_over_http(api: RunningApi) -> None:
    denied = requests.post(f"{api.url}/control/halt", timeout=5)
    assert denied.status_code == 401
    assert denied.headers["WWW-Authenticate"].startswith("Bearer")
    auth = {"Authorization": f"Bearer {TOKEN}"}
    halted = requests.post(f"{api.url}/control/halt", json={"reason": "t"}, headers=auth, timeout=5)
    assert halted.json()["halted"] is True
    resumed = requests.post(f"{api.url}/control/resume", headers=auth, timeout=5)
    answer = resumed.json()
    assert (answer["paused"], answer["halted"], answer["flags"]) == (False, False, {})
    assert "halted (by api: t)" in answer["cleared"]


def run_main(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.api"],
        cwd=ROOT,
        env=service_env("redis://127.0.0.1:1/0", **env),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"KIS_ENV": "bogus"}, "configuration error: KIS_ENV:"),
        ({"API_PORT": "eighty"}, "configuration error: API_PORT: must be a TCP port number"),
        ({"API_PORT": "70000"}, "configuration error: API_PORT: must be a TCP port number"),
        ({"API_PORT": "８０００"}, "configuration error: API_PORT: must be a TCP port number"),
        ({"API_HOST": "999.1.1.1"}, "configuration error: API_HOST: "),
        ({"API_HOST": "local host"}, "configuration error: API_HOST: "),
        ({"API_HOST": "no-such-host.invalid"}, "configuration error: API_HOST: "),
    ],
)
@pytest.mark.processes
def test_bad_configuration_exits_2_with_one_line(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    result = run_main(tmp_path, **env)
    assert result.returncode == 2
    assert result.stderr.startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1


def test_sigterm_stops_the_server_cleanly(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    running = start_api(redis_server, 5, tmp_path_factory.mktemp("api-stop"))
    try:
        running.service.process.terminate()
        assert running.service.process.wait(15) == 0
        assert "received SIGTERM, stopping" in running.service.output()
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{running.url}/healthz", timeout=2)
    finally:
        stop_api(running)
