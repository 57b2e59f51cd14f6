"""``make bench`` (benchmarks/kis_rate.py) measures each scenario from nothing: Redis flushed, the
simulator reset, and no sealed token left on disk by the scenario before."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.processes, pytest.mark.slow]


def test_no_scenario_inherits_the_token_of_the_one_before(tmp_path: Path) -> None:
    # A DATA_DIR in the environment, as a user's shell or .env may set: the benchmark's workers
    # must not keep their sealed token there, where the next scenario (the simulator reset, the
    # token forgotten) would read it back and be told it expired.
    data_dir = tmp_path / "data"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.kis_rate", "--seconds", "1"],
        cwd=ROOT,
        env={**os.environ, "DATA_DIR": str(data_dir), "KAT_ENV_FILE": ""},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines() if line.startswith(("paper", "real"))]
    assert len(rows) == 4, done.stdout
    assert all(row[7] == "1" for row in rows), done.stdout  # one token issued in each
    assert "expired" not in done.stderr, done.stderr
    assert not data_dir.exists() or not any(data_dir.rglob("*")), "the user's DATA_DIR untouched"
