"""Say once on Discord when KIS stops answering during a session, and once when it answers again.

The outage itself is recorded by every process's KIS transport (``shared/kis/reachability.py``);
the leading scheduler only tells of it. ``kis:outage-told:{env}`` holds the announced outage's
start, set with ``NX`` and taken back with ``GETDEL``, so each message goes once whatever the
number of schedulers. See docs/ARCHITECTURE.md, 'When KIS does not answer'.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

import redis

from shared.infra.clock import KST
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
    ) -> None:
        self._redis = client
        self._outage_key = outage_key
        self._told_key = told_key
        self._notify = notify
        self._now = now

    def current(self) -> KisOutage | None:
        return read_outage(self._redis, self._outage_key)

    def look(self, in_session: bool) -> KisOutage | None:
        """Tell a new outage (in a session only) or the end of a told one; the outage, if any."""
        outage = self.current()
        if outage is not None:
            if in_session and self._redis.set(
                self._told_key, str(outage.since_epoch), nx=True, ex=SESSION_RETENTION_SECONDS
            ):
                log.error("%s since %s", outage.problem, _kst(outage.since_epoch))
                self._notify(
                    KisOutageEvent(since_kst=_kst(outage.since_epoch), detail=outage.detail)
                )
            return outage
        told = self._redis.getdel(self._told_key)
        if told is not None:
            self._notify(KisBack(since_kst=_kst(float(told)), until_kst=self._now()))
        return None


def _kst(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, KST)
