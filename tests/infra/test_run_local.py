"""``scripts/run_local.py`` runs services as real processes and stops them all together."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.infra.helpers import ROOT

pytestmark = pytest.mark.processes

TWO_SERVICES = """
x-app: &app
  image: test:local
  build: .
services:
  redis: {image: "redis:7-alpine"}
  first:
    <<: *app
    command: {first}
    healthcheck: {test: ["CMD", "python", "-c", "pass"]}
  second:
    <<: *app
    command: {second}
    depends_on: {first: {condition: service_healthy}}
"""
# The first service greets a second late, as on a loaded machine: its health check does not wait.
LATE_GREETER = (
    '["python", "-c", "import time; time.sleep(1); '
    'print(\\"first up\\", flush=True); time.sleep(60)"]'
)
SLEEPER = '["python", "-c", "import time; print(\\"second up\\", flush=True); time.sleep(60)"]'
# The second service takes 3 s to stop once asked, as the executor finishing an order would.
SLOW_STOPPER = (
    '["python", "-c", "import signal, sys, time; '
    "signal.signal(signal.SIGTERM, lambda *_: (print('second stopping', flush=True), "
    "time.sleep(3), print('second stopped', flush=True), sys.exit(0))); "
    'print(\\"second up\\", flush=True); time.sleep(60)"]'
)
QUITTER = '["python", "-c", "import sys; print(\\"second failing\\"); sys.exit(3)"]'


def start(tmp_path: Path, second: str, *args: str) -> subprocess.Popen[str]:
    compose = tmp_path / "compose.yml"
    services = TWO_SERVICES.replace("{first}", LATE_GREETER).replace("{second}", second)
    compose.write_text(services, encoding="utf-8")
    return subprocess.Popen(
        [sys.executable, "scripts/run_local.py", "--compose-file", str(compose), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for_lines(process: subprocess.Popen[str], *texts: str, timeout: float = 20) -> list[str]:
    """Read output until every text has been seen, in whatever order the processes wrote it."""
    assert process.stdout is not None
    os.set_blocking(process.stdout.fileno(), False)
    seen: list[str] = []
    missing = set(texts)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line:
            seen.append(line.rstrip("\n"))
            missing = {text for text in missing if text not in line}
            if not missing:
                return seen
        else:
            time.sleep(0.05)
    raise AssertionError(f"no line with {sorted(missing)!r} in:\n" + "\n".join(seen))


def test_output_is_prefixed_and_sigterm_stops_everything(tmp_path: Path) -> None:
    process = start(tmp_path, SLEEPER)
    try:
        # The first service's health check does not wait for its greeting (which it delays, as
        # a loaded machine would), so "second up" can come before "first up".
        seen = wait_for_lines(process, "second    | second up", "first     | first up")
        assert any("first is healthy" in line for line in seen), seen
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0, out
    assert out.index("stopping second") < out.index("stopping first")


def stop_with_two_sigterms(tmp_path: Path, apart: float) -> str:
    """The output after two SIGTERMs ``apart`` seconds apart, once both services are up."""
    process = start(tmp_path, SLOW_STOPPER)
    try:
        wait_for_lines(process, "second    | second up", "first     | first up")
        process.send_signal(signal.SIGTERM)
        time.sleep(apart)
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=30)
    finally:
        process.kill()
    return out


def test_a_sigterm_that_arrives_twice_at_once_still_lets_every_service_finish(
    tmp_path: Path,
) -> None:
    # As `kill -- -PGID` on `make run` delivers it: to this process, and again through make.
    out = stop_with_two_sigterms(tmp_path, apart=0.05)
    assert "second    | second stopped" in out, out
    assert "killing it" not in out, out


def test_a_second_signal_later_kills_what_is_still_stopping(tmp_path: Path) -> None:
    out = stop_with_two_sigterms(tmp_path, apart=1.5)
    assert "second did not stop: killing it" in out, out
    assert "second stopped" not in out, out


def test_a_service_that_dies_stops_everything_with_failure(tmp_path: Path) -> None:
    process = start(tmp_path, QUITTER)
    try:
        out, _ = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 1, out
    assert "second    | second failing" in out
    assert "second exited with status 3" in out
    assert "stopping first" in out


def test_print_and_only(tmp_path: Path) -> None:
    process = start(tmp_path, SLEEPER, "--print", "--only", "second")
    out, _ = process.communicate(timeout=30)
    assert process.returncode == 0, out
    assert "second: python -c" in out
    assert "first:" not in out

    process = start(tmp_path, SLEEPER, "--print", "--only", "redis")
    out, _ = process.communicate(timeout=30)
    assert process.returncode == 2
    assert "unknown service(s) redis" in out
