"""The KIS calls the scheduler makes, counted per cycle so a benchmark can read them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Protocol

from shared.kis.models import Balance, BuyableCash, Execution, MarketDay, Quote


class KisReader(Protocol):
    """The KIS reads the scheduler uses (:class:`shared.kis.KisClient` has them all)."""

    def current_price(self, code: str) -> Quote: ...

    def balance(self) -> Balance: ...

    def buyable_cash(self, code: str, price: int | None = None) -> BuyableCash: ...

    def market_days(self, start: date) -> list[MarketDay]: ...

    def daily_executions(self, start: date) -> list[Execution]: ...


@dataclass(frozen=True)
class CallCounts:
    """KIS requests since the last reset; a balance counts one request per page."""

    requests: int = 0
    price_calls: int = 0
    balance_calls: int = 0
    balance_pages: int = 0
    cash_calls: int = 0

    def as_json(self) -> dict[str, int]:
        return asdict(self)


class MeteredKisReader:
    """A :class:`KisReader` that counts what goes through it (not the client's own retries)."""

    def __init__(self, inner: KisReader) -> None:
        self._inner = inner
        self._counts = CallCounts()

    def current_price(self, code: str) -> Quote:
        self._add(requests=1, price_calls=1)
        return self._inner.current_price(code)

    def balance(self) -> Balance:
        try:
            balance = self._inner.balance()
        except Exception:
            # The pages read before the failure are unknown; one request certainly went out.
            self._add(requests=1, balance_calls=1, balance_pages=1)
            raise
        self._add(requests=balance.pages, balance_calls=1, balance_pages=balance.pages)
        return balance

    def buyable_cash(self, code: str, price: int | None = None) -> BuyableCash:
        self._add(requests=1, cash_calls=1)
        return self._inner.buyable_cash(code, price)

    def market_days(self, start: date) -> list[MarketDay]:
        self._add(requests=1)
        return self._inner.market_days(start)

    def daily_executions(self, start: date) -> list[Execution]:
        self._add(requests=1)
        return self._inner.daily_executions(start)

    def take(self) -> CallCounts:
        """The counts since the last ``take``, and start again from zero."""
        counts, self._counts = self._counts, CallCounts()
        return counts

    def _add(self, **more: int) -> None:
        now = asdict(self._counts)
        self._counts = CallCounts(**{k: v + more.get(k, 0) for k, v in now.items()})
