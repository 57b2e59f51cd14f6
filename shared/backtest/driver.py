"""The fast driver: every session of a range replayed in process, with the rules that trade live.

See docs/ARCHITECTURE.md, 'Backtest'. Each session, as the scheduler and the executor do it:

1. pre-market: settle what is due (D+2), take the session's picks, and plan with
   :func:`plan_day` over KIS's orderable cash (picks already held dropped, ``cash // n``);
2. the session: each code's bars walked by a :class:`CodeWalk` (entry buys, take-profit and
   stop-loss sells intraday, expiry sells at the pre-close's first point), every code's
   decisions merged in time order (at one moment buys before sells, as ``decide`` places them),
   each sent through the order method into the account (:mod:`shared.backtest.account`);
3. the close: the account valued at each position's close.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from shared.backtest.account import BacktestAccount, sendable_buy
from shared.backtest.bar_source import BarSource
from shared.backtest.candidates import CandidateFinder
from shared.backtest.config import BacktestConfig
from shared.backtest.fill_model import buy_fill_price, sell_fill_price
from shared.backtest.market_data import BacktestInputError, MarketData
from shared.backtest.picks_source import PicksSource
from shared.backtest.results import (
    BacktestResult,
    ClosedTrade,
    DataProblem,
    EquityPoint,
    FillRow,
    OpenPosition,
    OrderOutcome,
    OrderRow,
    PlannedPick,
    PlanRow,
    ProblemKind,
    SessionPrice,
)
from shared.backtest.session_path import SessionPath
from shared.backtest.walk import CodeWalk, DayRules, Decision, Finder
from shared.broker.orders import Fill
from shared.kis.models import Side
from shared.trading.market_calendar import KrxCalendar, Session
from shared.trading.rules import PREMARKET_LEAD, PricedPosition, held_sessions, plan_day


@dataclass(frozen=True)
class Held:
    """A position of the run: what was bought, when, at what price and fee."""

    code: str
    name: str
    quantity: int
    price: int
    session: date
    moment: datetime
    fee: int

    def priced(self) -> PricedPosition:
        return PricedPosition(
            code=self.code,
            name=self.name,
            quantity=self.quantity,
            average_price=Decimal(self.price),
            price=self.price,
            buy_session=self.session,
        )


def trading_sessions(calendar: KrxCalendar, start: date, end: date) -> list[Session]:
    """The KRX sessions from ``start`` to ``end``, both included."""
    sessions = []
    day = start
    while day <= end:
        session = calendar.session(day)
        if session is not None:
            sessions.append(session)
        day += timedelta(days=1)
    return sessions


def run_backtest(
    config: BacktestConfig,
    picks: PicksSource,
    bars: BarSource,
    finder: Finder | None = None,
    data: MarketData | None = None,
) -> BacktestResult:
    """Replay ``config``'s sessions; BacktestInputError when there is nothing to replay.

    ``data``: ``bars`` already loaded, from the session before ``config.start`` to
    ``config.end`` for every code the picks name (a sweep's worker loads them once for all its
    runs); read from ``bars`` when not given.
    """
    calendar = config.calendar()
    sessions = trading_sessions(calendar, config.start, config.end)
    if not sessions:
        raise BacktestInputError(f"no KRX session from {config.start} to {config.end}")
    days = [s.day for s in sessions]
    codes = picks.codes(days)
    if not codes:
        raise BacktestInputError(
            f"no picks for any session from {config.start} to {config.end}: nothing to trade"
        )
    before = calendar.previous_session(days[0]).day
    if data is None:
        data = MarketData.load(bars, codes, before, config.end, config.bars)
    run = _Run(config, calendar, data, finder or CandidateFinder())
    run.last_close.update(
        {code: close for code in codes if (close := data.close(code, before)) is not None}
    )
    for session in sessions:
        run.session(session, picks, codes)
    return run.result(days)


class _Run:
    """The state of one run across its sessions."""

    def __init__(
        self, config: BacktestConfig, calendar: KrxCalendar, data: MarketData, finder: Finder
    ) -> None:
        self.config = config
        self.calendar = calendar
        self.data = data
        self.finder = finder
        self.account = BacktestAccount(config, calendar)
        self.held: dict[str, Held] = {}
        self.last_close: dict[str, int] = {}
        self.orders: list[OrderRow] = []
        self.fills: list[FillRow] = []
        self.trades: list[ClosedTrade] = []
        self.equity: list[EquityPoint] = []
        self.plans: list[PlanRow] = []
        self.prices: dict[str, dict[date, SessionPrice]] = defaultdict(dict)
        self.problems: list[DataProblem] = []
        self.problem_days: dict[str, list[tuple[date, ProblemKind]]] = defaultdict(list)
        self.without_picks_file: list[date] = []
        self.orders_today = 0

    # One session -------------------------------------------------------------------------------
    def session(self, session: Session, picks: PicksSource, codes: set[str]) -> None:
        day = session.day
        self.orders_today = 0
        self.account.open_session(session.opens - PREMARKET_LEAD)
        given = picks.for_session(day, self.last_close)
        if given.no_file:
            self.without_picks_file.append(day)
        for problem in given.problems:
            self._note(DataProblem(ProblemKind.PICKS, day, "", problem))
        plan = plan_day(day, given.picks, self.held, self.account.orderable_cash)
        self.plans.append(
            PlanRow(
                day,
                plan.cash,
                plan.buy_amount,
                tuple(PlannedPick(p.code, p.name, p.target) for p in plan.picks),
                plan.held_picks,
            )
        )
        rules = DayRules(session, self.calendar, self.config.thresholds)
        walks = [
            CodeWalk(path, rules, self.finder, pick=pick, buy_amount=plan.buy_amount)
            for pick in plan.picks
            if (path := self._path(pick.code, session, "pick")) is not None
        ]
        walks += [
            CodeWalk(path, rules, self.finder, position=held.priced())
            for code, held in sorted(self.held.items())
            if (path := self._path(code, session, "position")) is not None
        ]
        self._walk(session, walks)
        for code in sorted(codes):
            close = self.data.close(code, day)
            bars = self.data.bars_of(code, day)
            if close is not None and bars is not None:
                self.last_close[code] = close
                self.prices[code][day] = SessionPrice(int(bars.open[0]), close)
        self._value(day)

    def _path(self, code: str, session: Session, role: str) -> SessionPath | None:
        walkable = self.data.walkable(code, session, self.config.thresholds, role)
        for problem in walkable.problems:
            self._note(problem)
        path = walkable.path
        if path is not None and code in self.last_close:
            jump = self.data.split(code, path, self.last_close[code])
            if jump is not None:
                self._note(jump)
        return path

    def _walk(self, session: Session, walks: list[CodeWalk]) -> None:
        """Every walk's decisions in time order; at one moment, buys first, then pick order."""
        queue: list[tuple[int, int, int, Decision]] = []

        def push(rank: int) -> None:
            decision = walks[rank].next_decision()
            if decision is not None:
                side = 0 if decision.intent.side is Side.BUY else 1
                heapq.heappush(queue, (decision.point.seconds, side, rank, decision))

        for rank in range(len(walks)):
            push(rank)
        while queue:
            _, _, rank, decision = heapq.heappop(queue)
            walk = walks[rank]
            if decision.intent.side is Side.BUY:
                walk.entered(*self._buy(session, decision))
            else:
                self._sell(session, decision)
                walk.sold()
            push(rank)

    # Orders ------------------------------------------------------------------------------------
    def _buy(self, session: Session, decision: Decision) -> tuple[int, int]:
        """Send an entry buy through the order method; (shares bought, price)."""
        intent, point = decision.intent, decision.point
        send = sendable_buy(
            intent,
            orderable_cash=self.account.orderable_cash,
            fees=self.account.fees,
            config=self.config,
            orders_today=self.orders_today,
            open_positions=len(self.held),
        )
        self._order(decision, send.quantity, send.status, send.note)
        if send.quantity <= 0:
            return 0, point.price
        self.orders_today += 1
        price = buy_fill_price(point.price, intent.limit_price)
        fill = self.account.buy(intent, send.quantity, price, point.moment, session.closes)
        self._fill(intent.id, session.day, intent.code, Side.BUY, fill)
        self.held[intent.code] = Held(
            intent.code, intent.name, fill.qty, fill.price, session.day, point.moment, fill.fee
        )
        return fill.qty, fill.price

    def _sell(self, session: Session, decision: Decision) -> None:
        """Send a market sell of the whole position; it fills ``slippage_ticks`` lower."""
        intent, point = decision.intent, decision.point
        self._order(decision, intent.quantity, OrderOutcome.FILLED, "")
        self.orders_today += 1
        price = sell_fill_price(point.price, self.config.slippage_ticks)
        fill = self.account.sell(intent, price, point.moment, session.closes)
        self._fill(intent.id, session.day, intent.code, Side.SELL, fill)
        held = self.held.pop(intent.code)
        gross = (fill.price - held.price) * fill.qty
        kinds = tuple(
            dict.fromkeys(
                kind
                for day, kind in self.problem_days[intent.code]
                if held.session <= day <= session.day
            )
        )
        self.trades.append(
            ClosedTrade(
                code=held.code,
                name=held.name,
                entry_session=held.session,
                entry_moment=held.moment,
                entry_price=held.price,
                exit_session=session.day,
                exit_moment=point.moment,
                exit_price=fill.price,
                quantity=fill.qty,
                reason=intent.reason,
                sessions_held=held_sessions(self.calendar, held.session, session.day),
                gross=gross,
                fees=held.fee + fill.fee,
                tax=fill.tax,
                net=gross - held.fee - fill.fee - fill.tax,
                problems=kinds,
            )
        )

    def _order(self, decision: Decision, sent: int, status: OrderOutcome, note: str) -> None:
        intent = decision.intent
        self.orders.append(
            OrderRow(
                id=intent.id,
                session=intent.session,
                moment=decision.point.moment,
                code=intent.code,
                name=intent.name,
                side=intent.side,
                reason=intent.reason,
                quantity=intent.quantity,
                sent_quantity=sent,
                limit_price=intent.limit_price,
                price_seen=intent.price_seen,
                status=status,
                note=note,
            )
        )

    def _fill(self, order_id: str, day: date, code: str, side: Side, fill: Fill) -> None:
        self.fills.append(
            FillRow(
                order_id, day, fill.filled_kst, code, side, fill.qty, fill.price, fill.fee, fill.tax
            )
        )

    # The close ---------------------------------------------------------------------------------
    def _value(self, day: date) -> None:
        holdings = sum(h.quantity * self._last_price(h) for h in self.held.values())
        deposit, pending = self.account.deposit, self.account.pending
        self.equity.append(
            EquityPoint(
                day, deposit, pending, holdings, deposit + pending + holdings, len(self.held)
            )
        )

    def _last_price(self, held: Held) -> int:
        return self.last_close.get(held.code, held.price)

    def _note(self, problem: DataProblem) -> None:
        self.problems.append(problem)
        if problem.code:
            self.problem_days[problem.code].append((problem.session, problem.kind))

    def result(self, days: list[date]) -> BacktestResult:
        missing = self.without_picks_file
        if missing:
            detail = (
                f"no picks file for {len(missing)} of {len(days)} sessions ({missing[0]} to"
                f" {missing[-1]}): no buys on them"
            )
            self.problems.append(DataProblem(ProblemKind.PICKS, missing[0], "", detail))
        open_positions = tuple(
            OpenPosition(
                code=h.code,
                name=h.name,
                quantity=h.quantity,
                entry_session=h.session,
                entry_moment=h.moment,
                entry_price=h.price,
                last_price=self._last_price(h),
                value=h.quantity * self._last_price(h),
            )
            for h in sorted(self.held.values(), key=lambda h: h.code)
        )
        return BacktestResult(
            config=self.config,
            sessions=tuple(days),
            plans=tuple(self.plans),
            orders=tuple(self.orders),
            fills=tuple(self.fills),
            trades=tuple(self.trades),
            open_positions=open_positions,
            equity=tuple(self.equity),
            problems=tuple(sorted(self.problems, key=lambda p: (p.session, p.code, p.kind))),
            prices={code: dict(by_day) for code, by_day in sorted(self.prices.items())},
        )
