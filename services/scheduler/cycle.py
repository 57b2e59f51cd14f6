"""One intraday or pre-close cycle: read the market once, decide, create and queue the intents.

Per cycle: one price call per pick still to buy, one balance over every page, never a balance
per pick. :func:`measure_intraday_cycle` times exactly those reads for the engine benchmark.
"""

from __future__ import annotations

import logging
import statistics
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

import redis

from services.scheduler.decisions import (
    codes_with_live_sells,
    picks_to_buy,
    positions_in_scope,
    sells_to_place,
)
from services.scheduler.metering import KisReader, MeteredKisReader
from services.scheduler.notices import Notifier
from services.scheduler.quotes import PollingQuotes, QuoteSource
from shared.kis.models import Balance, Side
from shared.messaging.events import BuyAttempt, SellAttempt
from shared.messaging.queues import enqueue_order
from shared.state.order_book import OrderBook
from shared.state.positions import PositionLedger
from shared.trading.market_calendar import KrxCalendar
from shared.trading.orders import OrderIntent, OrderRecord
from shared.trading.picks import Pick
from shared.trading.rules import (
    DayPlan,
    Phase,
    PricedPosition,
    Thresholds,
    entry_buys,
    expiry_sells,
    intraday_sells,
)

log = logging.getLogger(__name__)

CLOSING_AUCTION = "closing_auction"
"""``EXPIRY_SELLS_IN``'s value that sends the expiry sells into the closing call."""
BalanceSink = Callable[[date, Balance], None]
"""Told of every balance read (the status API's account snapshot, the day's loss)."""
EntriesStopped = Callable[[date], bool]
"""Whether new entries are stopped for the session (flatten, the day's loss limit) or wait for
the day's orders to be rebuilt after our state was lost."""


@dataclass(frozen=True)
class MarketView:
    """What one cycle reads: prices of the picks still to buy, and the balance."""

    prices: dict[str, int]
    balance: Balance


def read_market(quotes: QuoteSource, kis: KisReader, codes: Sequence[str]) -> MarketView:
    """One quote per code (none when there is nothing to buy) and one balance (all pages)."""
    prices = quotes.prices(codes) if codes else {}
    return MarketView(prices, kis.balance())


@dataclass(frozen=True)
class Placed:
    """How many new orders a cycle queued."""

    buys: int = 0
    sells: int = 0


class DecisionCycle:
    """One cycle: read the market, ask the rules, create and queue their intents.

    The executor does the trading; this only decides, once per intent (``SET NX``).
    """

    def __init__(
        self,
        client: redis.Redis,
        book: OrderBook,
        ledger: PositionLedger,
        kis: KisReader,
        quotes: QuoteSource,
        calendar: KrxCalendar,
        thresholds: Thresholds,
        sell_scope: str,
        notify: Notifier,
        on_balance: BalanceSink,
        entries_stopped: EntriesStopped,
        expiry_sells_in: str = "preclose",
    ) -> None:
        self._redis = client
        self._book = book
        self._ledger = ledger
        self._kis = kis
        self._quotes = quotes
        self._calendar = calendar
        self._thresholds = thresholds
        self._sell_scope = sell_scope
        self._notify = notify
        self._on_balance = on_balance
        self._entries_stopped = entries_stopped
        self._expiry_sells_in = expiry_sells_in
        self._deciding = threading.Lock()
        self.last_positions: list[PricedPosition] = []
        """The positions the rules may sell, priced by the last balance read."""

    def run(
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
        view = read_market(self._quotes, self._kis, [p.code for p in wanted])
        self._on_balance(session, view.balance)
        if wanted and self._entries_stopped(session):
            wanted = []  # the balance just read stopped them: the day's loss reached its limit
        positions = positions_in_scope(view.balance.held(), self._ledger.all(), self._sell_scope)
        self.last_positions = positions
        # The reads may have taken a while (rate limit, retries): act only while still leading.
        if not still_leading():
            return Placed()
        amount = plan.buy_amount if plan is not None else 0
        return self.decide(session, phase, wanted, amount, view.prices, positions)

    def on_prices(self, session: date, plan: DayPlan | None, prices: Mapping[str, int]) -> Placed:
        """Intraday decisions on fresh prices (stream ticks) between cycles.

        The picks still to buy and the positions of the last balance, each at its new price;
        a code without a new price is left to the cycle. The same rules and the same order ids
        as :meth:`run`, so a decision made here is never made again there.
        """
        positions = [
            replace(p, price=prices[p.code])
            for p in self._positions_now(session)
            if p.code in prices
        ]
        wanted: list[Pick] = []
        amount = 0
        if plan is not None and plan.buy_amount > 0:
            records = self._book.of_day(session)
            wanted = [p for p in picks_to_buy(plan, {r.id for r in records}) if p.code in prices]
            amount = plan.buy_amount
        if not wanted and not positions:
            return Placed()
        return self.decide(session, Phase.INTRADAY, wanted, amount, prices, positions)

    def _positions_now(self, session: date) -> list[PricedPosition]:
        """The last balance's positions, and the ledger's bought today and not in it yet.

        A buy filled after the last balance read is in the ledger at once (the executor
        applies fill notices), so a tick can sell it before the next balance. Older positions
        missing from the balance were sold by hand: left alone, as the cycle does.
        """
        positions = list(self.last_positions)
        if self._sell_scope != "bot":
            return positions
        priced = {p.code for p in positions}
        for code, held in self._ledger.all().items():
            if code not in priced and held.quantity > 0 and held.buy_session == session:
                positions.append(
                    PricedPosition(
                        code=code,
                        name=held.name,
                        quantity=held.quantity,
                        average_price=held.average_price,
                        price=0,
                        buy_session=held.buy_session,
                    )
                )
        return positions

    def decide(
        self,
        session: date,
        phase: Phase,
        wanted: Sequence[Pick],
        amount: int,
        prices: Mapping[str, int],
        positions: Sequence[PricedPosition],
    ) -> Placed:
        """Ask the rules and place their intents: buys (of ``wanted``), then sells.

        One decision at a time (the cycle and the tick thread share this), and the working
        sells are read afresh inside it: never two sells of one position.
        """
        with self._deciding:
            band = self._thresholds.buy_band_ratio
            buys = sum(
                self._place(buy) for buy in entry_buys(session, wanted, prices, amount, band)
            )
            if phase is Phase.INTRADAY:
                exits = intraday_sells(session, positions, self._thresholds)
            elif self._expiry_sells_in == CLOSING_AUCTION:
                exits = []  # post-market sends them into the closing call (closing_auction_sells)
            else:
                exits = expiry_sells(session, positions, self._calendar, self._thresholds)
            sells = 0
            if exits:
                live = codes_with_live_sells(self._book.of_day(session))
                sells = sum(self._place(sell) for sell in sells_to_place(exits, live))
            return Placed(buys, sells)

    def closing_auction_sells(self, session: date) -> Placed:
        """With ``EXPIRY_SELLS_IN=closing_auction``: the expiry sells, sent into the closing call.

        One balance read, then one quote per sell for the day's lower limit: KIS takes only
        limit orders in the closing call, and a sell limited at the lower limit is crossed by
        any closing price, so it fills in full at that one price (docs/ARCHITECTURE.md,
        'Auctions and volatility interruptions'). The same ids as the pre-close's, so a sell
        is placed once whenever it is decided.
        """
        balance = self._kis.balance()
        self._on_balance(session, balance)
        positions = positions_in_scope(balance.held(), self._ledger.all(), self._sell_scope)
        exits = expiry_sells(session, positions, self._calendar, self._thresholds)
        with self._deciding:
            live = codes_with_live_sells(self._book.of_day(session))
            sells = 0
            for intent in sells_to_place(exits, live):
                lowest = self._kis.current_price(intent.code).lower_limit
                sells += self._place(replace(intent, limit_price=lowest))
        return Placed(0, sells)

    def _place(self, intent: OrderIntent) -> bool:
        """Create the order record (once ever), queue it and tell the notifier; False when it
        already existed."""
        if self._book.create(intent) is None:
            return False
        # A crash right here leaves a pending record without a job: the executor's
        # reconciliation re-queues pending orders once they are ORDER_STALE_SECONDS old.
        enqueue_order(self._redis, intent.id, intent.side)
        log.info(
            "order %s: %s x%d (price seen %d)",
            intent.id,
            intent.side.label,
            intent.quantity,
            intent.price_seen,
        )
        self._notify(attempt(intent))
        return True


def attempt(intent: OrderIntent) -> BuyAttempt | SellAttempt:
    """The notice of a decision just queued."""
    if intent.side is Side.BUY:
        return BuyAttempt(
            session=intent.session,
            code=intent.code,
            name=intent.name,
            price=intent.price_seen,
            quantity=intent.quantity,
            target=intent.floor_price,
        )
    return SellAttempt(
        session=intent.session,
        code=intent.code,
        name=intent.name,
        price=intent.price_seen,
        quantity=intent.quantity,
        reason=intent.reason,
    )


def measure_intraday_cycle(
    client: KisReader, codes: Sequence[str], cycles: int
) -> tuple[float, int]:
    """Mean real seconds of an intraday cycle's reads for ``codes``, and its KIS requests.

    The reads are the scheduler's own (:func:`read_market` through :class:`PollingQuotes`);
    the requests are those of the last cycle (``len(codes)`` quotes plus the balance's pages).
    """
    metered = MeteredKisReader(client)
    quotes = PollingQuotes(metered)
    seconds = []
    requests = 0
    for _ in range(cycles):
        metered.take()
        started = time.perf_counter()
        read_market(quotes, metered, codes)
        seconds.append(time.perf_counter() - started)
        requests = metered.take().requests
    return statistics.fmean(seconds), requests
