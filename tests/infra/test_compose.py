"""docker-compose.yml is valid for docker compose, and ``make run`` starts what it says."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.infra.helpers import ROOT, load_run_local, tool

run_local = load_run_local()

PORT_VARIABLES = ("API_PORT", "SIM_PORT", "RQ_DASHBOARD_PORT")
"""The host ports a second system on the same machine moves (docker-compose.yml, make run)."""


def compose(*args: str, project: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "DOCKER_"))}
    # The variables compose interpolates must come from the files under test only.
    for name in (
        "KIS_ENV",
        "KIS_BASE_URL",
        "KIS_SIM_URL",
        "CLOCK_START",
        "CLOCK_SPEED",
        "CLOCK_EPOCH",
        *PORT_VARIABLES,
        "KAT_IMAGE",
        "KAT_ENV_FILE",
    ):
        env.pop(name, None)
    env.update(variables)
    return subprocess.run(
        [tool("docker-compose"), "--project-directory", str(project), *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the compose file alone: no .env, whatever the developer has in the repo."""
    shutil.copy(ROOT / "docker-compose.yml", tmp_path / "docker-compose.yml")
    shutil.copy(ROOT / "Dockerfile", tmp_path / "Dockerfile")
    return tmp_path


@pytest.mark.processes
def test_compose_config_is_valid_without_env_file(project: Path) -> None:
    result = compose("config", "-q", project=project)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


@pytest.mark.processes
def test_compose_config_is_valid_with_the_example_env_file(project: Path) -> None:
    shutil.copy(ROOT / ".env.example", project / ".env")
    result = compose("config", "-q", project=project)
    assert result.returncode == 0, result.stderr


@pytest.mark.processes
def test_resolved_compose_file_keeps_the_promises(project: Path) -> None:
    result = compose("config", "--format", "json", project=project)
    assert result.returncode == 0, result.stderr
    services: dict[str, Any] = json.loads(result.stdout)["services"]

    redis = services["redis"]
    assert redis["command"] == ["redis-server", "--appendonly", "yes"]
    assert "ports" not in redis
    assert [v["target"] for v in redis["volumes"]] == ["/data"]
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]

    sim = services["kis-sim"]
    assert sim["command"] == ["python", "-m", "services.kis_sim"]
    assert sim["depends_on"]["redis"]["condition"] == "service_healthy"
    assert sim["environment"]["REDIS_URL"] == "redis://redis:6379/0"
    assert sim["environment"]["KIS_ENV"] == "sim"
    assert sim["healthcheck"]["test"][0] == "CMD"
    assert all(p.get("host_ip") == "127.0.0.1" for p in sim.get("ports", []))
    for service in services.values():
        assert service["restart"] == "unless-stopped"

    # The whole system: one image, every service healthchecked and started after its
    # dependencies are healthy; only the API (and the sim) published, on this machine only.
    ours = {n: s for n, s in services.items() if n != "redis"}
    assert set(ours) == {"kis-sim", "executor", "scheduler", "notifier", "api"}
    assert {s["image"] for s in ours.values()} == {"kis-autotrader:local"}
    for name, service in ours.items():
        assert service["healthcheck"]["test"][0] == "CMD", name
        assert service["depends_on"]["redis"]["condition"] == "service_healthy", name
        for port in service.get("ports", []):
            assert port["host_ip"] == "127.0.0.1", name
    assert services["api"]["ports"][0]["published"] == "8000"
    assert services["scheduler"]["depends_on"]["executor"]["condition"] == "service_healthy"
    # A SIGTERM must let the order job in hand finish (job timeout 180 s).
    assert services["executor"]["stop_grace_period"] == "3m20s"  # 200 s

    # Non-root on a read-only root filesystem; writes go to a tmpfs or a named volume.
    for name, service in services.items():
        assert service["read_only"] is True, name
    assert services["redis"]["user"] == "redis"  # ours run as the image's USER 1000
    for name, service in ours.items():
        assert service["tmpfs"] == ["/tmp"], name
    assert [v["target"] for v in services["scheduler"]["volumes"]] == ["/app/data"]
    # One data volume (DATA_DIR): written by the scheduler (and one-off kat runs), read by the API.
    (data,) = services["api"]["volumes"]
    assert (data["source"], data["target"], data["read_only"]) == ("data", "/app/data", True)
    # The executor shares it for the sealed access token (DATA_DIR/kis/).
    for writer in ("scheduler", "executor"):
        assert services[writer]["volumes"][0]["source"] == "data"
        assert services[writer]["volumes"][0]["target"] == "/app/data"
        assert not services[writer]["volumes"][0].get("read_only")
    assert {s["environment"]["DATA_DIR"] for s in ours.values()} == {"/app/data"}


@pytest.mark.processes
def test_ports_move_together_for_a_second_system(project: Path) -> None:
    ports = {"API_PORT": "8100", "SIM_PORT": "8101", "RQ_DASHBOARD_PORT": "9281"}
    result = compose(
        "--profile", "dashboard", "config", "--format", "json", project=project, **ports
    )
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    published = {
        name: [(p["host_ip"], p["published"], p["target"]) for p in s.get("ports", [])]
        for name, s in services.items()
    }
    assert published["api"] == [("127.0.0.1", "8100", 8100)]
    assert published["kis-sim"] == [("127.0.0.1", "8101", 8101)]
    assert published["rq-dashboard"] == [("127.0.0.1", "9281", 9281)]
    assert services["api"]["environment"]["API_PORT"] == "8100"
    assert "127.0.0.1:8100/healthz" in services["api"]["healthcheck"]["test"][-1]
    assert "127.0.0.1:8101/sim/health" in services["kis-sim"]["healthcheck"]["test"][-1]
    for name in ("executor", "scheduler", "notifier", "api", "kis-sim"):
        assert services[name]["environment"]["KIS_SIM_URL"] == "http://kis-sim:8101", name


@pytest.mark.processes
def test_rq_dashboard_is_an_optional_profile(project: Path) -> None:
    result = compose("--profile", "dashboard", "config", "--format", "json", project=project)
    assert result.returncode == 0, result.stderr
    dashboard = json.loads(result.stdout)["services"]["rq-dashboard"]
    assert "--json" in dashboard["command"]
    assert dashboard["ports"][0]["host_ip"] == "127.0.0.1"


@pytest.mark.processes
def test_secrets_override_gives_every_service_its_files(project: Path) -> None:
    shutil.copy(ROOT / "compose.secrets.yml", project / "compose.secrets.yml")
    (project / "secrets").mkdir()
    for name in (
        "kis_app_key",
        "kis_app_secret",
        "kis_account",
        "status_api_token",
        "discord_webhook_url",
    ):
        (project / "secrets" / name).write_text("x")
    result = compose(
        "-f",
        "docker-compose.yml",
        "-f",
        "compose.secrets.yml",
        "config",
        "--format",
        "json",
        project=project,
    )
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    for name in ("scheduler", "executor", "notifier", "api"):
        env = services[name]["environment"]
        assert env["KIS_APP_KEY_FILE"] == "/run/secrets/kis_app_key", name
        assert env["REDIS_URL"] == "redis://redis:6379/0", name  # merged, not replaced
        assert {s["source"] for s in services[name]["secrets"]} >= {"kis_app_key", "kis_account"}


def compose_file() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_planner_starts_exactly_the_compose_command_of_every_service_of_our_image() -> None:
    data = compose_file()
    services = data["services"]
    images = {s["image"] for s in services.values() if "build" in s}
    ours = {
        name: s
        for name, s in services.items()
        if ("build" in s or s.get("image") in images) and "profiles" not in s
    }
    assert "kis-sim" in ours

    planned = {p.name: p for p in run_local.plan(data, {"PATH": os.defpath})}

    assert "redis" not in planned
    assert set(planned) == set(ours) - {"redis"}
    for name, service in ours.items():
        assert isinstance(service["command"], list), f"{name}: keep command a list"
        assert planned[name].argv == tuple(service["command"])


def test_planner_rewrites_compose_hostnames_for_this_machine() -> None:
    environ = {"PATH": os.defpath, "REDIS_URL": "redis://127.0.0.1:6390/3"}
    (sim,) = [p for p in run_local.plan(compose_file(), environ) if p.name == "kis-sim"]
    assert sim.env["REDIS_URL"] == "redis://127.0.0.1:6390/3"
    assert sim.env["KIS_SIM_URL"] == "http://127.0.0.1:8001"
    assert sim.env["SIM_HOST"] == "127.0.0.1"
    assert sim.env["SIM_PORT"] == "8001"
    assert sim.env["KIS_ENV"] == "sim"
    assert sim.healthcheck is not None and "/sim/health" in sim.healthcheck[-1]


def test_planner_uses_the_same_port_variables_as_compose() -> None:
    environ = {"PATH": os.defpath, "API_PORT": "8100", "SIM_PORT": "8101"}
    planned = {p.name: p for p in run_local.plan(compose_file(), environ)}
    assert planned["kis-sim"].env["SIM_PORT"] == "8101"
    assert planned["api"].env["API_PORT"] == "8100"
    assert planned["api"].env["API_HOST"] == "127.0.0.1"
    for service in planned.values():
        assert service.env["KIS_SIM_URL"] == "http://127.0.0.1:8101", service.name
    assert planned["api"].healthcheck is not None
    assert "127.0.0.1:8100/healthz" in planned["api"].healthcheck[-1]
    defaults = {p.name: p for p in run_local.plan(compose_file(), {"PATH": os.defpath})}
    assert defaults["api"].env["API_PORT"] == "8000"
    assert defaults["kis-sim"].env["KIS_SIM_URL"] == "http://127.0.0.1:8001"


def test_planner_puts_the_images_paths_in_this_checkout() -> None:
    # The image runs the checkout copied to /app (the Dockerfile's WORKDIR): its data volume at
    # /app/data is this checkout's data/ folder in a local run, not a folder at the root.
    planned = {p.name: p for p in run_local.plan(compose_file(), {"PATH": os.defpath})}
    for name in ("kis-sim", "scheduler", "executor", "notifier", "api"):
        assert planned[name].env["DATA_DIR"] == str(ROOT / "data"), name
    assert run_local.localize("/app", set(), "") == str(ROOT)
    assert run_local.localize("/application/x", set(), "") == "/application/x"
    assert run_local.localize("/srv/app/data", set(), "") == "/srv/app/data"


def test_planner_plays_the_dry_run_override_as_compose_merges_it() -> None:
    environ = {"PATH": os.defpath, "SIM_PORT": "8101"}
    override = yaml.safe_load((ROOT / "compose.dryrun.yml").read_text(encoding="utf-8"))
    dry = run_local.with_override(compose_file(), override)
    planned = {p.name: p for p in run_local.plan(dry, environ)}
    plain = {p.name: p for p in run_local.plan(compose_file(), environ)}
    assert set(planned) == set(plain)
    for name, service in planned.items():
        assert service.argv == plain[name].argv, name
        assert service.env["KIS_ENV"] == "dryrun", name
        assert service.env["DRYRUN_QUOTE_HOST"] == "real", name
        # Merged, not replaced: orders still go to the local ledger, on the same Redis.
        assert service.env["KIS_SIM_URL"] == "http://127.0.0.1:8101", name
        assert service.env["REDIS_URL"] == plain[name].env["REDIS_URL"], name
    ledger = planned["kis-sim"].env
    assert (ledger["SIM_PRICE_FEED"], ledger["SIM_PROFILE"], ledger["SIM_RULES"]) == (
        "upstream",
        "kis",
        "real",
    )
    assert ledger["SIM_REDIS_PREFIX"] == "kis_sim_dryrun:"
    assert ledger["SIM_HOST"] == "127.0.0.1" and ledger["SIM_PORT"] == "8101"
    paper = {p.name: p for p in run_local.plan(dry, {**environ, "DRYRUN_QUOTE_HOST": "paper"})}
    assert paper["kis-sim"].env["SIM_RULES"] == "paper"
    with pytest.raises(run_local.PlanError, match="tools: in the override"):
        run_local.with_override(compose_file(), {"services": {"tools": {"environment": {}}}})


SYNTHETIC = """
x-app: &app
  image: test:local
  build: .
  environment: &env
    KIS_BASE_URL: ${KIS_BASE_URL:-http://kis-sim:8001}
    REDIS_URL: redis://redis:6379/0
    CLOCK_START:
services:
  redis: {image: "redis:7-alpine"}
  viewer: {image: "some/other-tool", command: ["x"]}
  scheduler:
    <<: *app
    command: ["python", "-m", "services.scheduler", "--name", "$${NAME}"]
    environment:
      <<: *env
      API_URL: http://viewer:8080/v1
      EXTERNAL: https://api.example.com:443/x
      EMPTY_DEFAULT: ${NOT_SET_ANYWHERE-fallback}
    depends_on:
      kis-sim: {condition: service_healthy}
      redis: {condition: service_healthy}
  kis-sim:
    <<: *app
    command: ["python", "-m", "services.kis_sim"]
    healthcheck: {test: ["CMD-SHELL", "exit 0"]}
  tools:
    <<: *app
    profiles: [tools]
    command: ["python", "-m", "services.cli"]
"""


def test_planner_orders_by_dependency_and_interpolates_like_compose() -> None:
    data = yaml.safe_load(SYNTHETIC)
    environ = {"PATH": "/bin", "CLOCK_START": "2026-03-02T08:50:00+09:00", "OTHER": "kept"}
    planned = run_local.plan(data, environ)

    assert [p.name for p in planned] == ["kis-sim", "scheduler"]
    scheduler = planned[1]
    assert scheduler.argv == ("python", "-m", "services.scheduler", "--name", "${NAME}")
    assert scheduler.wait_for == ("kis-sim",)
    assert scheduler.env["KIS_BASE_URL"] == "http://127.0.0.1:8001"
    assert scheduler.env["API_URL"] == "http://127.0.0.1:8080/v1"
    assert scheduler.env["EXTERNAL"] == "https://api.example.com:443/x"
    assert scheduler.env["REDIS_URL"] == run_local.DEFAULT_REDIS_URL
    assert scheduler.env["EMPTY_DEFAULT"] == "fallback"
    assert scheduler.env["CLOCK_START"] == "2026-03-02T08:50:00+09:00"  # passed through
    assert scheduler.env["OTHER"] == "kept"
    assert planned[0].healthcheck == ("/bin/sh", "-c", "exit 0")

    overridden = run_local.plan(data, {**environ, "KIS_BASE_URL": "https://kis.example:9443"})
    assert overridden[1].env["KIS_BASE_URL"] == "https://kis.example:9443"

    assert [p.name for p in run_local.plan(data, environ, only=["scheduler"])] == ["scheduler"]
    assert run_local.plan(data, environ, only=["scheduler"])[0].wait_for == ()
    with pytest.raises(run_local.PlanError, match="tools"):
        run_local.plan(data, environ, only=["tools"])


def test_describe_masks_secrets() -> None:
    data = yaml.safe_load(SYNTHETIC)
    data["services"]["kis-sim"]["environment"] = {"KIS_APP_SECRET": "s3cret", "LOG_LEVEL": "INFO"}
    text = run_local.describe(run_local.plan(data, {"PATH": "/bin"}))
    assert "s3cret" not in text
    assert "KIS_APP_SECRET=***" in text
    assert "LOG_LEVEL=INFO" in text


def test_dotenv_parsing(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# comment\n\nA=1\nexport B = two words # note\nC='quoted # kept'\nD=\"x\"\nE=\n",
        encoding="utf-8",
    )
    assert run_local.read_dotenv(env_file) == {
        "A": "1",
        "B": "two words",
        "C": "quoted # kept",
        "D": "x",
        "E": "",
    }
    assert run_local.read_dotenv(tmp_path / "missing") == {}


@pytest.mark.processes
def test_the_dry_run_override_switches_every_service_and_the_ledger(project: Path) -> None:
    shutil.copy(ROOT / "compose.dryrun.yml", project / "compose.dryrun.yml")
    result = compose(
        "-f",
        "docker-compose.yml",
        "-f",
        "compose.dryrun.yml",
        "config",
        "--format",
        "json",
        project=project,
    )
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    for name in ("kis-sim", "scheduler", "executor", "notifier", "api"):
        env = services[name]["environment"]
        assert env["KIS_ENV"] == "dryrun", name
        assert env["DRYRUN_QUOTE_HOST"] == "real", name
        # Orders go to the ledger: the simulator, by its compose name.
        assert env["KIS_SIM_URL"] == "http://kis-sim:8001", name
        assert env["REDIS_URL"] == "redis://redis:6379/0", name  # merged, not replaced
    ledger = services["kis-sim"]["environment"]
    assert ledger["SIM_PRICE_FEED"] == "upstream"
    assert ledger["SIM_PROFILE"] == "kis"
    assert ledger["SIM_RULES"] == "real"
    assert ledger["SIM_REDIS_PREFIX"] == "kis_sim_dryrun:"
    assert any(v["target"] == "/app/data" for v in services["kis-sim"]["volumes"])
    paper = compose(
        "-f",
        "docker-compose.yml",
        "-f",
        "compose.dryrun.yml",
        "config",
        "--format",
        "json",
        project=project,
        DRYRUN_QUOTE_HOST="paper",
    )
    assert json.loads(paper.stdout)["services"]["kis-sim"]["environment"]["SIM_RULES"] == "paper"
