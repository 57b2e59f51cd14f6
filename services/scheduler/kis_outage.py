"""Say once on Discord when KIS stops answering during a session, and once when it answers again.

The outage itself is recorded by every process's KIS transport (``shared/kis/reachability.py``);
the leading scheduler only tells of it. ``kis:outage-told:{env}`` holds the announced outage's
start, set with ``NX`` and taken back with ``GETDEL``, so each message goes once whatever the
number of schedulers. A copy on the data volume (``told_file``) keeps a Redis wiped during the
outage from telling it again, and lets its end still be told. See docs/ARCHITECTURE.md, 'When
KIS does not answer'.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import redis

from shared.infra.clock import KST
from shared.infra.files import read_text_or_none, write_atomically
from shared.infra.redis_keys import SESSION_RETENTION_SECONDS
from shared.kis.reachability import KisOutage, read_outage
from shared.messaging.events import Event, KisBack
from shared.messaging.events import KisOutage as KisOutageEvent

log = logging.getLogger(__name__)


class OutageNotices:
    """Looked at on every turn of the scheduler's loop."""

    def __init__(
        self,
        client: redis.Redis,
        outage_key: str,
        told_key: str,
        notify: Callable[[Event], None],
        now: Callable[[], datetime] = lambda: datetime.now(KST),
        told_file: Path | None = None,
    ) -> None:
        self._redis = client
        self._outage_key = outage_key
        self._told_key = told_key
        self._notify = notify
        self._now = now
        self._told_file = told_file

    def current(self) -> KisOutage | None:
        return read_outage(self._redis, self._outage_key)

    def look(self, in_session: bool) -> KisOutage | None:
        """Tell a new outage (in a session only) or the end of a told one; the outage, if any."""
        outage = self.current()
        if outage is not None:
            if in_session and self._redis.set(
                self._told_key, str(outage.since_epoch), nx=True, ex=SESSION_RETENTION_SECONDS
            ):
                earlier = self._told_on_volume()
                if earlier is not None:  # told before Redis was wiped: the same outage
                    self._redis.set(self._told_key, str(earlier), ex=SESSION_RETENTION_SECONDS)
                    return outage
                self._keep_told(outage.since_epoch)
                log.error("%s since %s", outage.problem, _kst(outage.since_epoch))
                self._notify(
                    KisOutageEvent(since_kst=_kst(outage.since_epoch), detail=outage.detail)
                )
            return outage
        told = self._redis.getdel(self._told_key)
        since = float(told) if told is not None else self._told_on_volume()
        if since is not None:
            self._forget_told()
            self._notify(KisBack(since_kst=_kst(since), until_kst=self._now()))
        return None

    # The copy on the data volume -----------------------------------------------------------------
    def _told_on_volume(self) -> float | None:
        """The start of the outage told, from the volume; None without one (or a stale one)."""
        if self._told_file is None:
            return None
        text = read_text_or_none(self._told_file)
        try:
            since = float(text) if text is not None else None
        except ValueError:
            since = None
        if since is None or time.time() - since > SESSION_RETENTION_SECONDS:
            return None
        return since

    def _keep_told(self, since_epoch: float) -> None:
        if self._told_file is None:
            return
        try:
            write_atomically(self._told_file, str(since_epoch).encode("ascii"))
        except OSError as e:
            log.warning("could not keep the told outage in %s: %s", self._told_file, e)

    def _forget_told(self) -> None:
        if self._told_file is not None:
            with contextlib.suppress(OSError):
                self._told_file.unlink(missing_ok=True)


def _kst(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, KST)
