"""``docker compose up --wait`` as a user runs it: everything healthy, published on loopback only,
non-root on read-only root filesystems."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests

from tests.compose.conftest import APP_SERVICES, SERVICES, Image, Project, docker

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def system(new_project: Callable[..., Project], image: Image) -> Project:
    project = new_project()
    seconds = project.up()
    print(f"image built in {image.build_seconds:.0f}s; up --wait in {seconds:.0f}s")
    return project


def test_every_service_is_healthy(system: Project) -> None:
    assert system.health() == dict.fromkeys(SERVICES, "healthy")


def test_status_page_and_api_answer_on_loopback_only(system: Project) -> None:
    page = requests.get(f"{system.api_url}/", timeout=10)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    status = system.get("/status")
    assert status["mode"] == "sim"
    beating = {s["service"] for s in status["services"]}
    assert beating >= {"scheduler", "executor", "notifier"}
    assert requests.get(f"{system.sim_url}/sim/health", timeout=10).json()["ok"] is True

    published = {
        name: c["HostConfig"]["PortBindings"] or {} for name, c in system.containers().items()
    }
    api_port, sim_port = system.variables["API_PORT"], system.variables["SIM_PORT"]
    assert published["api"] == {f"{api_port}/tcp": [{"HostIp": "127.0.0.1", "HostPort": api_port}]}
    assert published["kis-sim"] == {
        f"{sim_port}/tcp": [{"HostIp": "127.0.0.1", "HostPort": sim_port}]
    }
    for name in ("redis", "executor", "scheduler", "notifier"):
        assert published[name] == {}, name
    redis_ports = system.container("redis")["NetworkSettings"]["Ports"]
    assert all(not bindings for bindings in redis_ports.values()), redis_ports


def test_containers_run_as_non_root_on_a_read_only_root(system: Project) -> None:
    containers = system.containers()
    for name in SERVICES:
        assert containers[name]["HostConfig"]["ReadonlyRootfs"] is True, name
        # Every process of the container, by the numeric user id the kernel sees.
        top = docker("top", containers[name]["Id"], "-eo", "pid,uid,args").stdout.splitlines()
        uids = {line.split()[1] for line in top[1:] if line.strip()}
        assert uids and "0" not in uids, (name, top)
        probe = system.exec(name, "sh", "-c", "touch /probe")
        assert probe.returncode != 0, name
        assert "Read-only file system" in probe.stderr + probe.stdout, name
    for name in APP_SERVICES:
        writable = system.exec(name, "sh", "-c", "touch /tmp/probe")
        assert writable.returncode == 0, (name, writable.stderr)
