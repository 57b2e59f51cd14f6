"""One code through one session: the live rules asked at each point of the bars they may act on.

See docs/ARCHITECTURE.md, 'Backtest'. What the scheduler does in each phase
(``services/scheduler/cycle.py``, ``DecisionCycle.decide``), on the prices of one code:

- intraday, a pick of the plan not yet tried: :func:`entry_buys` (one entry per pick and
  session, whatever became of it);
- intraday, a position: :func:`intraday_sells` (take-profit, stop-loss);
- pre-close, a position: :func:`expiry_sells`;
- never a second sell of a position (it is gone once sold).

The walk does not look at every point: a :class:`Finder` names the next bar on which the rules
could act (:class:`shared.backtest.candidates.CandidateFinder` with numpy), and only that bar's
points are put to the rules. A position bought at a point is judged from the next point on.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Protocol

from shared.backtest.fill_model import POINTS, seconds_of_day
from shared.backtest.session_path import Point, SessionPath
from shared.trading.market_calendar import KrxCalendar, Session
from shared.trading.orders import OrderIntent
from shared.trading.picks import Pick
from shared.trading.rules import (
    Phase,
    PricedPosition,
    Thresholds,
    entry_buys,
    expiry_sells,
    intraday_sells,
    is_expired,
    phase_at,
)


@dataclass(frozen=True)
class DayRules:
    """The rules' settings and the session they are asked about."""

    session: Session
    calendar: KrxCalendar
    thresholds: Thresholds

    @property
    def day(self) -> date:
        return self.session.day

    @property
    def intraday(self) -> tuple[int, int]:
        """Seconds of day of the intraday phase, ``[open, close - BUY_CUTOFF)``."""
        return (
            seconds_of_day(self.session.opens),
            seconds_of_day(self.session.closes - self.thresholds.buy_cutoff),
        )

    @property
    def preclose(self) -> tuple[int, int]:
        """Seconds of day of the pre-close phase, ``[close - BUY_CUTOFF, close - PRECLOSE)``."""
        return (
            seconds_of_day(self.session.closes - self.thresholds.buy_cutoff),
            seconds_of_day(self.session.closes - self.thresholds.preclose_cutoff),
        )


@dataclass(frozen=True)
class Decision:
    """An intent of the rules, and the point it was decided at."""

    point: Point
    intent: OrderIntent


class Finder(Protocol):
    """Names the first bar from ``start`` on which the rules could act for ``walk``."""

    def next_bar(self, walk: CodeWalk, start: int) -> int | None: ...


class EveryBar:
    """The plain walk: every bar is a candidate (the reference the fast search is tested on)."""

    def next_bar(self, walk: CodeWalk, start: int) -> int | None:
        return start if start < len(walk.path) else None


class CodeWalk:
    """The decisions of the rules for one code in one session, one at a time, in time order.

    The driver takes a decision (:meth:`next_decision`), executes it, and says what became of
    it (:meth:`entered`, :meth:`sold`) before asking for the next one.
    """

    def __init__(
        self,
        path: SessionPath,
        rules: DayRules,
        finder: Finder,
        *,
        pick: Pick | None = None,
        buy_amount: int = 0,
        position: PricedPosition | None = None,
    ) -> None:
        self.path = path
        self.rules = rules
        self._finder = finder
        self.pick = pick if buy_amount > 0 else None
        """The pick still to buy (None once tried, or with nothing to spend)."""
        self.buy_amount = buy_amount
        self.position = position
        """The position the rules may sell (None: none, or sold)."""
        self.expired = self._expired()
        self._bar = 0
        self._next_point = 0
        self._points: list[Point] = []

    def _expired(self) -> bool:
        p = self.position
        if p is None or p.buy_session is None:
            return False
        return is_expired(self.rules.calendar, p.buy_session, self.rules.day, self.rules.thresholds)

    def next_decision(self) -> Decision | None:
        """The next point at which the rules decide something, or None for the rest of the day."""
        while self.pick is not None or self.position is not None:
            if self._next_point == 0:
                found = self._finder.next_bar(self, self._bar)
                if found is None:
                    return None
                self._bar = found
                self._points = self.path.points(found)
            while self._next_point < POINTS:
                point = self._points[self._next_point]
                self._next_point += 1
                intent = self._decide(point)
                if intent is not None:
                    self._step_past_bar_end()
                    return Decision(point, intent)
            self._step_past_bar_end()
        return None

    def _step_past_bar_end(self) -> None:
        if self._next_point >= POINTS:
            self._bar += 1
            self._next_point = 0

    def _decide(self, point: Point) -> OrderIntent | None:
        rules = self.rules
        phase = phase_at(point.moment, rules.session, rules.thresholds)
        if phase is Phase.INTRADAY:
            if self.pick is not None:
                band = rules.thresholds.buy_band_ratio
                prices = {self.pick.code: point.price}
                buys = entry_buys(rules.day, [self.pick], prices, self.buy_amount, band)
                if buys:
                    return buys[0]
            if self.position is not None:
                priced = replace(self.position, price=point.price)
                sells = intraday_sells(rules.day, [priced], rules.thresholds)
                if sells:
                    return sells[0]
        elif phase is Phase.PRECLOSE and self.position is not None:
            priced = replace(self.position, price=point.price)
            expiring = expiry_sells(rules.day, [priced], rules.calendar, rules.thresholds)
            if expiring:
                return expiring[0]
        return None

    # What became of a decision -----------------------------------------------------------------
    def entered(self, quantity: int, price: int) -> None:
        """The entry was tried: ``quantity`` shares bought at ``price`` (0: none)."""
        pick = self.pick
        self.pick = None
        if pick is not None and quantity > 0:
            self.position = PricedPosition(
                code=pick.code,
                name=pick.name,
                quantity=quantity,
                average_price=Decimal(price),
                price=price,
                buy_session=self.rules.day,
            )
            self.expired = self._expired()

    def sold(self) -> None:
        """The position was sold, whole."""
        self.position = None
