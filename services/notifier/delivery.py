"""One POST to the Discord webhook, and what Discord's answer means for the next one.

Nothing here waits or loops: the answer says whether the message went, and how long to hold
off before the next request (``429 retry_after``, an exhausted ``X-RateLimit`` bucket).

A request that may have reached Discord but got no answer (a read timeout, a connection dropped
after the body was sent) is ``UNCONFIRMED``: a webhook execution has no idempotency key, so
posting it again could show it twice. See docs/ARCHITECTURE.md, 'Notifications'.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum

import requests
from urllib3.exceptions import NameResolutionError, NewConnectionError

from services.notifier.limits import Payload

CONNECT_TIMEOUT_SECONDS = 3.05
"""Seconds to open the connection to Discord."""
READ_TIMEOUT_SECONDS = 30.0
"""Seconds to wait for Discord's answer: a slow answer (seen after 10 s) is still an answer."""
DEFAULT_RETRY_AFTER_SECONDS = 1.0
"""Wait after a 429 that says nothing about how long."""
WEBHOOK_GONE_STATUSES = frozenset({401, 404})
"""Discord's answers for a webhook that is not there: 404 ``Unknown Webhook`` (code 10015, it
was deleted) and 401 ``Invalid Webhook Token`` (code 50027)."""
MAX_WAIT_SECONDS = 3600.0
"""Longest hold-off taken from Discord's headers, so a garbled header cannot park us for days."""


class Outcome(StrEnum):
    """What became of one message."""

    SENT = "sent"
    """Discord accepted it."""
    LIMITED = "limited"
    """429: send the same message again after the wait."""
    FAILED = "failed"
    """Discord unreachable (nothing sent) or 5xx: send the same message again after a backoff."""
    UNCONFIRMED = "unconfirmed"
    """Sent, but the answer was lost: Discord may have posted it. Never sent again."""
    REJECTED = "rejected"
    """Any other 4xx: Discord will never take this message; do not send it again."""
    GONE = "gone"
    """404 or 401: the webhook was deleted or its token is wrong. No message can go until the
    user fixes it, so none is dropped: the same message goes once the webhook answers again."""


@dataclass(frozen=True)
class Answer:
    """The outcome, the seconds to hold off before the next request, and Discord's words."""

    outcome: Outcome
    wait: float = 0.0
    detail: str = ""


class Webhook:
    """Posts payloads to one webhook URL (a secret: never put it in a message or a log)."""

    def __init__(self, url: str, session: requests.Session | None = None) -> None:
        self._url = url
        self._session = session or requests.Session()

    def post(self, payload: Payload) -> Answer:
        """Send ``payload`` once and read the answer; never raises for network trouble."""
        try:
            # wait=true: Discord answers after the message exists, so the next one lands after it.
            # A fresh connection each time: a pooled one that Discord closed while idle would
            # fail after the request was written, and look like a lost answer.
            response = self._session.post(
                self._url,
                params={"wait": "true"},
                json=payload,
                headers={"Connection": "close"},
                timeout=(CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS),
            )
        except requests.RequestException as e:
            # The exception's text contains the URL, which is a secret: keep its type only.
            outcome = Outcome.FAILED if never_sent(e) else Outcome.UNCONFIRMED
            return Answer(outcome, detail=type(e).__name__)
        bucket = bucket_wait(response.headers)
        status = response.status_code
        if 200 <= status < 300:
            return Answer(Outcome.SENT, bucket)
        if status == 429:
            return Answer(Outcome.LIMITED, max(retry_after(response), bucket), _detail(response))
        if status >= 500:
            return Answer(Outcome.FAILED, bucket, _detail(response))
        if status in WEBHOOK_GONE_STATUSES:
            return Answer(Outcome.GONE, bucket, _detail(response))
        return Answer(Outcome.REJECTED, bucket, _detail(response))

    def probe(self) -> Answer:
        """``GET`` the webhook, which posts nothing: SENT when Discord answers it, GONE when it
        says the webhook is not there, else FAILED (LIMITED on a 429). Asked after a lost answer
        before the next message goes out, and while the webhook is gone."""
        try:
            response = self._session.get(
                self._url,
                headers={"Connection": "close"},
                timeout=(CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS),
            )
        except requests.RequestException as e:
            return Answer(Outcome.FAILED, detail=type(e).__name__)
        status = response.status_code
        if 200 <= status < 300:
            return Answer(Outcome.SENT, bucket_wait(response.headers))
        if status == 429:
            return Answer(Outcome.LIMITED, retry_after(response), _detail(response))
        if status in WEBHOOK_GONE_STATUSES:
            return Answer(Outcome.GONE, bucket_wait(response.headers), _detail(response))
        return Answer(Outcome.FAILED, bucket_wait(response.headers), _detail(response))


def never_sent(error: requests.RequestException) -> bool:
    """True when ``error`` happened before the request could reach Discord: no connection
    (refused, DNS, connect timeout), a failed TLS handshake, or a request that could not be
    built (a bad URL). A read timeout, a connection dropped later or a broken answer may come
    after Discord posted the message."""
    if isinstance(error, requests.ConnectTimeout | requests.exceptions.SSLError):
        return True
    if isinstance(
        error,
        requests.ReadTimeout
        | requests.exceptions.ChunkedEncodingError
        | requests.exceptions.ContentDecodingError,
    ):
        return False
    if not isinstance(error, requests.ConnectionError):
        return True
    reason = error.args[0] if error.args else None
    reason = getattr(reason, "reason", reason)  # urllib3's MaxRetryError wraps the cause
    return isinstance(reason, NewConnectionError | NameResolutionError)


def bucket_wait(headers: requests.structures.CaseInsensitiveDict[str]) -> float:
    """Seconds until the rate-limit bucket refills when Discord says it is empty, else 0."""
    if headers.get("X-RateLimit-Remaining", "").strip() != "0":
        return 0.0
    return _seconds(headers.get("X-RateLimit-Reset-After"), DEFAULT_RETRY_AFTER_SECONDS)


def retry_after(response: requests.Response) -> float:
    """A 429's wait: ``retry_after`` of the JSON body, else the ``Retry-After`` header."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "retry_after" in body:
        return _seconds(body["retry_after"], DEFAULT_RETRY_AFTER_SECONDS)
    return _seconds(response.headers.get("Retry-After"), DEFAULT_RETRY_AFTER_SECONDS)


def _seconds(value: object, default: float) -> float:
    try:
        seconds = float(str(value))
    except ValueError:
        return default
    if seconds != seconds:  # NaN
        return default
    return min(max(seconds, 0.0), MAX_WAIT_SECONDS)


def _detail(response: requests.Response) -> str:
    """Discord's error in one short line (its JSON ``message``/``code``/``errors``)."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}: {response.text[:200]!r}"
    if not isinstance(body, dict):
        return f"HTTP {response.status_code}"
    parts = [f"HTTP {response.status_code}", str(body.get("message", ""))]
    if "code" in body:
        parts.append(f"code {body['code']}")
    if "errors" in body:
        parts.append(json.dumps(body["errors"], ensure_ascii=False)[:300])
    return " ".join(p for p in parts if p)
