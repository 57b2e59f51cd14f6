"""``pytest --fast`` (``make test-fast``): the ``processes`` mark set from fixtures, and the guard
that fails a test left in which starts a process anyway (tests/fast_mode.py).

Each case runs a real pytest, as ``make test-fast`` does, on a small test file of its own with
the plugin loaded (``-p tests.fast_mode``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.fast_mode import SerialGroupScheduling, serial_group, unique_nodeids

CASES = '''
import os
import subprocess
import sys

import pytest


@pytest.fixture
def start_sim():
    """Named like the fixture that starts a simulator: its users are marked 'processes'."""
    yield None


@pytest.fixture
def through_start_sim(start_sim):
    yield start_sim


def run_python():
    subprocess.run([sys.executable, "-c", "pass"], check=True)


def test_pure():
    assert sum(range(4)) == 6


def test_uses_start_sim(start_sim):
    run_python()


def test_uses_it_through_another_fixture(through_start_sim):
    run_python()


@pytest.mark.processes
def test_marked_by_hand():
    run_python()


def test_starts_python_unmarked():
    run_python()


def test_swallows_the_refusal():
    try:
        run_python()
    except Exception:
        pass


def test_forks_unmarked():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
'''


def pytest_run(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (folder / "test_cases.py").write_text(CASES, encoding="utf-8")
    (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    plugins = ["-p", "tests.fast_mode", "-p", "no:cacheprovider", "-p", "no:xdist"]
    where = ["--rootdir", str(folder), str(folder)]
    return subprocess.run(
        [sys.executable, "-m", "pytest", *plugins, "-rA", "-q", *where, *args],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(folder)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def outcomes(output: str) -> dict[str, str]:
    """``{test name: PASSED|FAILED}`` from pytest's ``-rA`` summary."""
    found = {}
    for line in output.splitlines():
        word, _, rest = line.partition(" ")
        if word in {"PASSED", "FAILED"} and "::" in rest:
            found[rest.split("::")[1].split(" ")[0]] = word
    return found


@pytest.mark.processes
def test_without_fast_every_case_runs_and_passes(tmp_path: Path) -> None:
    done = pytest_run(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert set(outcomes(done.stdout).values()) == {"PASSED"}
    assert len(outcomes(done.stdout)) == 7, done.stdout


@pytest.mark.processes
def test_fast_leaves_out_the_marked_and_fails_an_unmarked_process(tmp_path: Path) -> None:
    done = pytest_run(tmp_path, "--fast")
    assert outcomes(done.stdout) == {
        "test_pure": "PASSED",
        "test_starts_python_unmarked": "FAILED",
        "test_swallows_the_refusal": "FAILED",
        "test_forks_unmarked": "FAILED",
    }, done.stdout + done.stderr
    assert "3 deselected" in done.stdout
    assert done.stdout.count("--fast: this test started a process") >= 3
    assert "mark it 'processes'" in done.stdout


@pytest.mark.processes
def test_the_suites_process_fixtures_mark_their_users() -> None:
    """A simulator test is left out, a pure one kept (collection only)."""
    files = ["tests/kis_sim/test_units.py", "tests/kis_sim/test_prices.py"]
    options = ["--fast", "--collect-only", "-q", "-p", "no:xdist"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *options, *files],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    kept = {line.split("::")[0] for line in done.stdout.splitlines() if "::" in line}
    assert kept == {"tests/kis_sim/test_units.py"}, done.stdout
    assert "deselected" in done.stdout


def test_a_group_is_one_unit_of_work_and_any_other_test_its_own() -> None:
    split = SerialGroupScheduling._split_scope
    assert serial_group("tests/compose/test_up.py::test_up_is_healthy") == "docker"
    assert serial_group("tests/infra/test_compose.py::test_dotenv_parsing") == "docker"
    assert serial_group("tests/e2e/test_buying.py::test_five") == "days"
    assert serial_group("tests/chaos/test_chaos_smoke.py::test_two") == "days-c"
    assert serial_group("tests/e2e/test_dry_run.py::test_a_dry_run_day[stream]") == "days-c"
    assert serial_group("tests/e2e/test_state_loss.py::test_wipe[none]") == "days-b"
    assert serial_group("tests/infra/test_scripts.py::test_x") is None
    for nodeid in ("tests/e2e/test_a.py::t", "tests/e2e/test_b.py::u[1]"):
        assert split(None, nodeid) == "days"  # type: ignore[arg-type]
    assert split(None, "tests/shared/test_rules.py::test_x[a@b]") == (  # type: ignore[arg-type]
        "tests/shared/test_rules.py::test_x[a@b]"
    )


def test_a_repeated_node_id_is_numbered_for_the_scheduler() -> None:
    same = "tests/api/test_schemathesis.py::test_no_server_error"
    assert unique_nodeids(["a::t", same, same, "b::u", same]) == [
        "a::t",
        same,
        f"{same}#2",
        "b::u",
        f"{same}#3",
    ]
