"""The shell entry points fail with one clear line when a prerequisite is missing."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

import pytest

from tests.infra.helpers import ROOT

pytestmark = pytest.mark.processes

BASH = shutil.which("bash") or "/bin/bash"
REDIS_MISSING = (
    "redis-server not found: install the 'redis-server' package"
    " (e.g. sudo apt-get install redis-server)"
)


def path_without(bin_dir: Path, names: Iterable[str]) -> str:
    """A PATH with every command of the current one but ``names`` (links in ``bin_dir``)."""
    bin_dir.mkdir()
    left_out = set(names)
    for directory in os.environ.get("PATH", os.defpath).split(os.pathsep):
        if not directory or not Path(directory).is_dir():
            continue
        for entry in Path(directory).iterdir():
            if any(entry.name.startswith(name) for name in left_out):
                continue
            link = bin_dir / entry.name
            if not link.exists() and not link.is_symlink() and os.access(entry, os.X_OK):
                link.symlink_to(entry)
    return str(bin_dir)


def run(args: list[str], path: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": path, "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8", **extra}
    return subprocess.run(
        [BASH, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_test_script_says_one_line_when_redis_server_is_missing(tmp_path: Path) -> None:
    path = path_without(tmp_path / "bin", ["redis-server"])
    result = run(["scripts/test.sh"], path, TEST_SH_CHECK_ONLY="1", TEST_SH_NO_APT="1")
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.strip() == REDIS_MISSING
    assert "pytest" not in result.stdout


def test_test_script_finds_redis_server_on_path(tmp_path: Path) -> None:
    fake = tmp_path / "fake-bin" / "redis-server"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    fake.chmod(0o755)
    path = path_without(tmp_path / "bin", ["redis-server"])
    result = run(
        ["scripts/test.sh"],
        f"{fake.parent}{os.pathsep}{path}",
        TEST_SH_CHECK_ONLY="1",
        TEST_SH_NO_APT="1",
    )
    assert result.returncode == 0, result.stderr
    assert f"redis-server: {fake}" in result.stdout


def test_test_script_says_one_line_when_the_browser_is_missing_after_making_the_venv(
    tmp_path: Path,
) -> None:
    # The browser is looked for beside the bootstrap of .venv: a missing browser is said once,
    # on stderr, when the bootstrap is done, and nothing runs after. A copy of test.sh runs, with
    # a bootstrap that only leaves a mark, so the real .venv is neither used nor touched.
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "test.sh", tmp_path / "scripts" / "test.sh")
    (tmp_path / "scripts" / "bootstrap.sh").write_text(
        "sleep 0.5\necho bootstrapped > bootstrap-ran\n", encoding="utf-8"
    )
    redis_server = tmp_path / "redis-server"
    redis_server.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    redis_server.chmod(0o755)
    path = path_without(tmp_path / "bin", ["chromium", "chromedriver"])
    result = subprocess.run(
        [BASH, "scripts/test.sh"],
        cwd=tmp_path,
        env={
            "PATH": path,
            "HOME": str(tmp_path),
            "TEST_SH_NO_APT": "1",
            "REDIS_SERVER_BIN": str(redis_server),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.strip() == (
        "chromium or chromedriver not found: install the 'chromium' and 'chromium-driver'"
        " packages (e.g. sudo apt-get install chromium chromium-driver)"
    )
    assert (tmp_path / "bootstrap-ran").read_text(encoding="utf-8") == "bootstrapped\n"
    assert "ruff" not in result.stdout


def test_bootstrap_says_one_line_when_no_python_is_found(tmp_path: Path) -> None:
    # A copy of the repository's bones, so the real .venv is neither used nor touched.
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "bootstrap.sh", tmp_path / "scripts" / "bootstrap.sh")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    path = path_without(tmp_path / "bin", ["python", "pyenv"])
    result = subprocess.run(
        [BASH, "scripts/bootstrap.sh"],
        cwd=tmp_path,
        env={"PATH": path, "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "bootstrap: no Python >= 3.11 found (tried python3.13, python3.12, python3.11, python3)"
    )
    assert not (tmp_path / ".venv").exists()


def test_run_local_print_lists_the_compose_services() -> None:
    result = run(["scripts/run-local.sh", "--print"], os.environ.get("PATH", os.defpath))
    assert result.returncode == 0, result.stderr
    assert "kis-sim: python -m services.kis_sim" in result.stdout
    assert not [line for line in result.stdout.splitlines() if line.startswith("redis:")]
