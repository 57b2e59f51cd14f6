"""Every Redis key name the system uses, under one prefix (default ``kat:``, never ``rq:``).

Keys that carry an app key use a short digest of it, so no credential ever appears in Redis.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

DEFAULT_PREFIX = "kat:"
"""Prefix of every key this system owns."""
SESSION_RETENTION_SECONDS = 8 * 86_400
"""How long a key that belongs to one session (its date is in the name) is kept, in real seconds:
a week of sessions plus a day's margin. Whatever looks back at an earlier session still finds it
(the executor's recovery reconciles the previous session, days ago after a long holiday; the
status API shows an earlier day), and Redis does not grow with the calendar. docs/ARCHITECTURE.md,
'Redis keys' says which keys."""


def text(value: object) -> str:
    """A Redis reply (bytes without ``decode_responses``) as str."""
    return value.decode() if isinstance(value, bytes) else str(value)


def app_key_id(app_key: str) -> str:
    """A stable, non-reversible 16-hex-digit id for an app key (safe in key names and logs)."""
    return hashlib.sha256(app_key.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Keys:
    """Key templates: build one from settings (``Keys(settings.redis_prefix)``), pass it on."""

    prefix: str = DEFAULT_PREFIX

    def __post_init__(self) -> None:
        if not self.prefix or self.prefix.startswith("rq:"):
            raise ValueError(f"Redis prefix {self.prefix!r} is empty or collides with rq's keys")

    # KIS client -------------------------------------------------------------------------------
    def token(self, env: str, key_id: str) -> str:
        """JSON ``{sealed, fingerprint, expires_kst}``: the access token of one app key, sealed."""
        return f"{self.prefix}kis:token:{env}:{key_id}"

    def token_issue_guard(self, env: str, key_id: str) -> str:
        """Held for 60 s by the process that issues a token: one issuance a minute overall."""
        return f"{self.prefix}kis:token-guard:{env}:{key_id}"

    def token_issuances(self, env: str, key_id: str) -> str:
        """Counter of tokens issued (for metrics)."""
        return f"{self.prefix}kis:token-issued:{env}:{key_id}"

    def rate_window(self, env: str, key_id: str) -> str:
        """Sorted set of request slots granted in the last window (the shared rate limiter)."""
        return f"{self.prefix}kis:rate:{env}:{key_id}"

    def rate_answer(self, env: str, key_id: str) -> str:
        """Microseconds the last request took from its slot to its answer (the limiter's guess
        of when an unanswered slot will be dated again)."""
        return f"{self.prefix}kis:rate-answer:{env}:{key_id}"

    def rate_waits(self, env: str, key_id: str) -> str:
        """Counter of times a caller had to wait for a rate-limit slot."""
        return f"{self.prefix}kis:rate-waits:{env}:{key_id}"

    def approval_window(self, env: str, key_id: str) -> str:
        """Sorted set of WebSocket approval-key issuances (1 a second, apart from REST)."""
        return f"{self.prefix}kis:approval-rate:{env}:{key_id}"

    def approval_waits(self, env: str, key_id: str) -> str:
        """Counter of times an approval-key request had to wait for its slot."""
        return f"{self.prefix}kis:approval-waits:{env}:{key_id}"

    def kis_errors(self, env: str) -> str:
        """Hash msg_cd -> count of KIS error answers (EGW00201 and friends)."""
        return f"{self.prefix}kis:errors:{env}"

    def kis_outage(self, env: str) -> str:
        """JSON ``{since_epoch, detail}`` while KIS does not answer (docs/ARCHITECTURE.md,
        'When KIS does not answer'); deleted by the next process KIS answers."""
        return f"{self.prefix}kis:outage:{env}"

    def kis_outage_told(self, env: str) -> str:
        """The ``since_epoch`` of the outage the scheduler notified, until it notifies its end."""
        return f"{self.prefix}kis:outage-told:{env}"

    # Clock ------------------------------------------------------------------------------------
    def clock_running(self) -> str:
        """JSON ``{start_kst, speed, epoch}`` (or ``hold: true`` instead of the epoch, for a held
        clock): the simulated clock the services run on, for ``kat``; absent on real time."""
        return f"{self.prefix}clock:running"

    def clock_epoch(self, start_iso: str, speed: float) -> str:
        """Unix seconds at which simulated time equalled ``start_iso`` at ``speed``."""
        return f"{self.prefix}clock:epoch:{start_iso}:{speed:g}"

    # Trading state ----------------------------------------------------------------------------
    def picks(self, session: date) -> str:
        """JSON list of the picks for one session."""
        return f"{self.prefix}picks:{session.isoformat()}"

    def plan(self, session: date) -> str:
        """JSON of the day plan (cash, buy amount, picks to buy) made at pre-market."""
        return f"{self.prefix}plan:{session.isoformat()}"

    def order(self, order_id: str) -> str:
        """JSON of one order record; created with SET NX, so it is also the intent."""
        return f"{self.prefix}order:{order_id}"

    def orders_of_day(self, session: date) -> str:
        """Sorted set of the order ids of one session, scored by creation time."""
        return f"{self.prefix}orders:{session.isoformat()}"

    def broker_orders(self, session: date) -> str:
        """Hash KIS order number -> our order id: one broker order answers one record only."""
        return f"{self.prefix}broker-orders:{session.isoformat()}"

    def fill_notices(self, session: date, order_no: str) -> str:
        """Hash of the realtime fill notices of one KIS order (its 10 digits): one field per
        fill, ``HHMMSS|qty|price`` -> ``qty|price``."""
        return f"{self.prefix}fill-notices:{session.isoformat()}:{order_no}"

    def positions(self) -> str:
        """Hash code -> JSON position: the ledger of what the system holds."""
        return f"{self.prefix}positions"

    def realized(self, session: date) -> str:
        """List of JSON realised trades (sells with their P&L) of one session."""
        return f"{self.prefix}realized:{session.isoformat()}"

    def session_alive(self, session: date) -> str:
        """Sentinel written with the session's plan; gone while trading means our state was lost."""
        return f"{self.prefix}session-alive:{session.isoformat()}"

    def reconciled(self, session: date) -> str:
        """Sorted set, one member ``read``: the real epoch at which the latest whole
        reconciliation pass of the session began reading KIS's executions."""
        return f"{self.prefix}reconciled:{session.isoformat()}"

    def entries_stopped(self, session: date) -> str:
        """Why no entry buys are made on ``session`` any more (JSON), when they are stopped."""
        return f"{self.prefix}entries-stopped:{session.isoformat()}"

    def entries_stopped_all(self) -> str:
        """SCAN pattern matching the entry stops of every session."""
        return f"{self.prefix}entries-stopped:*"

    def once(self, what: str, session: date) -> str:
        """Marker that ``what`` (a notice, the post-market run) happened for a session."""
        return f"{self.prefix}once:{what}:{session.isoformat()}"

    def orderable_cash(self) -> str:
        """KIS's latest orderable-cash answer (JSON: ``won``, ``read_kst``)."""
        return f"{self.prefix}account:orderable-cash"

    def cash_generation(self) -> str:
        """Counter bumped on every change of an order record: the cash may have moved."""
        return f"{self.prefix}account:cash-generation"

    def cash_ahead(self) -> str:
        """Hash, limit price -> JSON: KIS's buyable-cash answers read ahead at that limit."""
        return f"{self.prefix}account:cash-ahead"

    def account_snapshot(self) -> str:
        """JSON of the last balance the scheduler read: cash, total value, holdings, P&L."""
        return f"{self.prefix}account:snapshot"

    def watchlist(self) -> str:
        """The scheduler's watchlist (JSON): picks and positions, prices, stream or polled."""
        return f"{self.prefix}scheduler:watchlist"

    def equity(self, session: date) -> str:
        """Sorted set of the account's total value through a session (score: unix time)."""
        return f"{self.prefix}account:equity:{session.isoformat()}"

    def notify_events(self) -> str:
        """List of events waiting for the notifier (JSON ``{at, event}``), oldest first."""
        return f"{self.prefix}notify:events"

    def notify_seen(self, event_id: str) -> str:
        """Marker that the event ``event_id`` was taken in (a second copy is dropped)."""
        return f"{self.prefix}notify:seen:{event_id}"

    def outbox(self) -> str:
        """List of formatted notifications waiting for delivery, oldest first."""
        return f"{self.prefix}notify:outbox"

    def notify_sending(self) -> str:
        """The outbox message whose POST to Discord may be in flight (set before the POST)."""
        return f"{self.prefix}notify:sending"

    def notify_unconfirmed(self) -> str:
        """List of messages Discord may or may not have posted (answer lost), newest last."""
        return f"{self.prefix}notify:unconfirmed"

    # Money limits (docs/ARCHITECTURE.md, 'Money limits') ----------------------------------
    def limits(self) -> str:
        """Hash name -> value of the money limits in force (seeded from settings once)."""
        return f"{self.prefix}limits"

    def limit_orders(self, session: date) -> str:
        """Set of the order ids that took one of ``session``'s orders-per-day slots."""
        return f"{self.prefix}limits:orders:{session.isoformat()}"

    def limit_opening(self) -> str:
        """Hash order id -> code of buys that may open a position not yet in the ledger."""
        return f"{self.prefix}limits:opening"

    def limit_selling(self, session: date) -> str:
        """Hash code -> the order id of ``session``'s one sell of that position being sent."""
        return f"{self.prefix}limits:selling:{session.isoformat()}"

    # Processes --------------------------------------------------------------------------------
    def heartbeat(self, service: str, instance: str) -> str:
        """JSON heartbeat of one process, expiring when the process stops beating."""
        return f"{self.prefix}heartbeat:{service}:{instance}"

    def heartbeats(self) -> str:
        """SCAN pattern matching every heartbeat key."""
        return f"{self.prefix}heartbeat:*"

    def leader(self, role: str) -> str:
        """The lock held by the one active instance of ``role`` (e.g. the scheduler)."""
        return f"{self.prefix}leader:{role}"

    def control(self) -> str:
        """Hash of control flags (``paused``, ``halted``), each a JSON note of who and when."""
        return f"{self.prefix}control"
