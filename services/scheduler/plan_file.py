"""The day plan's copy on the data volume: ``DATA_DIR/plans/{date}.json``.

See docs/ARCHITECTURE.md, 'When our state is lost' and 'Data directory'. Redis keeps the plan
for the processes; this file keeps it for a Redis that comes back empty, so the day goes on
with the morning's split of cash instead of a new one made from what is left of it.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from pathlib import Path

from shared.infra.files import read_text_or_none, write_atomically

log = logging.getLogger(__name__)

PLAN_FILE_RETENTION = timedelta(days=8)
"""How long a plan file is kept: a week of sessions plus a day, as Redis keeps a session's keys
(``SESSION_RETENTION_SECONDS``)."""


class PlanFiles:
    """Reads and writes the plans in one folder, one file per session."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, session: date) -> Path:
        return self.folder / f"{session.isoformat()}.json"

    def read(self, session: date) -> str | None:
        """The plan of ``session`` as JSON, or None when there is no such file."""
        return read_text_or_none(self.path(session))

    def write(self, session: date, plan_json: str) -> None:
        """Keep the plan of ``session``; a failure is logged, the plan in Redis still holds."""
        try:
            write_atomically(self.path(session), plan_json.encode("utf-8"))
        except OSError as e:
            log.warning("could not keep the plan of %s in %s: %s", session, self.folder, e)
        self.prune(session - PLAN_FILE_RETENTION)

    def prune(self, before: date) -> list[Path]:
        """Delete the plans of sessions before ``before``; the paths deleted."""
        try:
            files = list(self.folder.glob("*.json"))
        except OSError:
            return []
        gone = []
        for path in files:
            try:
                old = date.fromisoformat(path.stem) < before
            except ValueError:
                continue  # not a plan of ours
            if old:
                path.unlink(missing_ok=True)
                gone.append(path)
        return gone
