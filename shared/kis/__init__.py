"""The KIS Open API client: everything protocol lives here and raw dicts never leave it."""

from shared.kis.client import KisClient, build_client
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
    "KisClient",
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
    "build_client",
]
