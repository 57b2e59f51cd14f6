"""The KIS Open API client: everything protocol lives here and raw dicts never leave it.

The package exports the typed answers and errors, which are pure data; the client itself (which
needs Redis for its token cache and rate limiter) is :mod:`shared.kis.client`.
"""

from shared.kis.errors import (
    KisAuthError,
    KisError,
    KisInsufficientFunds,
    KisMarketClosed,
    KisOutcomeUnknown,
    KisProtocolError,
    KisRateLimited,
    KisRejected,
    KisTemporaryError,
    KisTokenExpired,
    KisTokenThrottled,
)
from shared.kis.models import (
    Balance,
    BuyableCash,
    Execution,
    Holding,
    MarketDay,
    OrderAck,
    OrderRequest,
    Quote,
    Side,
)

__all__ = [
    "Balance",
    "BuyableCash",
    "Execution",
    "Holding",
    "KisAuthError",
    "KisError",
    "KisInsufficientFunds",
    "KisMarketClosed",
    "KisOutcomeUnknown",
    "KisProtocolError",
    "KisRateLimited",
    "KisRejected",
    "KisTemporaryError",
    "KisTokenExpired",
    "KisTokenThrottled",
    "MarketDay",
    "OrderAck",
    "OrderRequest",
    "Quote",
    "Side",
]
