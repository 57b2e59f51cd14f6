"""The simulator's state and its request pipeline: faults, rate limit, token, tr_id, TR handler.

One process, all state in memory behind one lock; the accounts are written through to the
store (Redis) after every request that changed them. Only a ``slow`` fault's wait happens
outside the lock, so a slow request never stalls the others.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from services.kis_sim import charts, codes, quotes, rvsecncl, trading
from services.kis_sim.auctions import CLOSING_CALL, EPSILON, crossed
from services.kis_sim.config import SimConfig
from services.kis_sim.desk import Desk, TrResult
from services.kis_sim.faults import GATEWAY_ERROR, GATEWAY_PAGE, ORDER_KINDS, Fault, FaultBook
from services.kis_sim.gateway import RateLimiter, TokenStore
from services.kis_sim.market import Market
from services.kis_sim.protocol import (
    KisError,
    KisRequest,
    OAuthError,
    Params,
    Reply,
    dumps,
    json_reply,
    kis_error,
    kis_headers,
    kis_ok,
    oauth_error,
)
from services.kis_sim.rules import resolve_tr
from services.kis_sim.store import AccountStore, MemoryStore
from services.kis_sim.stream_hub import StreamHub
from services.kis_sim.upstream import UpstreamFeed, named_codes
from shared.broker.ledger import Ledger
from shared.broker.money import Fees
from shared.broker.orders import Order
from shared.broker.settlement import settlement_day
from shared.infra.clock import KST, Clock
from shared.infra.redis_keys import app_key_id
from shared.trading.costs import TradeCosts
from shared.trading.market_calendar import KrxCalendar

if TYPE_CHECKING:
    from shared.kis.client import KisQuotes  # a dry run's only (upstream.py)

TOKEN_PATH = "/oauth2/tokenP"  # noqa: S105 - a URL path, not a secret
APPROVAL_PATH = "/oauth2/Approval"
HASHKEY_PATH = "/uapi/hashkey"
APPROVAL_RATE_PER_SECOND = 1
"""Approval-key issuances per app key per second: its own limit, not the REST one (KIS portal
notice "API 호출 유량 안내", 2026-04-20: "웹소켓 접속키 발급 1초당 1건")."""

Handler = Callable[[Desk, Params], TrResult]
HANDLERS: dict[str, Handler] = {
    "quote": quotes.quote,
    "holiday": quotes.holiday,
    "balance": trading.balance,
    "buyable": trading.buyable,
    "buy": trading.order,
    "sell": trading.order,
    "revise_or_cancel": rvsecncl.revise_or_cancel,
    "revisable": rvsecncl.revisable,
    "executions": trading.executions,
    "daily_chart": charts.daily_chart,
    "minute_chart": charts.minute_chart,
    "today_minute_chart": charts.today_minute_chart,
}
"""TR action → handler."""


@dataclass
class Stats:
    """Counters for ``/sim/stats``; app keys appear only as ``app_key_id`` digests."""

    requests: int = 0
    by_tr: Counter[str] = field(default_factory=Counter)
    """Requests by their ``tr_id`` header (every KIS request, answered or refused)."""
    orders: int = 0
    cancels: int = 0
    approvals: int = 0
    token_issuances: Counter[str] = field(default_factory=Counter)
    token_reuses: int = 0
    rate_limited: Counter[str] = field(default_factory=Counter)
    rejections: Counter[str] = field(default_factory=Counter)
    faults_applied: Counter[str] = field(default_factory=Counter)

    def as_json(self) -> dict[str, object]:
        """The JSON shape served by ``/sim/stats``."""
        return {
            "requests": self.requests,
            "requests_by_tr": dict(self.by_tr),
            "orders": self.orders,
            "cancels": self.cancels,
            "approvals": self.approvals,
            "token_issuances": {
                "total": sum(self.token_issuances.values()),
                "by_app_key": dict(self.token_issuances),
            },
            "token_reuses": self.token_reuses,
            "rate_limited": sum(self.rate_limited.values()),
            "rate_limited_by_app_key": dict(self.rate_limited),
            "rejections": dict(self.rejections),
            "faults_applied": dict(self.faults_applied),
        }


class Simulator:
    """Everything the simulator knows, and :meth:`handle` for every KIS-dialect request."""

    def __init__(
        self,
        config: SimConfig,
        clock: Clock,
        calendar: KrxCalendar,
        store: AccountStore | None = None,
        upstream: KisQuotes | None = None,
    ) -> None:
        if (upstream is not None) != (config.price_feed == "upstream"):
            raise ValueError("an upstream quote client goes with SIM_PRICE_FEED=upstream only")
        self.upstream = upstream
        """The quote host a dry run's prices are read from (``SIM_PRICE_FEED=upstream``)."""
        self.config = config
        self.clock = clock
        self.calendar = calendar
        self.store: AccountStore = store or MemoryStore()
        self.lock = threading.Lock()
        self.hub = StreamHub()
        self._matched_until = clock.now()
        """Auctions up to this moment have been matched (none missed while stopped is run)."""
        self._fresh()
        accounts, last_odno = self.store.load()
        self.ledger.restore(accounts, last_odno)

    def _fresh(self) -> None:
        self.market = Market(
            self.config.seed,
            self.calendar,
            self.config.price_paths,
            listed_only=self.config.unlisted_codes == "unknown",
            listings=self.config.listings,
            auctions=self.config.auctions,
            vi=self.config.vi,
            live=self.upstream is not None,
        )
        self.feed = (
            UpstreamFeed(self.upstream, self.market, self.config.feed_max_age_seconds)
            if self.upstream is not None
            else None
        )
        fees = Fees(TradeCosts(self.config.fee_pct, self.config.sell_tax_pct))
        days = self.config.settlement_days
        self.ledger = Ledger(
            self.config.initial_cash,
            fees,
            lambda day: settlement_day(self.calendar, day, days),
        )
        self.ledger.listener = self.hub.tell
        self.tokens = TokenStore(self.config.token_ttl_seconds, self.config.token_throttle_seconds)
        self.limiter = RateLimiter(self.config.rate_limit)
        self.approval_limiter = RateLimiter(APPROVAL_RATE_PER_SECOND)
        self.faults = FaultBook()
        self.stats = Stats()

    def reset(self) -> None:
        """Forget accounts (in the store too), orders, tokens, counters (the stream's too),
        faults, throttles and runtime paths; open stream sessions stay open."""
        with self.lock:
            self.store.clear()
            self._fresh()
            self.hub.clear()
            self.hub.stats.clear()

    def save(self) -> None:
        """Write what changed since the last save to the store (call under the lock)."""
        changes = self.ledger.take_changes()
        if changes and not self.store.save(self.ledger.accounts(), changes, self.ledger.last_odno):
            # Keep them for the next save; changes made meanwhile come on top.
            changes.merge(self.ledger.changes)
            self.ledger.changes = changes

    def now(self) -> datetime:
        """The clock's time."""
        return self.clock.now()

    def catch_up(self) -> datetime:
        """Bring the book up to now (resting orders whose price came, scheduled fill parts) and
        return now. The WebSocket calls it so fill notices come when the price does, not at the
        next REST request (call under the lock)."""
        now = self.now()
        self._settle(now)
        self.save()
        return now

    # Pipeline ----------------------------------------------------------------------------------
    def handle(self, request: KisRequest) -> Reply:
        """Answer one KIS-dialect request, applying an armed fault if one matches."""
        with self.lock:
            self.stats.requests += 1
            self.stats.by_tr[request.header("tr_id") or "-"] += 1
            fault = self.faults.take(request.path)
            if fault is not None:
                self.stats.faults_applied[fault.kind] += 1
        kind = fault.kind if fault else None
        if kind == "http_500":
            return Reply(500, GATEWAY_PAGE, content_type="text/html")
        if kind == "rate_limited":
            return kis_error(KisError.of(codes.RATE_LIMITED, 500), request.header("tr_id"))
        if fault is not None and kind == "slow":
            time.sleep(fault.delay_seconds)
        with self.lock:
            try:
                reply = self._route(request, fault if kind in ORDER_KINDS else None)
            finally:
                self.save()
        if kind == "http_500_after":
            # Executed; the answer is lost on the way back and the gateway says so.
            body = {"rt_cd": "1", "msg_cd": GATEWAY_ERROR[0], "msg1": GATEWAY_ERROR[1]}
            return Reply(500, dumps(body), kis_headers(request.header("tr_id")))
        if kind == "http_500_after_empty":
            return Reply(500, b"", kis_headers(request.header("tr_id")), content_type="text/plain")
        if kind == "malformed":
            reply.status = 200
            reply.body = reply.body[: max(1, len(reply.body) // 2)]
        elif kind == "drop_response":
            reply.drop = True
            if fault is not None and fault.delay_seconds:
                # Executed, then silence: the caller is left waiting (crash tests kill it here).
                time.sleep(fault.delay_seconds)
        return reply

    def _route(self, request: KisRequest, order_fault: Fault | None) -> Reply:
        if request.path == TOKEN_PATH:
            return self._token(request)
        if request.path == APPROVAL_PATH:
            return self._approval(request)
        if request.path == HASHKEY_PATH:
            return self._hashkey(request)
        return self._uapi(request, order_fault)

    def _token(self, request: KisRequest) -> Reply:
        try:
            body = _lenient_json(request.body)
            app_key, app_secret = _credentials(body, "appsecret")
            token, reused = self.tokens.issue(app_key, app_secret, self.now())
        except OAuthError as e:
            self.stats.rejections[e.error_code] += 1
            return oauth_error(e)
        self.stats.token_issuances[app_key_id(app_key)] += 1
        self.stats.token_reuses += reused
        remaining = int((token.expires_kst - self.now()).total_seconds())
        return json_reply(
            200,
            {
                "access_token": token.value,
                "access_token_token_expired": token.expires_kst.strftime("%Y-%m-%d %H:%M:%S"),
                "token_type": "Bearer",
                "expires_in": max(0, remaining),
            },
        )

    def _approval(self, request: KisRequest) -> Reply:
        body = _lenient_json(request.body)
        app_key = body.get("appkey")
        if (
            isinstance(app_key, str)
            and app_key
            and not self.approval_limiter.admit(app_key, request.arrival_monotonic)
        ):
            self.stats.rate_limited[app_key_id(app_key)] += 1
            return kis_error(KisError.of(codes.RATE_LIMITED, 500), "")
        try:
            _credentials(body, "secretkey")
        except OAuthError as e:
            self.stats.rejections[e.error_code] += 1
            return oauth_error(e)
        self.stats.approvals += 1
        approval_key = str(uuid.uuid4())
        self.hub.approval_keys[approval_key] = str(app_key)
        return json_reply(200, {"approval_key": approval_key})

    def _hashkey(self, request: KisRequest) -> Reply:
        app_key = request.header("appkey")
        try:
            if not app_key:
                raise KisError.of(codes.APP_KEY_INVALID, 500)
            if not request.header("appsecret"):
                raise KisError.of(codes.APP_SECRET_INVALID, 500)
            if not self._admit(app_key, request.arrival_monotonic):
                raise KisError.of(codes.RATE_LIMITED, 500)
            body = request.json_body()
        except KisError as e:
            self.stats.rejections[e.msg_cd] += 1
            return kis_error(e, "")
        return json_reply(200, {"BODY": body, "HASH": hashlib.sha256(request.body).hexdigest()})

    def _uapi(self, request: KisRequest, order_fault: Fault | None) -> Reply:
        tr_id = request.header("tr_id")
        app_key = request.header("appkey")
        try:
            if app_key and not self._admit(app_key, request.arrival_monotonic):
                raise KisError.of(codes.RATE_LIMITED, 500)
            now = self.now()
            self.tokens.authenticate(
                request.header("authorization"), app_key, request.header("appsecret"), now
            )
            tr = resolve_tr(self.config.rules, request.path, tr_id)
            params = Params(request.query if request.method == "GET" else request.json_body())
            if self.feed is not None:
                # A dry run: the live prices of this request's code and of the book's first.
                self.feed.refresh(named_codes(params), self._watched_codes(), now)
            # Resting orders are matched lazily: every request first catches the book up.
            self._settle(now)
            desk = Desk(
                self.config, now, self.market, self.ledger, self.calendar, request, tr, order_fault
            )
            result = HANDLERS[tr.action](desk, params)
        except KisError as e:
            self.stats.rejections[e.msg_cd] += 1
            return kis_error(e, tr_id)
        if tr.action in ("buy", "sell"):
            self.stats.orders += 1
        elif tr.action == "revise_or_cancel":
            self.stats.cancels += 1
        return kis_ok(result.payload, tr_id, result.tr_cont)

    def _watched_codes(self) -> set[str]:
        """Codes the book holds or works: their prices value holdings and fill resting orders."""
        codes: set[str] = set()
        for account in self.ledger.accounts():
            codes.update(code for code, h in account.holdings.items() if h.qty > 0)
            codes.update(o.code for o in account.live_orders())
        return codes

    def _admit(self, app_key: str, arrival: float) -> bool:
        if self.limiter.admit(app_key, arrival):
            return True
        self.stats.rate_limited[app_key_id(app_key)] += 1
        return False

    def _settle(self, now: datetime) -> None:
        """Catch the book up to ``now``: each auction on the way first (continuous trading up
        to it, then its match), then continuous trading to ``now``."""
        auctions = self.config.auctions
        matches: list[tuple[datetime, str]] = [
            (moment, "") for moment in auctions.matches(self.calendar, self._matched_until, now)
        ]
        matches += self._vi_ends(self._matched_until, now)
        for moment, code in sorted(matches):
            self.ledger.settle(moment - EPSILON, self._crossing)
            for account in self.ledger.accounts():
                live = [o for o in account.live_orders() if not code or o.code == code]
                price_at = functools.partial(self.market.price, now=moment)
                for order, price in crossed(live, moment, price_at):
                    self.ledger.execute(account, order, price, moment)
        self._matched_until = max(self._matched_until, now)
        self.ledger.settle(now, self._crossing)

    def _vi_ends(self, start: datetime, end: datetime) -> list[tuple[datetime, str]]:
        """(end, code) of every VI of a code with working orders that ends in ``(start, end]``
        before the closing call (a VI running into it ends with the closing auction)."""
        if not self.config.vi:
            return []
        codes = {o.code for a in self.ledger.accounts() for o in a.live_orders()}
        sessions = [self.calendar.session(d.astimezone(KST).date()) for d in (start, end)]
        found: set[tuple[datetime, str]] = set()
        for session in {s for s in sessions if s is not None}:
            call = CLOSING_CALL if self.config.auctions.enabled else timedelta(0)
            until = session.closes - call
            for code in codes:
                for window in self.market.vi_windows(code, session):
                    if start < window.end <= end and window.end < until:
                        found.add((window.end, code))
        return sorted(found)

    def _crossing(self, order: Order, start: datetime, end: datetime) -> datetime | None:
        session = self.calendar.session(start.astimezone(KST).date())
        if session is not None:
            window = self.config.auctions.continuous(session, start, end)
            if window is None:
                return None
            start, end = window
        locked_at = None
        if self.config.limit_lock:
            quote = self.market.quote(order.code, start)
            locked_at = quote.upper if order.side == "buy" else quote.lower
        return self.market.first_crossing(
            order.code, order.side, order.price, start, end, locked_at
        )


def _lenient_json(body: bytes) -> dict[str, object]:
    # The token endpoints answer a bad body like a missing key: KIS's own behaviour is unknown.
    try:
        data = json.loads(body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _credentials(body: dict[str, object], secret_name: str) -> tuple[str, str]:
    app_key, secret = body.get("appkey"), body.get(secret_name)
    # Surrounding whitespace is the classic copy-paste mistake (a trailing newline in a secret
    # file); KIS refuses such a key, and so does the simulator.
    if not isinstance(app_key, str) or not app_key or app_key != app_key.strip():
        raise OAuthError(codes.APP_KEY_INVALID)
    if not isinstance(secret, str) or not secret or secret != secret.strip():
        raise OAuthError(codes.APP_SECRET_INVALID)
    if body.get("grant_type") != "client_credentials":
        raise OAuthError(codes.GRANT_INVALID)
    return app_key, secret
