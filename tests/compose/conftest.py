"""Compose projects on a real Docker engine, each with its own name, ports and volumes.

The image is built once per test session under a tag of its own (``KAT_IMAGE``), so a developer's
``kis-autotrader:local`` and other test runs on the same engine are left alone. Every project
gets a unique name, free host ports and an empty dotenv file (the repository's ``.env`` never
reaches these containers), and is removed with ``down -v`` afterwards.

Without an engine the tests skip, except under ``CI=true``, where they fail: CI prepares one
(``.ci/run``) and must not pass without having run them.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import ROOT, free_port

COMPOSE_FILE = ROOT / "docker-compose.yml"
SECRETS_FILE = ROOT / "compose.secrets.yml"
SERVICES = ("redis", "kis-sim", "executor", "scheduler", "notifier", "api")
"""Every service ``docker compose up`` starts (rq-dashboard is behind a profile)."""
APP_SERVICES = tuple(s for s in SERVICES if s != "redis")
"""The services that run our image."""
DAY = "2026-03-03"
"""The demo day (examples/README.md)."""
TOKEN = "compose-test-token-0123456789abcdef"
"""STATUS_API_TOKEN of the demo-day projects."""
DEMO_ENV = {
    # scripts/demo-day.sh's settings, with paths inside the image.
    "PICKS_FILE": "/app/examples/picks-2026-03-03.json",
    "SIM_PRICE_PATHS": "/app/examples/demo-prices.json",
    "SIM_RATE_LIMIT": "5",
    "KIS_RATE_LIMIT": "5",
    "EXPORT_DIR": "/app/data",
    "STATUS_API_TOKEN": TOKEN,
}
"""scripts/demo-day.sh's settings, for every service of our image."""
HEALTH_PROBES = {
    "redis": {"healthcheck": {"interval": "1s"}},
    **{name: {"healthcheck": {"interval": "3s"}} for name in APP_SERVICES},
}
"""Every project's first override: health probed every few seconds instead of every 5 to 15, so
``up --wait`` returns as soon as the services are up (Docker runs the first probe one interval
after the start, and the services become healthy one after another along ``depends_on``). The
probes themselves are the compose file's."""
COMMAND_TIMEOUT_SECONDS = 600
"""Longest a single docker command may take (a cold build downloads every dependency)."""
# What the host's environment could otherwise slip into compose's interpolation.
_HOST_VARIABLES = (
    "KIS_ENV",
    "KIS_BASE_URL",
    "KIS_SIM_URL",
    "CLOCK_START",
    "CLOCK_SPEED",
    "CLOCK_EPOCH",
    "CLOCK_HOLD",
    "API_PORT",
    "SIM_PORT",
    "RQ_DASHBOARD_PORT",
    "KAT_IMAGE",
    "KAT_ENV_FILE",
)


def docker_env(**variables: str) -> dict[str, str]:
    """This process's environment for docker, minus anything that would steer compose."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("COMPOSE_") and k not in _HOST_VARIABLES
    }
    env.update(variables)
    return env


def docker(
    *args: str, env: Mapping[str, str] | None = None, timeout: float = COMMAND_TIMEOUT_SECONDS
) -> subprocess.CompletedProcess[str]:
    """Run ``docker ARGS`` from the repository root; the result whatever its exit status."""
    return subprocess.run(
        ["docker", *args],
        cwd=ROOT,
        env=dict(env) if env is not None else docker_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def engine_problem() -> str | None:
    """Why ``docker compose`` cannot run here, or None when it can."""
    if shutil.which("docker") is None:
        return "no docker CLI on PATH"
    for args in (("info",), ("compose", "version")):
        try:
            result = docker(*args, timeout=30)
        except subprocess.TimeoutExpired:
            return f"docker {' '.join(args)} timed out"
        if result.returncode != 0:
            return f"docker {' '.join(args)} failed: {result.stderr.strip()[:300]}"
    return None


@dataclass(frozen=True)
class Image:
    """The image this session built, and what building it cost."""

    tag: str
    build_seconds: float


@pytest.fixture(scope="session")
def image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Image]:
    """``docker compose build`` once for the whole session, under a tag of its own."""
    problem = engine_problem()
    if problem:
        message = (
            f"no Docker engine for the compose tests ({problem}); "
            "run ../shared/tools/docker-engine.sh"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    tag = f"kis-autotrader:test-{uuid.uuid4().hex[:10]}"
    empty = tmp_path_factory.mktemp("compose-build") / "empty.env"
    empty.write_text("")
    started = time.monotonic()
    result = docker(
        "compose",
        "-f",
        str(COMPOSE_FILE),
        "--env-file",
        str(empty),
        "-p",
        "kat-build",
        "build",
        "api",
        env=docker_env(KAT_IMAGE=tag, KAT_ENV_FILE=str(empty)),
    )
    assert result.returncode == 0, f"docker compose build failed:\n{result.stderr[-4000:]}"
    yield Image(tag, time.monotonic() - started)
    docker("image", "rm", tag, timeout=120)  # the layers stay in the build cache


@dataclass
class Project:
    """One compose project: the repository's compose file, overrides, its own ports."""

    name: str
    folder: Path
    variables: dict[str, str]
    files: list[Path] = field(default_factory=list)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.variables['API_PORT']}"

    @property
    def sim_url(self) -> str:
        return f"http://127.0.0.1:{self.variables['SIM_PORT']}"

    def compose(
        self, *args: str, check: bool = True, timeout: float = COMMAND_TIMEOUT_SECONDS
    ) -> subprocess.CompletedProcess[str]:
        """``docker compose -p NAME -f ... ARGS``; fails the test on a non-zero exit by default."""
        files = [arg for path in [COMPOSE_FILE, *self.files] for arg in ("-f", str(path))]
        result = docker(
            "compose",
            *files,
            "--env-file",
            str(self.folder / "empty.env"),
            "-p",
            self.name,
            *args,
            env=docker_env(**self.variables),
            timeout=timeout,
        )
        if check:
            assert result.returncode == 0, (
                f"docker compose {' '.join(args)} exited {result.returncode}:\n"
                f"{result.stderr[-4000:]}\n{self.logs()[-8000:]}"
            )
        return result

    def up(self, *services: str, wait: bool = True) -> float:
        """``up -d [--wait] SERVICES``; the seconds it took."""
        started = time.monotonic()
        self.compose("up", "-d", *(["--wait"] if wait else []), "--no-build", *services)
        return time.monotonic() - started

    def down(self) -> None:
        self.compose("down", "-v", "--remove-orphans", "-t", "30", check=False)

    def logs(self, *services: str) -> str:
        result = self.compose("logs", "--no-color", *services, check=False, timeout=60)
        return result.stdout + result.stderr

    def containers(self) -> dict[str, dict[str, Any]]:
        """``docker inspect`` of each service's container, by service name."""
        ids = self.compose("ps", "-a", "-q").stdout.split()
        if not ids:
            return {}
        found = json.loads(docker("inspect", *ids).stdout)
        return {c["Config"]["Labels"]["com.docker.compose.service"]: c for c in found}

    def container(self, service: str) -> dict[str, Any]:
        return self.containers()[service]

    def health(self) -> dict[str, str]:
        """Each service's health status, or its state when it has no healthcheck."""
        return {
            name: (c["State"].get("Health") or {}).get("Status") or c["State"]["Status"]
            for name, c in self.containers().items()
        }

    def wait_healthy(self, services: Sequence[str], timeout: float = 120) -> None:
        wait_until(
            lambda: all(self.health().get(s) == "healthy" for s in services),
            timeout,
            f"{', '.join(services)} healthy",
            self,
        )

    def exec(self, service: str, *command: str) -> subprocess.CompletedProcess[str]:
        """``docker exec`` in the service's container (its exit status is the command's)."""
        return docker("exec", self.container(service)["Id"], *command, timeout=60)

    def main_pid(self, service: str) -> int:
        """Host PID of the service's own process: the child of docker-init, or PID 1."""
        pid = int(self.container(service)["State"]["Pid"])
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
        return int(children[0]) if comm == "docker-init" and children else pid

    def kill_main_process(self, service: str) -> int:
        """SIGKILL the service's process from the host, like a crash; the restart count before."""
        restarts = int(self.container(service)["RestartCount"])
        os.kill(self.main_pid(service), signal.SIGKILL)
        return restarts

    def get(self, path: str, **params: str) -> Any:
        response = requests.get(f"{self.api_url}{path}", params=params, timeout=10)
        response.raise_for_status()
        return response.json()


def wait_until(
    predicate: Callable[[], object], timeout: float, what: str, project: Project | None = None
) -> None:
    """Poll ``predicate`` every half second; fail with the project's logs after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except (requests.RequestException, OSError, KeyError, ValueError):
            pass
        time.sleep(0.5)
    logs = project.logs()[-10000:] if project else ""
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what}\n{logs}")


@pytest.fixture(scope="module")
def new_project(
    image: Image, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., Project]]:
    """Factory: ``new_project(files=[...], **variables)``; every project is ``down -v`` after."""
    made: list[Project] = []

    def make(files: Sequence[Path] = (), **variables: str) -> Project:
        name = f"kat-test-{uuid.uuid4().hex[:8]}"
        folder = tmp_path_factory.mktemp(name)
        (folder / "empty.env").write_text("")
        probes = write_override(folder, "health-probes.yml", HEALTH_PROBES)
        ports = {"API_PORT": str(free_port()), "SIM_PORT": str(free_port())}
        project = Project(
            name=name,
            folder=folder,
            variables={
                "KAT_IMAGE": image.tag,
                "KAT_ENV_FILE": str(folder / "empty.env"),
                **ports,
                **variables,
            },
            files=[probes, *files],
        )
        made.append(project)
        return project

    yield make
    for project in made:
        project.down()


def write_override(folder: Path, name: str, services: Mapping[str, Mapping[str, Any]]) -> Path:
    """A compose override file (JSON is YAML) with these service settings."""
    path = folder / name
    path.write_text(json.dumps({"services": services}, indent=2), encoding="utf-8")
    return path
