"""The base layer of the KIS client: one HTTP session, auth headers, timeouts, the shared rate
limiter and token, paging, and the translation of every failure into :mod:`shared.kis.errors`.

Reads are retried on temporary errors with bounded backoff. Order POSTs never are: a lost answer
becomes :class:`KisOutcomeUnknown` and the caller reconciles.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import redis
import requests
import urllib3
from requests.adapters import HTTPAdapter

from shared.infra.backoff import backoff_delay
from shared.kis.errors import (
    KisAuthError,
    KisError,
    KisOutcomeUnknown,
    KisProtocolError,
    KisRateLimited,
    KisTemporaryError,
    KisTokenExpired,
    KisUnreachable,
    classify,
    classify_order,
)
from shared.kis.models import AccessToken
from shared.kis.rate_limit import RateLimiter
from shared.kis.reachability import KisReachability
from shared.kis.token import TokenCache

log = logging.getLogger(__name__)
T = TypeVar("T")

READ_ATTEMPTS = 5
"""Tries of one read before its temporary error reaches the caller."""
BACKOFF_CAP = 4.0
"""Longest single backoff, in seconds."""
MAX_PAGES = 500
"""Stop following ``tr_cont`` after this many pages: a server that never says 'last' is broken."""
MORE_PAGES = frozenset({"F", "M"})
"""Response ``tr_cont`` values that mean another page follows."""


def read_retry_delays(first: float) -> tuple[float, ...]:
    """The waits between the :data:`READ_ATTEMPTS` tries of a read, in real seconds: ``first``
    (``KIS_RETRY_BACKOFF_SECONDS``) doubling up to :data:`BACKOFF_CAP`."""
    return tuple(backoff_delay(n, first, BACKOFF_CAP) for n in range(1, READ_ATTEMPTS))


@dataclass(frozen=True)
class Answer:
    """A successful KIS answer: the JSON body and whether another page follows."""

    body: Mapping[str, Any]
    more: bool


class KisTransport:
    """Sends one KIS request and returns its JSON body, or raises a :class:`KisError`."""

    def __init__(
        self,
        *,
        base_url: str,
        app_key: str,
        app_secret: str,
        tokens: TokenCache | None,
        limiter: RateLimiter,
        timeout: tuple[float, float],
        approval_limiter: RateLimiter | None = None,
        error_counter: tuple[redis.Redis, str] | None = None,
        backoff_seconds: float = 0.25,
        session: requests.Session | None = None,
        reachability: KisReachability | None = None,
        allowed_tr_ids: frozenset[str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.allowed_tr_ids = allowed_tr_ids
        """When given, the only tr_ids this transport sends; anything else (an order POST
        above all) is refused before a byte leaves (a dry run's quote host: docs/ARCHITECTURE.md,
        'Dry run'). The hashkey endpoint is refused too: it exists only for orders."""
        self._app_key = app_key
        self._app_secret = app_secret
        self.tokens = tokens
        self.limiter = limiter
        self.approval_limiter = approval_limiter
        """Paces approval keys (1 a second at KIS) apart from the REST limit; without one they
        share the REST limiter."""
        self._timeout = timeout
        self._error_counter = error_counter
        self.reachability = reachability
        """Told of each answer and of each time KIS did not answer (the shared outage key)."""
        self._retry_delays = read_retry_delays(backoff_seconds)
        self._session = session or requests.Session()
        # requests retries nothing by default; say so explicitly, an order must never be resent.
        adapter = HTTPAdapter(max_retries=0)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)

    # Public entry points -------------------------------------------------------------------
    def get(self, path: str, tr_id: str, params: Mapping[str, str], *, tr_cont: str = "") -> Answer:
        """A read, retried on temporary errors (rate limit included) with bounded backoff."""
        return self._retried(
            lambda: self._authorized("GET", path, tr_id, params=params, tr_cont=tr_cont)
        )

    def get_pages(self, path: str, tr_id: str, params: Mapping[str, str]) -> Iterator[Answer]:
        """Every page of a paged read, following ``tr_cont`` and the ``CTX_AREA_*`` cursor."""
        query = dict(params)
        answer = self.get(path, tr_id, query)
        yield answer
        for _ in range(MAX_PAGES):
            if not answer.more:
                return
            for name in ("CTX_AREA_FK100", "CTX_AREA_NK100", "CTX_AREA_FK", "CTX_AREA_NK"):
                if name in query:
                    query[name] = str(answer.body.get(name.lower(), ""))
            answer = self.get(path, tr_id, query, tr_cont="N")
            yield answer
        raise KisProtocolError(f"{path}: more than {MAX_PAGES} pages")

    def post_order(
        self,
        path: str,
        tr_id: str,
        body: Mapping[str, str],
        context: str,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        """An order POST: sent at most once. A lost answer raises :class:`KisOutcomeUnknown`."""
        try:
            return self._authorized(
                "POST", path, tr_id, body=body, order_context=context, extra_headers=headers
            )
        except KisUnreachable as e:
            self._unreachable(e)
            raise

    def hashkey(self, path: str, body: Mapping[str, str]) -> str:
        """``POST /uapi/hashkey``: app key headers only, the answer is ``{"HASH": ...}``."""

        self._check_allowed("", "hashkey", order=True)

        def once() -> str:
            with self.limiter.slot():
                data = self._send_unlimited(path, body, "hashkey", with_app_headers=True)
            if "HASH" not in data:
                raise KisProtocolError("hashkey: the answer has no HASH")
            return str(data["HASH"])

        return self._retried(once)

    def _retried(self, call: Callable[[], T]) -> T:
        """``call()``, again after bounded exponential backoff while it fails temporarily."""
        for attempt in range(1, READ_ATTEMPTS + 1):
            try:
                return call()
            except KisTemporaryError as e:
                if attempt == READ_ATTEMPTS:
                    if isinstance(e, KisUnreachable):
                        self._unreachable(e)
                    raise
                delay = self._retry_delays[attempt - 1]
                log.warning("%s (try %d/%d), again in %.2fs", e, attempt, READ_ATTEMPTS, delay)
                time.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def issue_token(self) -> AccessToken:
        """``POST /oauth2/tokenP``: only :class:`TokenCache` calls this, under its guard.

        A token KIS refuses for the app key (an auth error) is an outage like no answer at all:
        nothing can be read or sent until a person acts."""
        try:
            body = self._send_unlimited(
                "/oauth2/tokenP",
                {
                    "grant_type": "client_credentials",
                    "appkey": self._app_key,
                    "appsecret": self._app_secret,
                },
                context="token issuance",
            )
        except KisAuthError as e:
            self._unreachable(e)
            raise
        return AccessToken.from_api(body)

    def approval_key(self) -> str:
        """``POST /oauth2/Approval``: the WebSocket approval key (note ``secretkey``), paced by
        its own limiter: KIS counts approval keys apart from REST requests."""
        with (self.approval_limiter or self.limiter).slot():
            body = self._send_unlimited(
                "/oauth2/Approval",
                {
                    "grant_type": "client_credentials",
                    "appkey": self._app_key,
                    "secretkey": self._app_secret,
                },
                context="approval key",
            )
        return str(body["approval_key"])

    # The one request path --------------------------------------------------------------------
    def _authorized(
        self,
        method: str,
        path: str,
        tr_id: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, str] | None = None,
        tr_cont: str = "",
        order_context: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Answer:
        context = order_context or f"{method} {path} {tr_id}"
        self._check_allowed(tr_id, context, order=order_context is not None)
        reissued = False
        while True:
            token = self.tokens.get() if self.tokens else ""
            headers = {
                "content-type": "application/json; charset=utf-8",
                "authorization": f"Bearer {token}",
                "appkey": self._app_key,
                "appsecret": self._app_secret,
                "tr_id": tr_id,
                "custtype": "P",
                "tr_cont": tr_cont,
                **(extra_headers or {}),
            }
            try:
                with self.limiter.slot():
                    return self._exchange(
                        method, path, headers, params, body, context, order_context
                    )
            except KisTokenExpired:
                # Rejected at the gateway, so nothing happened: safe to re-issue and resend once.
                if reissued or self.tokens is None:
                    raise
                reissued = True
                self.tokens.drop(token)
                log.warning("KIS called the access token expired; issuing a new one")

    def _exchange(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        params: Mapping[str, str] | None,
        body: Mapping[str, str] | None,
        context: str,
        order_context: str | None,
    ) -> Answer:
        url = f"{self.base_url}{path}"
        is_order = order_context is not None
        try:
            response = self._session.request(
                method,
                url,
                headers=headers,
                params=params,
                data=json.dumps(body) if body is not None else None,
                timeout=self._timeout,
            )
        except (requests.ConnectTimeout, requests.ConnectionError) as e:
            if _never_sent(e):
                raise KisUnreachable(
                    f"{context}: KIS unreachable ({_reason(e)})", never_sent=True
                ) from e
            if is_order:
                raise KisOutcomeUnknown(f"{context}: answer lost ({_reason(e)})") from e
            raise KisUnreachable(f"{context}: connection lost ({_reason(e)})") from e
        except requests.RequestException as e:  # read timeout and friends: the request was sent
            if is_order:
                raise KisOutcomeUnknown(f"{context}: answer lost ({_reason(e)})") from e
            raise KisUnreachable(f"{context}: {_reason(e)}") from e
        data = _json_body(response)
        if data is not None and self.reachability is not None:
            self.reachability.answered()
        if data is None:
            if is_order:
                raise KisOutcomeUnknown(
                    f"{context}: unreadable answer (HTTP {response.status_code})"
                )
            raise KisProtocolError(f"{context}: unreadable answer (HTTP {response.status_code})")
        if str(data.get("rt_cd", "")) == "0":
            more = response.headers.get("tr_cont", "") in MORE_PAGES
            return Answer(body=data, more=more)
        raise self._error(data, response.status_code, context, order=is_order)

    def _send_unlimited(
        self,
        path: str,
        body: Mapping[str, str],
        context: str,
        *,
        with_app_headers: bool = False,
    ) -> Mapping[str, Any]:
        """The oauth2 and hashkey endpoints: no bearer token, their own envelope on errors."""
        headers = {"content-type": "application/json; charset=utf-8"}
        if with_app_headers:
            headers |= {"appkey": self._app_key, "appsecret": self._app_secret}
        try:
            response = self._session.post(
                f"{self.base_url}{path}",
                headers=headers,
                data=json.dumps(body),
                timeout=self._timeout,
            )
        except requests.RequestException as e:
            if _never_sent(e):
                raise KisUnreachable(
                    f"{context}: KIS unreachable ({_reason(e)})", never_sent=True
                ) from e
            raise KisUnreachable(f"{context}: {_reason(e)}") from e
        data = _json_body(response)
        if data is None:
            raise KisProtocolError(f"{context}: unreadable answer (HTTP {response.status_code})")
        if self.reachability is not None:
            self.reachability.answered()
        if "error_code" in data:
            error = classify(
                str(data["error_code"]),
                str(data.get("error_description", "")),
                status=response.status_code,
                context=context,
            )
            self._count(error)
            raise error
        if response.status_code >= 400 or str(data.get("rt_cd", "0")) != "0":
            raise self._error(data, response.status_code, context)
        return data

    def _error(
        self, data: Mapping[str, Any], status: int, context: str, *, order: bool = False
    ) -> KisError:
        msg_cd, msg1 = str(data.get("msg_cd", "")), str(data.get("msg1", ""))
        judge = classify_order if order else classify
        error = judge(msg_cd, msg1, status=status, context=context)
        self._count(error)
        if isinstance(error, KisRateLimited):
            log.info("KIS rate limit answer (EGW00201) for %s", context)
        return error

    def _check_allowed(self, tr_id: str, context: str, *, order: bool) -> None:
        """KisProtocolError, before anything is sent, for what this transport may not send."""
        if self.allowed_tr_ids is None:
            return
        if order or tr_id not in self.allowed_tr_ids:
            raise KisProtocolError(
                f"{context}: not sent: this transport reads quotes only (a dry run's KIS host)"
            )

    def _unreachable(self, error: KisError) -> None:
        if self.reachability is not None:
            self.reachability.failed(str(error))

    def _count(self, error: KisError) -> None:
        if self._error_counter is not None and error.msg_cd:
            client, key = self._error_counter
            client.hincrby(key, error.msg_cd, 1)


def _json_body(response: requests.Response) -> dict[str, Any] | None:
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _never_sent(error: requests.RequestException) -> bool:
    """True when the connection failed before any byte of the request left (refused, DNS)."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    reason = error.args[0] if error.args else None
    if isinstance(reason, urllib3.exceptions.MaxRetryError):
        reason = reason.reason
    # NameResolutionError is a NewConnectionError: both fail before the request is written.
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


def _reason(error: Exception) -> str:
    return type(error).__name__
