"""Once-a-session markers, kept in Redis and on the data volume.

See docs/ARCHITECTURE.md, 'Once a session'. A notice that must go out once a session (the day's
summary, "KRX is closed today", a money limit tripped) is marked under ``keys.once(what,
session)`` in Redis, where every process sees it, and by a file ``{folder}/{session}/{what}``
created exclusively on the data volume, which a Redis that comes back empty does not take with
it. The first caller to create both is the one that tells; a marker found in either place means
it was told.
"""

from __future__ import annotations

import logging
import os
import shutil
from datetime import date, timedelta
from pathlib import Path

import redis

from shared.infra.redis_keys import SESSION_RETENTION_SECONDS, Keys

log = logging.getLogger(__name__)

ONCE_FOLDER = "once"
"""The marks' folder in ``DATA_DIR``."""
ONCE_FILE_RETENTION = timedelta(seconds=SESSION_RETENTION_SECONDS)
"""How long a session's marker files are kept: as long as Redis keeps its markers."""


class OnceMarks:
    """Marks that something happened for a session, in Redis and in ``folder`` (``None``: Redis
    only, for a process without the data volume)."""

    def __init__(self, client: redis.Redis, keys: Keys, folder: Path | None) -> None:
        self._redis = client
        self._keys = keys
        self.folder = folder

    def path(self, what: str, session: date) -> Path | None:
        return None if self.folder is None else self.folder / session.isoformat() / what

    def done(self, what: str, session: date) -> bool:
        """Whether ``what`` is marked for ``session`` in Redis or on the volume."""
        if self._redis.exists(self._keys.once(what, session)):
            return True
        path = self.path(what, session)
        return path is not None and path.exists()

    def first(self, what: str, session: date) -> bool:
        """Mark ``what`` for ``session``; True for the one caller that marked it first.

        Redis is asked first (SET NX: one winner among the processes); the winner then creates
        the file exclusively, and loses when the file is there already (Redis was wiped after
        the mark). A file that cannot be written is logged and leaves Redis's answer standing:
        the volume keeps a mark, it is not needed to trade.
        """
        key = self._keys.once(what, session)
        if not self._redis.set(key, "1", nx=True, ex=SESSION_RETENTION_SECONDS):
            return False
        path = self.path(what, session)
        if path is None:
            return True
        try:
            created = _create_exclusively(path)
        except OSError as e:
            log.warning("could not keep the mark %s on the data volume: %s", path, e)
            return True
        if created:
            self.prune(session - ONCE_FILE_RETENTION)
        return created

    def prune(self, before: date) -> list[Path]:
        """Delete the marks of sessions before ``before``; the folders deleted."""
        if self.folder is None:
            return []
        try:
            folders = [p for p in self.folder.iterdir() if p.is_dir()]
        except OSError:
            return []
        gone = []
        for folder in folders:
            try:
                old = date.fromisoformat(folder.name) < before
            except ValueError:
                continue  # not a session of ours
            if old:
                shutil.rmtree(folder, ignore_errors=True)
                gone.append(folder)
        return gone


def _create_exclusively(path: Path) -> bool:
    """Create the empty file ``path``; False when it exists already."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        handle = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    os.close(handle)
    return True
