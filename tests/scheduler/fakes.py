"""In-memory stand-ins for the KIS reads and the clock, for driving the scheduler step by step."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal

from shared.kis.errors import KisRejected
from shared.kis.models import AccountSummary, Balance, BuyableCash, Holding, Quote


def row(
    code: str, qty: int, avg: str | int, price: int, *, orderable: int | None = None
) -> Holding:
    """A balance row as KIS would send it."""
    return Holding.from_api(
        {
            "pdno": code,
            "prdt_name": f"name-{code}",
            "hldg_qty": str(qty),
            "ord_psbl_qty": str(qty if orderable is None else orderable),
            "pchs_avg_pric": str(Decimal(avg)),
            "prpr": str(price),
        }
    )


class FakeBroker:
    """Answers the scheduler's three KIS reads from attributes and counts every call."""

    def __init__(self, cash: int = 10_000_000) -> None:
        self.cash = cash
        self.prices: dict[str, int] = {}
        self.rows: list[Holding] = []
        self.pages = 1
        self.calls: Counter[str] = Counter()
        self.priced: list[str] = []
        self.cash_codes: list[str] = []

    def current_price(self, code: str) -> Quote:
        self.calls["price"] += 1
        self.priced.append(code)
        if code not in self.prices:
            raise KisRejected(f"price of {code}: unknown stock code", msg_cd="UNKNOWN_CODE")
        return Quote.from_api(code, {"stck_prpr": str(self.prices[code])})

    def balance(self) -> Balance:
        self.calls["balance"] += 1
        summary = AccountSummary.from_api({"dnca_tot_amt": str(self.cash), "tot_evlu_amt": "0"})
        return Balance(tuple(self.rows), summary, self.pages)

    def buyable_cash(self, code: str, price: int | None = None) -> BuyableCash:
        self.calls["cash"] += 1
        self.cash_codes.append(code)
        return BuyableCash.from_api({"ord_psbl_cash": str(self.cash)})


class ManualClock:
    """A clock that moves only when told to."""

    speed = 1.0

    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def sleep(self, seconds: float) -> None:
        self.current += timedelta(seconds=max(seconds, 0))

    def sleep_until(self, moment: datetime) -> None:
        self.current = max(self.current, moment)
