"""The chaos run in small (see docs/ARCHITECTURE.md, 'Chaos run'): two short simulated days with
every service a process, each with a kill, a Redis restart, a KIS fault and a Discord outage.

``make chaos`` is the full measure (20 runs, every kind of chaos); this keeps it working.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from benchmarks.chaos import chaos
from benchmarks.chaos_plan import make_day, smoke_actions

pytestmark = [pytest.mark.processes, pytest.mark.slow]

SPEED = 600.0
"""As ``make chaos``: a day is about 45 s."""


def test_two_chaotic_days_place_every_order_once_and_finish(tmp_path: Path) -> None:
    days = [smoke_actions(make_day(seed, SPEED)) for seed in (101, 102)]
    assert all(day.actions and day.expected for day in days)
    out = io.StringIO()
    results = chaos(days, out, verbose=True, root=tmp_path)
    report = out.getvalue()
    assert report.splitlines()[-1] == "runs 2, duplicates 0, lost 0, unfinished 0", report
    assert all(result.clean for result in results), report
