"""Where current prices come from: one small interface, so a realtime stream can replace polling."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Protocol

from shared.kis.errors import KisRejected
from shared.kis.models import Quote

log = logging.getLogger(__name__)


class QuoteSource(Protocol):
    """Current prices of some codes, in won."""

    def prices(self, codes: Iterable[str]) -> dict[str, int]:
        """The price of each code that has one now; a code without a price is left out."""
        ...


class PriceReader(Protocol):
    """The one KIS call polling needs."""

    def current_price(self, code: str) -> Quote: ...


class PollingQuotes:
    """One ``current_price`` call per code (the shared rate limiter paces them)."""

    def __init__(self, client: PriceReader) -> None:
        self._client = client

    def prices(self, codes: Iterable[str]) -> dict[str, int]:
        """Prices by code. A code KIS rejects is skipped; a temporary error reaches the caller.

        A temporary error aborts the whole cycle on purpose: the loop tries again next cycle,
        whereas a rejected code (delisted, mistyped in the picks) would fail every cycle.
        """
        found: dict[str, int] = {}
        for code in codes:
            try:
                found[code] = self._client.current_price(code).price
            except KisRejected as e:
                log.warning("no price for %s, skipped this cycle: %s", code, e)
        return found
