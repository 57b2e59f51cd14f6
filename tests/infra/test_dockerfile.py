"""The Dockerfile passes hadolint and keeps the image's promises."""

from __future__ import annotations

import subprocess

import pytest

from tests.infra.helpers import ROOT, tool


@pytest.mark.processes
def test_hadolint_is_silent() -> None:
    result = subprocess.run(
        [tool("hadolint"), "--no-color", "Dockerfile"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_image_runs_as_non_root_and_installs_dependencies_before_the_source() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    users = [line.split()[1] for line in text.splitlines() if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert "PYTHONUNBUFFERED=1" in text
    assert text.index("COPY pyproject.toml") < text.index("pip install") < text.index("COPY shared")
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for name in (".venv", ".git", ".run", ".env"):
        assert name in ignored
