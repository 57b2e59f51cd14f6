"""KIS errors, decided once at the client boundary from ``rt_cd``/``msg_cd``, whatever the status.

Each class says what the caller should do::

    KisError
    ├── KisTemporaryError        retry later, with backoff (nothing happened at KIS)
    │   ├── KisUnreachable       no answer at all (no connection, or it was lost): a read's
    │   │                        last try and a token's make the outage every service shows
    │   ├── KisRateLimited       EGW00201: over the per-second limit
    │   ├── KisTokenThrottled    EGW00133: a token was issued less than a minute ago
    │   └── KisProtocolError     an answer to a *read* that is not KIS JSON
    ├── KisAuthError             a person must act: bad app key/secret, wrong domain
    │   └── KisTokenExpired      EGW00123/EGW00121: the client drops its token and re-issues once
    ├── KisRejected              a business rejection: final, report it
    │   ├── KisMarketClosed      outside market hours or not a trading day
    │   └── KisInsufficientFunds not enough cash (or shares) for the order
    └── KisOutcomeUnknown        an order POST whose outcome KIS did not prove: reconcile first

An order POST is special (docs/ARCHITECTURE.md, 'Resending and unknown outcomes'): only the answers
KIS gives before the order reaches its trading system prove that nothing happened — the rate limit
(EGW00201), the token throttle (EGW00133) and an expired or unknown token (EGW00121/EGW00123). Any
other gateway code, any 5xx, an empty ``msg_cd``, a timeout, a dropped connection or a body that is
not KIS JSON may follow an executed order, so :func:`classify_order` calls them unknown. A business
rejection (KIS's trading system's own, non-gateway code in an answer below HTTP 500) is final.
"""

from __future__ import annotations

RATE_LIMITED = "EGW00201"
TOKEN_THROTTLED = "EGW00133"  # noqa: S105 - a KIS message code
TOKEN_EXPIRED = "EGW00123"  # noqa: S105 - a KIS message code
TOKEN_INVALID = "EGW00121"  # noqa: S105 - a KIS message code
AUTH_CODES = frozenset({"EGW00103", "EGW00105", "EGW02004"})
MARKET_CLOSED_CODES = frozenset({"APBK0918", "APBK0919", "KIOK0320", "40580000", "40570000"})
MARKET_CLOSED_TEXT = ("장종료", "장시작전", "장운영시간", "장운영일자", "주문불가시간")
INSUFFICIENT_FUNDS_CODES = frozenset({"40910000"})
INSUFFICIENT_TEXT = ("주문가능금액을 초과", "주문가능수량을 초과")
NOTHING_HAPPENED = frozenset({RATE_LIMITED, TOKEN_THROTTLED, TOKEN_EXPIRED, TOKEN_INVALID})
"""Answers to an order POST that KIS gives before the order reaches its trading system."""


class KisError(Exception):
    """Any failure talking to KIS. ``msg_cd``/``msg1`` are KIS's own words when it gave any."""

    def __init__(self, message: str, *, msg_cd: str = "", msg1: str = "", status: int = 0) -> None:
        super().__init__(message)
        self.msg_cd = msg_cd
        self.msg1 = msg1
        self.status = status


class KisTemporaryError(KisError):
    """Nothing happened at KIS; the same call may succeed later."""


class KisUnreachable(KisTemporaryError):
    """No answer from KIS at all: no connection, or the connection lost before the answer.

    ``never_sent`` when the connection failed before the request left (refused, DNS, connect
    timeout): KIS provably did nothing."""

    def __init__(self, message: str, *, never_sent: bool = False) -> None:
        super().__init__(message)
        self.never_sent = never_sent


class KisRateLimited(KisTemporaryError):
    """EGW00201: more requests per second than the app key is allowed."""


class KisTokenThrottled(KisTemporaryError):
    """EGW00133: token issuance is limited to one a minute."""


class KisProtocolError(KisTemporaryError):
    """An answer to a read that is not the JSON KIS sends (gateway page, truncated body)."""


class KisAuthError(KisError):
    """Credentials or domain are wrong; retrying will not help until a person fixes them."""


class KisTokenExpired(KisAuthError):
    """The access token is expired or unknown to KIS."""


class KisRejected(KisError):
    """KIS refused the request on business grounds; final."""


class KisMarketClosed(KisRejected):
    """Orders are not accepted now (outside market hours or not a trading day)."""


class KisInsufficientFunds(KisRejected):
    """Not enough orderable cash or shares."""


class KisOutcomeUnknown(KisError):
    """An order was sent and its answer lost (timeout, dropped connection, unreadable body).

    The order may or may not exist at KIS. Never resend it blindly: reconcile against the daily
    executions first.
    """


def classify(msg_cd: str, msg1: str, *, status: int, context: str) -> KisError:
    """The exception for a KIS error answer; ``context`` (e.g. the order) goes in the message."""
    message = f"{context}: KIS {msg_cd or status} {msg1}".strip()
    return error_class(msg_cd, msg1)(message, msg_cd=msg_cd, msg1=msg1, status=status)


def classify_order(msg_cd: str, msg1: str, *, status: int, context: str) -> KisError:
    """The exception for an error answer to an order POST: unknown unless KIS proved otherwise."""
    message = f"{context}: KIS {msg_cd or status} {msg1}".strip()
    kind = order_error_class(msg_cd, msg1, status)
    return kind(message, msg_cd=msg_cd, msg1=msg1, status=status)


def order_error_class(msg_cd: str, msg1: str, status: int) -> type[KisError]:
    """Which :class:`KisError` an error answer to an order POST means."""
    if msg_cd in NOTHING_HAPPENED:
        return error_class(msg_cd, msg1)
    if not msg_cd or msg_cd.startswith("EGW") or status >= 500:
        return KisOutcomeUnknown
    return error_class(msg_cd, msg1)


def error_class(msg_cd: str, msg1: str) -> type[KisError]:
    """Which :class:`KisError` a KIS ``msg_cd``/``msg1`` pair means."""
    if msg_cd == RATE_LIMITED:
        return KisRateLimited
    if msg_cd == TOKEN_THROTTLED:
        return KisTokenThrottled
    if msg_cd in (TOKEN_EXPIRED, TOKEN_INVALID):
        return KisTokenExpired
    if msg_cd in AUTH_CODES:
        return KisAuthError
    if msg_cd in MARKET_CLOSED_CODES or any(t in msg1 for t in MARKET_CLOSED_TEXT):
        return KisMarketClosed
    if msg_cd in INSUFFICIENT_FUNDS_CODES or any(t in msg1 for t in INSUFFICIENT_TEXT):
        return KisInsufficientFunds
    if msg_cd.startswith("EGW"):
        # Other gateway codes are raised before the request reaches the trading system.
        return KisTemporaryError
    return KisRejected
