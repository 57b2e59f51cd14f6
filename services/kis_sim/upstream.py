"""A dry run's price feed: the simulator's prices read from an upstream KIS host.

With ``SIM_PRICE_FEED=upstream`` the simulator is a dry run's local ledger (docs/ARCHITECTURE.md,
'Dry run'): its market never walks. Before each request the codes that request names are read
afresh from the quote host, and the codes the book holds or works are read when their last read
is older than ``SIM_FEED_MAX_AGE_SECONDS``; each read is recorded as a point of the code's price
path (:meth:`services.kis_sim.market.Market.record`), so market orders fill at the live price and
resting limit orders at the first recorded price that reaches them.

The upstream client is a :class:`shared.kis.client.KisQuotes`: quotes only, through a transport
that refuses every tr_id but the quote host's (shared/kis/tr_ids.py, ``QUOTE_HOST_TR_IDS``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from services.kis_sim.market import Market
from services.kis_sim.paths import CODE_PATTERN
from services.kis_sim.protocol import Params
from shared.kis.errors import KisError, KisRejected

if TYPE_CHECKING:
    # The KIS client (requests, keyring: 0.09 s of a start's 0.6 s of CPU) is imported by a
    # dry run's simulator alone, when it builds its upstream client (__main__.upstream_quotes).
    from shared.kis.client import KisQuotes

log = logging.getLogger(__name__)

NAMING_FIELDS = ("PDNO", "FID_INPUT_ISCD")
"""Request fields that name the code a request is about (an order, a quote, the buyable cash)."""


def named_codes(params: Params) -> set[str]:
    """The 6-digit codes a request names."""
    return {c for c in (params.optional(f) for f in NAMING_FIELDS) if CODE_PATTERN.match(c)}


class UpstreamFeed:
    """Reads quotes from the quote host into one :class:`Market` (call under the sim's lock)."""

    def __init__(
        self,
        quotes: KisQuotes,
        market: Market,
        max_age_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._quotes = quotes
        self._market = market
        self._max_age = max_age_seconds
        self._monotonic = monotonic
        self._read_at: dict[str, float] = {}
        self.reads = 0
        """Quotes read upstream so far (``/sim/stats``)."""
        self.failures = 0
        """Reads that failed (the last price read holds; a code never read stays unknown)."""

    def refresh(self, named: Iterable[str], watched: Iterable[str], now: datetime) -> None:
        """Read every ``named`` code, and each ``watched`` code whose last read is too old; each
        price recorded at ``now``, the moment the request is handled at."""
        fresh = set(named)
        for code in sorted(fresh):
            self._read(code, now)
        started = self._monotonic()
        for code in sorted(set(watched) - fresh):
            if started - self._read_at.get(code, float("-inf")) > self._max_age:
                self._read(code, now)

    def _read(self, code: str, now: datetime) -> None:
        try:
            quote = self._quotes.current_price(code)
        except KisRejected as e:
            log.info("upstream does not list %s: %s", code, e)
            return
        except KisError as e:
            self.failures += 1
            log.warning("upstream quote of %s failed, its last price holds: %s", code, e)
            return
        self.reads += 1
        self._read_at[code] = self._monotonic()
        self._market.record(code, now, quote.price, quote.base_price)
