"""Run the services of docker-compose.yml as local processes, without Docker (``make run``).

Every service built from our image (not ``redis``, not one with ``profiles:``) runs exactly its
compose ``command`` from the repository root, in dependency order, waiting for a dependency's
healthcheck when compose would. Its environment is ``.env`` under the process environment under
the service's compose ``environment:``, with compose hostnames rewritten for this machine
(``http://kis-sim:8001`` -> ``http://127.0.0.1:8001``, ``redis://redis:6379/0`` -> ``REDIS_URL``)
and the image's paths put in this checkout (``/app/data`` -> ``data/`` here).
Output lines are prefixed with the service name; SIGINT/SIGTERM stops everything, and so does a
service that exits on its own (exit status 1). Ports are the compose file's too: its
``${API_PORT:-8000}`` and ``${SIM_PORT:-8001}`` read the same environment here, so one setting
moves a port for compose and ``make run`` alike.

``--dry-run`` adds ``compose.dryrun.yml`` as ``docker compose -f docker-compose.yml -f
compose.dryrun.yml`` would: each service's ``environment:`` from the second file over the first's
(docs/ARCHITECTURE.md, 'Dry run'). Its volumes are compose's business; a local run keeps its data
in the checkout's ``data/`` folder as always.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TextIO

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DRY_RUN_FILE = ROOT / "compose.dryrun.yml"
ENV_FILE = ROOT / ".env"

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
"""Where the local Redis is when ``REDIS_URL`` is not set."""
LOCAL_HOST = "127.0.0.1"
"""What a compose hostname becomes in a local run."""
IMAGE_ROOT = "/app"
"""Where the image holds the checkout (the Dockerfile's ``WORKDIR``): a path under it in the
compose file (``DATA_DIR=/app/data``, the data volume) is the same path under ``ROOT`` here."""
SKIPPED_SERVICES = frozenset({"redis"})
"""Compose services a local run never starts (scripts/run-local.sh provides Redis)."""
STOP_TIMEOUT_SECONDS = 10.0
"""Seconds a service gets to exit after SIGTERM before it is killed (compose's default)."""
HEALTH_TIMEOUT_SECONDS = 60.0
"""Seconds to wait for a dependency's healthcheck to pass before giving up."""
HEALTH_INTERVAL_SECONDS = 0.5
"""Seconds between two healthcheck attempts while waiting."""
POLL_SECONDS = 0.2
"""Seconds between two checks that every service is still running."""
REPEAT_SIGNAL_SECONDS = 1.0
"""A signal this soon after the one that asked for the stop is that same request again, not a
second Ctrl-C: a SIGTERM to the whole process group (``kill -- -PGID``, a process manager)
reaches this process directly and once more through ``make``. Only a later one forces the stop."""

SECRET_NAME = re.compile(r"KEY|SECRET|TOKEN|PASSWORD|WEBHOOK|ACCOUNT", re.IGNORECASE)
_DOTENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")
_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)
_URL_HOST = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<host>[A-Za-z0-9_.-]+)")


class PlanError(ValueError):
    """The compose file asks for something a local run cannot do."""


@dataclass(frozen=True)
class PlannedService:
    """One process of a local run."""

    name: str
    argv: tuple[str, ...]
    env: Mapping[str, str] = field(repr=False)
    """The whole environment of the process."""
    overrides: Mapping[str, str] = field(repr=False)
    """The part of ``env`` that comes from the compose file (after rewriting)."""
    healthcheck: tuple[str, ...] | None = None
    """Command whose success means the service is healthy, if compose gives one."""
    wait_for: tuple[str, ...] = ()
    """Planned services that must be healthy before this one starts."""


# Pure parts: compose file -> plan ------------------------------------------------------------


def read_compose(path: Path = COMPOSE_FILE) -> dict[str, Any]:
    """The compose file as a mapping (YAML merge keys resolved)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("services"), dict):
        raise PlanError(f"{path}: no services mapping")
    return data


def with_override(compose: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``compose`` with a second compose file's services merged in, as far as a local run reads
    them: each service's environment variables, the override's winning (compose's rule)."""
    services = {name: dict(service) for name, service in compose["services"].items()}
    for name, extra in override["services"].items():
        if name not in services:
            raise PlanError(f"{name}: in the override, not in docker-compose.yml")
        merged = {**compose_environment(services[name]), **compose_environment(extra)}
        services[name]["environment"] = merged
    return {**compose, "services": services}


def read_dotenv(path: Path = ENV_FILE) -> dict[str, str]:
    """``KEY=VALUE`` lines of a ``.env`` file (comments, ``export`` and quotes allowed)."""
    if not path.is_file():
        return {}
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _DOTENV_LINE.match(line)
        if not match:
            continue
        key, value = match.group(1), match.group(2).strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        else:
            value = re.sub(r"\s+#.*$", "", value)
        values[key] = value
    return values


def interpolate(text: str, variables: Mapping[str, str]) -> str:
    """Compose's ``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR:?error}``... and ``$$``."""

    def replace(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["plain"]
        value = variables.get(name)
        op, arg = match["op"], match["arg"] or ""
        is_set = value is not None and (value != "" or not (op or "").startswith(":"))
        if op in ("-", ":-"):
            return value if is_set and value is not None else interpolate(arg, variables)
        if op in ("?", ":?"):
            if not is_set or value is None:
                raise PlanError(f"{name}: {arg or 'is required by docker-compose.yml'}")
            return value
        if op in ("+", ":+"):
            return interpolate(arg, variables) if is_set else ""
        return value or ""

    return _VARIABLE.sub(replace, text)


def localize(value: str, hostnames: set[str], redis_url: str) -> str:
    """A compose environment value made right for this machine (see the module docstring)."""
    if value == "0.0.0.0":  # noqa: S104 - the point is to not listen on every interface locally
        return LOCAL_HOST
    if value == IMAGE_ROOT or value.startswith(f"{IMAGE_ROOT}/"):
        return str(ROOT / value[len(IMAGE_ROOT) :].lstrip("/"))
    match = _URL_HOST.match(value)
    if match and match["scheme"] in ("redis", "rediss") and match["host"] in hostnames:
        return redis_url

    def replace(m: re.Match[str]) -> str:
        host = LOCAL_HOST if m["host"] in hostnames else m["host"]
        return f"{m['scheme']}://{host}"

    return _URL_HOST.sub(replace, value)


def compose_environment(service: Mapping[str, Any]) -> dict[str, str | None]:
    """A service's ``environment:`` (mapping or list form); None means "pass through if set"."""
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        pairs = [item.split("=", 1) if "=" in item else [item, None] for item in map(str, raw)]
        raw = {pair[0]: pair[1] for pair in pairs}
    env: dict[str, str | None] = {}
    for key, value in raw.items():
        if value is None:
            env[str(key)] = None
        elif isinstance(value, bool):
            env[str(key)] = "true" if value else "false"
        else:
            env[str(key)] = str(value)
    return env


def _argv(spec: Any, variables: Mapping[str, str]) -> tuple[str, ...]:
    if isinstance(spec, str):
        return tuple(shlex.split(interpolate(spec, variables)))
    return tuple(interpolate(str(part), variables) for part in spec)


def _healthcheck(
    service: Mapping[str, Any], variables: Mapping[str, str]
) -> tuple[str, ...] | None:
    test = (service.get("healthcheck") or {}).get("test")
    if not test or service["healthcheck"].get("disable"):
        return None
    if isinstance(test, str):
        return ("/bin/sh", "-c", interpolate(test, variables))
    kind, *rest = [str(part) for part in test]
    if kind == "CMD":
        return _argv(rest, variables)
    if kind == "CMD-SHELL":
        return ("/bin/sh", "-c", interpolate(" ".join(rest), variables))
    return None


def _dependencies(service: Mapping[str, Any]) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {str(name): "service_started" for name in deps}
    return {
        str(name): str((spec or {}).get("condition", "service_started"))
        for name, spec in deps.items()
    }


def plan(
    compose: Mapping[str, Any],
    environ: Mapping[str, str],
    only: Sequence[str] = (),
) -> list[PlannedService]:
    """What a local run starts, in start order.

    ``environ`` is the base environment of every process (``.env`` under ``os.environ``); it is
    also what ``${...}`` in the compose file reads, as with compose. Its ``REDIS_URL`` (or the
    default) replaces any ``redis://`` URL that names a compose service.
    """
    services: Mapping[str, Mapping[str, Any]] = compose["services"]
    hostnames = set(services)
    redis_url = environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    our_images = {str(s["image"]) for s in services.values() if "build" in s and "image" in s}

    chosen: dict[str, Mapping[str, Any]] = {}
    for name, service in services.items():
        ours = "build" in service or service.get("image") in our_images
        if ours and name not in SKIPPED_SERVICES and "profiles" not in service:
            chosen[name] = service
    unknown = [name for name in only if name not in chosen]
    if unknown:
        raise PlanError(f"unknown service(s) {', '.join(unknown)}; known: {', '.join(chosen)}")
    if only:
        chosen = {name: s for name, s in chosen.items() if name in only}

    planned: dict[str, PlannedService] = {}
    for name in _start_order(chosen):
        service = chosen[name]
        if not service.get("command"):
            raise PlanError(f"service {name!r} has no command: give it one (a list)")
        overrides = {
            key: localize(interpolate(value, environ), hostnames, redis_url)
            for key, value in compose_environment(service).items()
            if value is not None  # pass-through: already in environ when set there
        }
        env = {"PYTHONUNBUFFERED": "1", **environ, **overrides}
        wait_for = tuple(
            dep
            for dep, condition in _dependencies(service).items()
            if condition == "service_healthy" and dep in planned and planned[dep].healthcheck
        )
        planned[name] = PlannedService(
            name=name,
            argv=_argv(service["command"], environ),
            env=env,
            overrides=overrides,
            healthcheck=_healthcheck(service, environ),
            wait_for=wait_for,
        )
    return list(planned.values())


def _start_order(services: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Names with every dependency before its dependents (compose file order otherwise)."""
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order or name not in services:
            return
        if name in visiting:
            raise PlanError(f"dependency cycle through {name!r}")
        visiting.add(name)
        for dep in _dependencies(services[name]):
            visit(dep)
        visiting.discard(name)
        order.append(name)

    for name in services:
        visit(name)
    return order


def describe(services: Sequence[PlannedService]) -> str:
    """The plan for ``--print``: each command and its compose environment, secrets masked."""
    lines = []
    for service in services:
        lines.append(f"{service.name}: {shlex.join(service.argv)}")
        if service.wait_for:
            lines.append(f"    (after {', '.join(service.wait_for)} is healthy)")
        for key, value in sorted(service.overrides.items()):
            shown = "***" if SECRET_NAME.search(key) and value else value
            lines.append(f"    {key}={shown}")
    return "\n".join(lines)


# Impure parts: processes ---------------------------------------------------------------------


class Runner:
    """Starts the planned services, relays their output, and stops them all together."""

    def __init__(self, services: Sequence[PlannedService], out: TextIO = sys.stdout) -> None:
        self.services = services
        self.out = out
        self.width = max([len(s.name) for s in services] + [len("run-local")])
        self.stopping = threading.Event()
        self.forced = threading.Event()
        self.signalled_at: float | None = None
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.pumps: list[threading.Thread] = []
        self._lock = threading.Lock()

    def say(self, name: str, line: str) -> None:
        with self._lock:
            self.out.write(f"{name:<{self.width}} | {line}\n")
            self.out.flush()

    def request_stop(self, signum: int, _frame: object) -> None:
        """SIGINT/SIGTERM: stop everything; a second request while stopping kills what is left
        (a repeat within ``REPEAT_SIGNAL_SECONDS`` of the first signal is not one)."""
        now = time.monotonic()
        repeat = self.signalled_at is not None and now - self.signalled_at < REPEAT_SIGNAL_SECONDS
        if self.stopping.is_set() and not repeat:
            self.forced.set()
        if self.signalled_at is None:
            self.signalled_at = now
        self.stopping.set()

    def run(self) -> int:
        """Start everything, wait for a signal or a death, stop everything; the exit status."""
        status = self._start_all()
        while status == 0 and not self.stopping.is_set():
            for name, process in self.processes.items():
                if process.poll() is not None:
                    self.say("run-local", f"{name} exited with status {process.returncode}")
                    status = 1
                    break
            else:
                self.stopping.wait(POLL_SECONDS)
        if status:
            self.say("run-local", "stopping everything")
        self.stop_all()
        return status

    def _start_all(self) -> int:
        for service in self.services:
            for dep in service.wait_for:
                if not self._wait_healthy(dep):
                    return 0 if self.stopping.is_set() else 1
            if self.stopping.is_set():
                return 0
            self.say("run-local", f"starting {service.name}: {shlex.join(service.argv)}")
            # A session of its own: a terminal's Ctrl-C reaches only us, and we stop the
            # services in order (a service's own children go with it: we signal the group).
            process = subprocess.Popen(
                service.argv,
                cwd=ROOT,
                env=dict(service.env),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            self.processes[service.name] = process
            assert process.stdout is not None
            pump = threading.Thread(
                target=self._pump, args=(service.name, process.stdout), daemon=True
            )
            pump.start()
            self.pumps.append(pump)
        return 0

    def _pump(self, name: str, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            self.say(name, raw.decode("utf-8", errors="replace").rstrip("\r\n"))
        stream.close()

    def _wait_healthy(self, name: str) -> bool:
        service = next(s for s in self.services if s.name == name)
        assert service.healthcheck is not None
        deadline = time.monotonic() + HEALTH_TIMEOUT_SECONDS
        while not self.stopping.is_set():
            if self.processes[name].poll() is not None:
                self.say(
                    "run-local", f"{name} exited with status {self.processes[name].returncode}"
                )
                return False
            try:
                check = subprocess.run(
                    service.healthcheck,
                    cwd=ROOT,
                    env=dict(service.env),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    timeout=5,
                    check=False,
                )
                if check.returncode == 0:
                    self.say("run-local", f"{name} is healthy")
                    return True
            except subprocess.TimeoutExpired:
                pass
            if time.monotonic() > deadline:
                self.say("run-local", f"{name} not healthy after {HEALTH_TIMEOUT_SECONDS:g}s")
                return False
            self.stopping.wait(HEALTH_INTERVAL_SECONDS)
        return False

    def stop_all(self) -> None:
        """SIGTERM each service (dependents first), SIGKILL what outlives the timeout."""
        for name, process in reversed(self.processes.items()):
            if process.poll() is None:
                self.say("run-local", f"stopping {name}")
                _signal_group(process, signal.SIGTERM)
                deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
                while process.poll() is None and time.monotonic() < deadline:
                    if self.forced.is_set():
                        break
                    time.sleep(0.05)
            if process.poll() is None:
                self.say("run-local", f"{name} did not stop: killing it")
                _signal_group(process, signal.SIGKILL)
                process.wait()
            else:
                _signal_group(process, signal.SIGKILL)  # leftovers of its process group
        for pump in self.pumps:
            pump.join(timeout=2)


def _signal_group(process: subprocess.Popen[bytes], signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


def stop_pid(pid: int, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
    """SIGTERM a process that is not our child (the redis-server run-local.sh started)."""
    try:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            os.kill(pid, 0)
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--print", action="store_true", help="list what would run, then exit")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="start only this service (repeatable)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="live KIS prices, a simulated wallet: compose.dryrun.yml over docker-compose.yml",
    )
    parser.add_argument("--compose-file", type=Path, default=COMPOSE_FILE, help=argparse.SUPPRESS)
    parser.add_argument("--redis-pid", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    # KAT_ENV_FILE names the dotenv file, as for every service (empty: none).
    env_file = os.environ.get("KAT_ENV_FILE", str(ENV_FILE))
    environ = {**(read_dotenv(Path(env_file)) if env_file else {}), **os.environ}
    # Compose commands say "python": make that this interpreter (the project's venv).
    bin_dir = str(Path(sys.executable).parent)
    environ["PATH"] = os.pathsep.join([bin_dir, environ.get("PATH", os.defpath)])
    try:
        compose = read_compose(args.compose_file)
        if args.dry_run:
            compose = with_override(compose, read_compose(DRY_RUN_FILE))
        services = plan(compose, environ, only=args.only)
    except PlanError as e:
        print(f"run-local: {e}", file=sys.stderr)
        return 2
    if not services:
        print("run-local: docker-compose.yml has no service to run locally", file=sys.stderr)
        return 2
    if args.print:
        print(f"REDIS_URL={environ.get('REDIS_URL') or DEFAULT_REDIS_URL}")
        print(describe(services))
        return 0

    runner = Runner(services)
    signal.signal(signal.SIGINT, runner.request_stop)
    signal.signal(signal.SIGTERM, runner.request_stop)
    try:
        return runner.run()
    finally:
        if args.redis_pid:
            runner.say("run-local", "stopping redis-server")
            stop_pid(args.redis_pid)


if __name__ == "__main__":
    sys.exit(main())
