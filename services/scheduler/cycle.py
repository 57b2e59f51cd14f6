"""One intraday or pre-close cycle: read the market once, decide, create and queue the intents.

Per cycle: one price call per pick still to buy, one balance over every page, never a balance
per pick. :func:`measure_intraday_cycle` times exactly those reads for the engine benchmark.
"""

from __future__ import annotations

import logging
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import redis

from services.scheduler.decisions import (
    buy_decisions,
    buy_intent,
    codes_with_live_sells,
    holdings_in_scope,
    picks_to_buy,
    sell_intent,
    sells_to_place,
)
from services.scheduler.metering import Broker, MeteredBroker
from services.scheduler.notices import Notifier
from services.scheduler.quotes import PollingQuotes, QuoteSource
from shared.events import BuyAttempt, SellAttempt
from shared.kis.models import Balance
from shared.market_calendar import KrxCalendar
from shared.orders import OrderBook, OrderIntent, OrderRecord
from shared.positions import PositionLedger
from shared.queues import enqueue_order
from shared.rules import DayPlan, Phase, Thresholds, expiry_sells, intraday_sells

log = logging.getLogger(__name__)

BalanceSink = Callable[[date, Balance], None]
"""Told of every balance read (the status API's account snapshot)."""


@dataclass(frozen=True)
class MarketView:
    """What one cycle reads: prices of the picks still to buy, and the balance."""

    prices: dict[str, int]
    balance: Balance


def read_market(quotes: QuoteSource, broker: Broker, codes: Sequence[str]) -> MarketView:
    """One quote per code (none when there is nothing to buy) and one balance (all pages)."""
    prices = quotes.prices(codes) if codes else {}
    return MarketView(prices, broker.balance())


@dataclass(frozen=True)
class Placed:
    """How many new orders a cycle queued."""

    buys: int = 0
    sells: int = 0


class Trader:
    """Turns one cycle's reads into order intents; the executor does the trading."""

    def __init__(
        self,
        client: redis.Redis,
        book: OrderBook,
        ledger: PositionLedger,
        broker: Broker,
        quotes: QuoteSource,
        calendar: KrxCalendar,
        th: Thresholds,
        sell_scope: str,
        notify: Notifier,
        on_balance: BalanceSink,
    ) -> None:
        self._redis = client
        self._book = book
        self._ledger = ledger
        self._broker = broker
        self._quotes = quotes
        self._calendar = calendar
        self._th = th
        self._sell_scope = sell_scope
        self._notify = notify
        self._on_balance = on_balance

    def cycle(
        self,
        session: date,
        phase: Phase,
        plan: DayPlan | None,
        records: Sequence[OrderRecord],
        still_leading: Callable[[], bool],
    ) -> Placed:
        """Buys (intraday, with a plan) then sells; stops early if the lead is lost."""
        wanted = []
        if phase is Phase.INTRADAY and plan is not None and plan.buy_amount > 0:
            wanted = picks_to_buy(plan, {r.id for r in records})
        view = read_market(self._quotes, self._broker, [p.code for p in wanted])
        self._on_balance(session, view.balance)
        # The reads may have taken a while (rate limit, retries): act only while still leading.
        if not still_leading():
            return Placed()
        buys = 0
        amount = plan.buy_amount if plan is not None else 0
        for buy in buy_decisions(wanted, view.prices, amount, self._th.buy_band_ratio):
            if self._place(buy_intent(session, buy)):
                buys += 1
                self._notify(
                    BuyAttempt(
                        session=session,
                        code=buy.pick.code,
                        name=buy.pick.name,
                        price=buy.price,
                        quantity=buy.quantity,
                    )
                )
        holdings = holdings_in_scope(view.balance.held(), self._ledger.all(), self._sell_scope)
        if phase is Phase.INTRADAY:
            decisions = intraday_sells(holdings, self._th)
        else:
            decisions = expiry_sells(holdings, self._calendar, session, self._th)
        sells = 0
        for sell in sells_to_place(decisions, codes_with_live_sells(records)):
            if self._place(sell_intent(session, sell)):
                sells += 1
                self._notify(
                    SellAttempt(
                        session=session,
                        code=sell.code,
                        name=sell.name,
                        price=sell.price,
                        quantity=sell.quantity,
                        reason=sell.reason,
                    )
                )
        return Placed(buys, sells)

    def _place(self, intent: OrderIntent) -> bool:
        """Create the order record (once ever) and queue it; False when it already existed."""
        if self._book.create(intent) is None:
            return False
        # A crash right here leaves a pending record without a job: the executor's
        # reconciliation re-queues pending orders once they are ORDER_STALE_SECONDS old.
        enqueue_order(self._redis, intent.order_id, intent.side)
        log.info(
            "order %s: %s x%d (price seen %d)",
            intent.order_id,
            intent.side.label,
            intent.quantity,
            intent.price_seen,
        )
        return True


def measure_intraday_cycle(client: Broker, codes: Sequence[str], cycles: int) -> tuple[float, int]:
    """Mean real seconds of an intraday cycle's reads for ``codes``, and its KIS requests.

    The reads are the scheduler's own (:func:`read_market` through :class:`PollingQuotes`);
    the requests are those of the last cycle (``len(codes)`` quotes plus the balance's pages).
    """
    broker = MeteredBroker(client)
    quotes = PollingQuotes(broker)
    seconds = []
    requests = 0
    for _ in range(cycles):
        broker.take()
        started = time.perf_counter()
        read_market(quotes, broker, codes)
        seconds.append(time.perf_counter() - started)
        requests = broker.take().requests
    return statistics.fmean(seconds), requests
