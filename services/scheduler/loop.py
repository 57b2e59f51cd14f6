"""The scheduler loop: one leader, the phases of the KRX day, and the I/O around the decisions.

``Scheduler.step`` does one iteration; ``Scheduler.run`` repeats it until asked to stop and never
returns on its own. Every wait is cut into slices of at most a third of the leader lock's TTL so
the lock and the heartbeat stay fresh and a stop request is seen quickly: a standby can take
over only from a leader that has really stopped.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import redis

from services.scheduler.account import AccountRecorder
from services.scheduler.cash_ahead import CashReader
from services.scheduler.closing import CLOSING_MATCH_MARGIN, DayCloser, summary_line
from services.scheduler.cycle import CLOSING_AUCTION, DecisionCycle, Placed
from services.scheduler.decisions import picks_to_buy, unsettled
from services.scheduler.journal_writer import JournalWriter
from services.scheduler.kis_calendar import kis_opens
from services.scheduler.kis_outage import OutageNotices
from services.scheduler.lost_state import StateWatch
from services.scheduler.metering import CallCounts, KisReader, MeteredKisReader
from services.scheduler.notices import QueueNotifier
from services.scheduler.period_summaries import PeriodSummaries
from services.scheduler.plan import PicksFiles, Planner
from services.scheduler.plan_file import PlanFiles
from services.scheduler.quotes import PollingQuotes, QuoteSource
from services.scheduler.realtime import Realtime
from services.scheduler.streaming import STREAM_FEED, StreamFactory
from services.scheduler.watch import Watch, watched_pick, watched_position
from services.scheduler.yielding import ReadGate, YieldingReader
from shared.infra.clock import Clock
from shared.infra.logs import RedactingFilter
from shared.infra.redis_client import OUTAGE_PAUSE_SECONDS
from shared.infra.redis_keys import Keys
from shared.infra.settings import Settings
from shared.kis.errors import KisAuthError, KisError
from shared.kis.models import Balance, Side
from shared.kis.reachability import outage_health
from shared.kis.stream import MAX_REGISTRATIONS
from shared.messaging.events import ClosedDay, ServiceError
from shared.messaging.queues import enqueue_reconcile
from shared.state.account_cash import remember_orderable_cash
from shared.state.control import (
    HEARTBEAT_TTL_SECONDS,
    Controls,
    LeaderLock,
    beat,
    entries_stopped,
    instance_id,
)
from shared.state.journal import Journal
from shared.state.money_limits import LimitStore, MoneyLimits, check_daily_loss
from shared.state.once import ONCE_FOLDER, OnceMarks
from shared.state.order_book import OrderBook
from shared.state.positions import PositionLedger
from shared.trading.costs import TradeCosts
from shared.trading.market_calendar import KrxCalendar
from shared.trading.orders import FINAL, OrderRecord, Reason, order_id
from shared.trading.rules import (
    PREMARKET_LEAD,
    DayPlan,
    Phase,
    Thresholds,
    buy_limit_price,
    phase_at,
)

log = logging.getLogger(__name__)

ROLE = "scheduler"
"""The leader lock's role and the heartbeat's service name."""
ERROR_PAUSE_SECONDS = 2.0
"""Real seconds to wait after a failed iteration (capped by the lock's refresh interval)."""
STANDBY_MARGIN_SECONDS = 0.02
"""A standby tries again this long after the leader's lock would lapse, in real seconds."""
ERROR_NOTICE_INTERVAL_SECONDS = 300.0
"""The same unexpected error is notified at most once in this many real seconds."""
STREAM_CAPACITY = MAX_REGISTRATIONS - 1
"""Price registrations on the stream: KIS's 41 per session less the fill notice's."""
STREAM_PHASES = frozenset({Phase.INTRADAY, Phase.PRECLOSE})
"""The phases in which the leader keeps the stream session open."""
STREAM_BEFORE_OPEN = timedelta(minutes=2)
"""How long before the open the leader opens the stream and subscribes the day's picks, so the
open's first trades reach it as ticks and are decided on at once, not after a polling round
(docs/ARCHITECTURE.md, 'Realtime prices on the stream')."""
STREAM_UPKEEP_SECONDS = 5.0
"""Real seconds between cycles while the stream carries every code a cycle would quote: the
cycle is upkeep then (balance, reconciliation), and the rate limit is left to the orders."""
STREAM_CHECK_SECONDS = 0.1
"""How often that longer wait looks at the stream's health, in real seconds."""


@dataclass(frozen=True)
class CycleReport:
    """What one intraday or pre-close cycle did and cost."""

    phase: str
    session: str
    seconds: float
    calls: CallCounts
    buys: int = 0
    sells: int = 0
    held_back: str = ""
    ended_epoch: float = field(default_factory=time.time)
    """When the cycle ended, in real Unix seconds (it is built as the cycle ends)."""

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["calls"] = self.calls.as_json()
        return data


class Scheduler:
    """Decides what to trade; the executor trades. Its I/O dependencies are passed in."""

    def __init__(
        self,
        settings: Settings,
        client: redis.Redis,
        kis: KisReader,
        clock: Clock,
        calendar: KrxCalendar,
        quotes: QuoteSource | None = None,
        *,
        stream: StreamFactory | None = None,
        instance: str | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.settings = settings
        self.redis = client
        self.keys = Keys(settings.redis_prefix)
        self._stop = stop if stop is not None else threading.Event()
        # Refresh well inside both the lock's and the heartbeat's lifetime.
        self._slice = min(settings.scheduler_lock_seconds, HEARTBEAT_TTL_SECONDS) / 3
        # Quotes and balances give way to a tick's order near a decision ('The cash read ahead').
        self.gate = ReadGate(
            settings.rate_limit,
            self._near_a_tick_decision,
            self._keep_alive,
            self._slice,
            lambda: self._stop,
            clock.speed,
        )
        self.kis = MeteredKisReader(YieldingReader(kis, self.gate, self._quote_urgent))
        self.clock = clock
        self.calendar = calendar
        self.thresholds = Thresholds.from_settings(settings)
        self.realtime = Realtime(
            client,
            self.keys,
            self.thresholds,
            PollingQuotes(self.kis),
            stream,
            STREAM_CAPACITY,
            settings.rate_limit,
            self._decide_ticks,
            clock.now,
        )
        self.quotes = quotes if quotes is not None else self.realtime.quotes
        self.instance = instance or instance_id()
        self.lock = LeaderLock(
            client, self.keys.leader(ROLE), self.instance, settings.scheduler_lock_seconds
        )
        self.controls = Controls(client, self.keys)
        self.book = OrderBook(client, self.keys, clock)
        self.ledger = PositionLedger(client, self.keys, clock)
        self._notify = QueueNotifier(client, self.keys)
        self.once = OnceMarks(client, self.keys, settings.data_dir / ONCE_FOLDER)
        files = PicksFiles(settings.picks_file, settings.picks_dir, calendar, clock)
        self.planner = Planner(
            client,
            self.keys,
            self.kis,
            files,
            self._notify,
            self.once,
            PlanFiles(settings.data_dir / "plans"),
        )
        self.decisions = DecisionCycle(
            client,
            self.book,
            self.ledger,
            self.kis,
            self.quotes,
            calendar,
            self.thresholds,
            settings.sell_scope,
            self._notify,
            self._record_balance,
            self._entries_stopped,
            settings.expiry_sells_in,
        )
        self.account = AccountRecorder(client, self.keys)
        self.costs = TradeCosts(settings.fee_pct, settings.sell_tax_pct)
        self.journal = Journal.of(settings)
        self.journal_writer = JournalWriter(
            self.journal, self.ledger, self.book, calendar, self.costs
        )
        self.period_summaries = PeriodSummaries(self.journal, calendar, self.once, self._notify)
        env = settings.kis_env
        self.kis_outage = OutageNotices(
            client,
            self.keys.kis_outage(env),
            self.keys.kis_outage_told(env),
            self._notify,
            told_file=settings.data_dir / "kis" / f"outage-told-{env}",
        )
        self.state = StateWatch(
            client,
            self.keys,
            self.kis,
            self.book,
            self.ledger,
            settings.export_folder,
            self._notify,
        )
        self._stopped_entries: set[date] = set()
        self._redactor = RedactingFilter(settings.secret_values())
        self.cash_reader = CashReader(
            client, self.keys, kis.buyable_cash, self._limits_near, clock.now
        )
        self._leading: bool | None = None  # unknown until the first look: logged either way
        self._phase: Phase | None = None
        self._session: date | None = None
        self._held_back = ""
        self._plan: DayPlan | None = None
        self._last_cycle: CycleReport | None = None
        self._cycles = 0
        self._requests = 0
        # The first reconcile waits a full interval: orders made in the first cycle are not stale.
        self._last_reconcile = time.monotonic()
        self._last_error: tuple[str, float] = ("", 0.0)
        """The last error notified and when, in ``time.monotonic()`` seconds."""

    # The loop ----------------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        """Iterate until ``stop`` is set; errors are logged and the loop goes on."""
        self._stop = stop
        log.info("scheduler %s starting (sell scope %s)", self.instance, self.settings.sell_scope)
        redis_down = False
        while not stop.is_set():
            try:
                self.step()
                if redis_down:
                    log.info("Redis reachable again")
                    redis_down = False
            except redis.RedisError as e:
                # An outage of any length: said once, looked at again every second, and not
                # notified (the notification would need Redis too). See docs/ARCHITECTURE.md,
                # 'Redis outages'.
                if not redis_down:
                    log.warning(
                        "Redis unavailable in %s (%s); trying again every second", self._phase, e
                    )
                    redis_down = True
                stop.wait(OUTAGE_PAUSE_SECONDS)
            except KisError as e:
                level = logging.ERROR if isinstance(e, KisAuthError) else logging.WARNING
                log.log(level, "KIS error in %s: %s; going on next cycle", self._phase, e)
                stop.wait(min(ERROR_PAUSE_SECONDS, self._slice))
            except Exception as e:
                log.exception("unexpected error in %s; going on", self._phase)
                self._notify_error(e)
                stop.wait(min(ERROR_PAUSE_SECONDS, self._slice))
        self.close()

    def step(self) -> None:
        """One iteration: lead or stand by, then do what the phase of the day asks."""
        if not self._lead():
            self.realtime.activate(False)
            self.cash_reader.activate(False)
            self._beat()
            self._stop.wait(self._standby_wait())
            return
        now = self.clock.now()
        today = now.date()
        session = self.calendar.session(today)
        if session is not None and self._kis_says_closed(today):
            session = None
        phase = phase_at(now, session, self.thresholds)
        self._enter(phase, today)
        self.kis_outage.look(in_session=session is not None)
        before_open = (
            phase is Phase.PREMARKET
            and session is not None
            and now >= session.opens - STREAM_BEFORE_OPEN
        )
        self.realtime.activate(phase in STREAM_PHASES or before_open)
        self.cash_reader.activate(self.realtime.stream is not None)
        self._beat()
        if session is None:
            self._closed_day(today)
        elif phase is Phase.OVERNIGHT:
            self._sleep_until(session.opens - PREMARKET_LEAD)
        elif phase is Phase.PREMARKET and before_open:
            # The plan the tick thread buys by from the first trade on; the picks subscribed.
            self._plan = self.planner.plan_for(today)
            self._watch(today, self._plan)
            self._sleep_until(session.opens)
        elif phase is Phase.PREMARKET:
            self.planner.plan_for(today)
            self._sleep_until(session.opens - STREAM_BEFORE_OPEN)
        elif phase in (Phase.INTRADAY, Phase.PRECLOSE):
            self._cycle(today, phase)
        else:
            self._post_market(today)
            # To midnight, not to the next session: a closed day after this one gets its notice.
            self._sleep_until(
                datetime.combine(today + timedelta(days=1), datetime.min.time(), now.tzinfo)
            )

    def close(self) -> None:
        """Close the stream, give up the lead and the heartbeat so a standby takes over at once."""
        self.realtime.activate(False)
        self.cash_reader.activate(False)
        try:
            self.lock.release()
            self.redis.delete(self.keys.heartbeat(ROLE, self.instance))
        except redis.RedisError as e:
            log.warning("could not release the leader lock: %s", e)
        self._leading = False

    # Phases ------------------------------------------------------------------------------------
    def _kis_says_closed(self, today: date) -> bool:
        """Real mode (and a dry run on the real host's quotes): KIS's own calendar overrides
        ours when it says the market stays shut."""
        if self.settings.quote_env != "real":
            return False
        if kis_opens(self.kis, self.redis, self.keys, today) is not False:
            return False
        if self.once.first("calendar-mismatch", today):
            message = (
                f"KIS says KRX does not open on {today}, the calendar says it does: no trading"
            )
            log.warning(message)
            self._notify(ServiceError(message=message))
        return True

    def _closed_day(self, today: date) -> None:
        upcoming = self.calendar.next_session(today)
        if self.once.first("closed", today):
            log.info("KRX is closed on %s; next session %s", today, upcoming.day)
            self._notify(ClosedDay(day=today, next_session=upcoming.day))
        self._sleep_until(upcoming.opens - PREMARKET_LEAD)

    def _cycle(self, today: date, phase: Phase) -> None:
        """One intraday or pre-close cycle: buys (intraday only), then sells, then upkeep."""
        started = time.monotonic()
        self.kis.take()
        placed = Placed()
        held_back = ""
        try:
            self.state.check(today)
            buying = phase is Phase.INTRADAY and not self._entries_stopped(today)
            plan = self.planner.plan_for(today) if buying else None
            if plan is not None:
                self.state.saw(today)  # the plan's sentinel is there: its absence is a loss
            self._plan = plan
            records = self.book.of_day(today)
            held_back = self._check_controls()
            if not held_back:
                # Watched (and the stream told) before the reads, which may take minutes at
                # 1 request/s, and again after them with the prices just read.
                self._watch(today, plan)
                placed = self.decisions.run(today, phase, plan, records, self._lead)
                self._watch(today, plan)
            self._reconcile_if_due(today, records)
            self._journal_trades(today)
        finally:
            calls = self.kis.take()
            self._cycles += 1
            self._requests += calls.requests
            self._last_cycle = CycleReport(
                phase=phase.value,
                session=today.isoformat(),
                seconds=round(time.monotonic() - started, 4),
                calls=calls,
                buys=placed.buys,
                sells=placed.sells,
                held_back=held_back,
            )
            self._beat()
            self._wait_real(
                self.settings.scheduler_min_cycle_seconds - (time.monotonic() - started)
            )
            if phase is Phase.INTRADAY and calls.price_calls == 0 and self.realtime.streaming:
                self._wait_while_streaming(
                    STREAM_UPKEEP_SECONDS - (time.monotonic() - started),
                    until=self._intraday_ends(today),
                )

    def _post_market(self, today: date) -> None:
        if not self.once.done("postmarket", today) and not self._close_day(today):
            return
        self._period_summaries(today)

    def _close_day(self, today: date) -> bool:
        """The session's post-market work and its summary; False when stopped before the end."""
        self._closing_auction_sells(today)
        closer = DayCloser(
            self.redis,
            self.book,
            self.ledger,
            self.kis,
            self.settings.export_folder,
            self._wait_real,
            on_balance=self._record_balance,
            on_orderable_cash=lambda won: remember_orderable_cash(
                self.redis, self.keys, won, self.clock.now()
            ),
            costs=self.costs,
            until_close=lambda: self._until_closing_match(today),
            on_settled=self._journal_day,
        )
        summary = closer.close(today)
        if summary is None:
            return False  # stopped or no longer leading: whoever leads next runs post-market
        try:
            self.journal.record_close(today, summary.total_value)
        except OSError as e:
            log.warning("could not keep the close's value in the journal: %s", e)
        # Marked after the work, so a crash halfway redoes the (idempotent) bookkeeping; the
        # summary goes out once.
        if self.once.first("postmarket", today):
            log.info("post-market of %s done: %s", today, summary_line(summary))
            self._notify(summary)
        return True

    def _period_summaries(self, today: date) -> None:
        """After the day's summary: the week's and the month's when ``today`` ends them, each
        once (docs/ARCHITECTURE.md, 'Track record'); a journal that cannot be read costs a log
        line, and the next post-market step tries again."""
        try:
            self.period_summaries.after_close(today)
        except OSError as e:
            log.warning("could not read the trade journal for the period summaries: %s", e)

    def _closing_auction_sells(self, today: date) -> None:
        """``EXPIRY_SELLS_IN=closing_auction``: the expiry sells, while KIS still takes orders
        (before the close) and the system is neither paused nor halted. Queued before the
        post-market reconciliation, so the executor sends them first."""
        session = self.calendar.session(today)
        if self.settings.expiry_sells_in != CLOSING_AUCTION or session is None:
            return
        if self.clock.now() >= session.closes or self._check_controls():
            return
        placed = self.decisions.closing_auction_sells(today)
        if placed.sells:
            log.info("%d expiry sell(s) sent into the closing auction of %s", placed.sells, today)

    def _until_closing_match(self, today: date) -> bool:
        """Wait until the closing auction of ``today`` is matched; False as for _wait_real."""
        session = self.calendar.session(today)
        if session is None:
            return True
        return self._sleep_until(session.closes + CLOSING_MATCH_MARGIN)

    # The journal -------------------------------------------------------------------------------
    def _journal_trades(self, today: date) -> None:
        """Journal the session's trades sold since the last cycle (docs/ARCHITECTURE.md, 'Track
        record'); a data volume that cannot be written costs a log line, never a cycle."""
        try:
            self.journal_writer.from_ledger(today)
        except OSError as e:
            log.warning("could not write the trade journal: %s; trying again next cycle", e)

    def _journal_day(self, session: date) -> None:
        """At post-market, with every fill applied and before the export: the session's trades
        from the ledger, then what KIS sold that the journal still lacks (our state was lost
        before it was journaled), then the previous session's, should its post-market have
        been missed."""
        try:
            self.journal_writer.from_ledger(session, force=True)
            executions = self.kis.daily_executions(session)
            self.journal_writer.from_kis(session, executions, self.settings.export_folder)
            self.journal_writer.from_ledger(self.calendar.previous_session(session).day, force=True)
        except OSError as e:
            log.warning("could not write the trade journal at post-market: %s", e)
        except KisError as e:
            # The rest of the post-market goes on; the trades the ledger has are journaled.
            log.warning("KIS's executions unreadable for the trade journal's rebuild: %s", e)

    # Realtime ----------------------------------------------------------------------------------
    def _watch(self, today: date, plan: DayPlan | None) -> None:
        """Tell the realtime side what to watch: picks still to buy, the positions in scope."""
        band = self.thresholds.buy_band_ratio
        to_buy, ordered = [], []
        if plan is not None:
            records = {r.id: r for r in self.book.of_day(today)}
            left = picks_to_buy(plan, records)
            # A pick whose buy is over (filled: a position now, or sold; or refused) is no longer
            # watched as a pick; one whose buy still works is listed as ordered.
            working = {r.id for r in records.values() if r.status not in FINAL}
            ordered = [
                watched_pick(p, band)
                for p in plan.picks
                if order_id(plan.session, p.code, Side.BUY, Reason.ENTRY) in working
            ]
            to_buy = left if plan.buy_amount > 0 else []
        positions = self.decisions.last_positions
        on_stream = self.realtime.quotes.on_stream()
        for p in positions:
            seen = self.realtime.board.get(p.code)
            if p.code not in on_stream or seen is None or seen.feed != STREAM_FEED:
                self.realtime.board.record(p.code, p.price, "balance")
        watched = [watched_pick(p, band) for p in to_buy]
        watched += [
            watched_position(p.code, p.name, p.average_price, self.thresholds) for p in positions
        ]
        self.realtime.watch(watched, ordered)

    def _decide_ticks(self, prices: dict[str, int]) -> None:
        """The tick thread's decisions: intraday only, while leading and not held back.

        The phase is the clock's now, not the loop's last cycle: the loop may be waiting
        (upkeep while streaming) when the clock crosses the buy cut-off.
        """
        today, plan = self._session, self._plan
        if today is None or not self._leading or not self._intraday_now(today):
            return
        if self.controls.halted or self.controls.paused:
            return
        if plan is not None and (plan.session != today or self._entries_stopped(today)):
            plan = None
        placed = self.decisions.on_prices(today, plan, prices)
        if placed.buys or placed.sells:
            log.info(
                "decided on the stream: %d buys, %d sells (%s)",
                placed.buys,
                placed.sells,
                ", ".join(f"{code} at {price}" for code, price in sorted(prices.items())),
            )

    def _near_a_tick_decision(self) -> bool:
        """Whether a code on the healthy stream is near its next decision while the tick thread
        decides (the intraday phase, by the clock): the scheduler's reads then yield."""
        today = self._session
        if today is None or not self._intraday_now(today):
            return False
        return bool(self.realtime.near_decision(streamed_only=True))

    def _quote_urgent(self, code: str) -> bool:
        """Whether a quote of the code goes without yielding: it has no price yet, or it is on
        the stream (read once as it joins, its ticks carry it after)."""
        return self.realtime.board.get(code) is None or code in self.realtime.quotes.on_stream()

    def _limits_near(self) -> dict[int, str]:
        """The cash reader's wants: the limit prices of the picks near their band (each with a
        code to ask with), while the tick thread would buy; else none."""
        today, plan = self._session, self._plan
        if today is None or plan is None or plan.session != today or plan.buy_amount <= 0:
            return {}
        if not self._leading or not self._intraday_now(today):
            return {}
        if self.controls.halted or self.controls.paused or self._entries_stopped(today):
            return {}
        band = self.thresholds.buy_band_ratio
        near = self.realtime.near_decision(streamed_only=False)
        return {buy_limit_price(int(w.low), band): w.code for w in near if w.kind is Watch.PICK}

    def _intraday_ends(self, today: date) -> datetime | None:
        """When the intraday phase of ``today`` ends (the buy cut-off); None on a closed day."""
        session = self.calendar.session(today)
        return None if session is None else session.closes - self.thresholds.buy_cutoff

    def _intraday_now(self, today: date) -> bool:
        """Whether the clock reads the intraday phase of ``today`` now."""
        now = self.clock.now()
        session = self.calendar.session(today)
        return now.date() == today and phase_at(now, session, self.thresholds) is Phase.INTRADAY

    # Upkeep ------------------------------------------------------------------------------------
    def _reconcile_if_due(self, today: date, records: list[OrderRecord]) -> None:
        """Every ORDER_STALE_SECONDS, let the executor settle or re-send what is still open."""
        if time.monotonic() - self._last_reconcile < self.settings.order_stale_seconds:
            return
        self._last_reconcile = time.monotonic()
        if unsettled(records):
            enqueue_reconcile(self.redis, today.isoformat())

    def _entries_stopped(self, today: date) -> bool:
        """Whether entry buys are stopped today (flatten, the day's loss limit; logged once per
        session) or wait for the day's orders to be rebuilt after our state was lost."""
        if self.state.rebuilding(today):
            return True
        reason = entries_stopped(self.redis, self.keys, today)
        if reason is not None and today not in self._stopped_entries:
            self._stopped_entries.add(today)
            log.warning("no entry buys on %s: %s", today, reason)
        return reason is not None

    def _record_balance(self, session: date, balance: Balance) -> None:
        """Keep the balance just read for the status API; a failure there never stops trading."""
        try:
            self.account.record(self.clock.now(), session, balance)
        except Exception as e:
            log.warning("account snapshot not stored: %s", e)
            return
        try:
            # The day's loss is weighed on every balance, so it stops entries with no buy sent.
            limits = LimitStore(self.redis, self.keys, MoneyLimits.from_settings(self.settings))
            check_daily_loss(self.redis, self.keys, session, limits.current(), self.once)
        except redis.RedisError as e:
            log.warning("daily loss limit not checked: %s", e)

    def _check_controls(self) -> str:
        """``halted``/``paused`` when an operator holds decisions back, else ``""``."""
        held_back = "halted" if self.controls.halted else "paused" if self.controls.paused else ""
        if held_back != self._held_back:
            log.info("decisions %s", f"held back: {held_back}" if held_back else "resumed")
            self._held_back = held_back
        return held_back

    # Leadership, heartbeat, waiting ------------------------------------------------------------
    def _lead(self) -> bool:
        """Take or keep the lead; a change of role is in the heartbeat at once, not after the
        first cycle in the new role (which may wait on KIS)."""
        leading = self.lock.acquire_or_refresh()
        if leading != self._leading:
            log.info("%s is now the %s", self.instance, "leader" if leading else "standby")
            self._leading = leading
            self._beat()
        return leading

    def _beat(self) -> None:
        """The heartbeat, unhealthy while KIS does not answer (any process's last request)."""
        beat(
            self.redis,
            self.keys,
            ROLE,
            self.instance,
            role="leader" if self._leading else "standby",
            pid=os.getpid(),
            phase=self._phase.value if self._phase and self._leading else None,
            session=self._session.isoformat() if self._session and self._leading else None,
            held_back=self._held_back,
            cycles=self._cycles,
            kis_requests=self._requests,
            last_cycle=self._last_cycle.as_json() if self._last_cycle else None,
            **outage_health(self.kis_outage.current()),
        )

    def _standby_wait(self) -> float:
        """Real seconds until the leader's lock would lapse, at most a slice.

        A live leader refreshes long before that, so the standby just looks again; a dead
        one's lock is taken a moment after it lapses instead of up to a slice later.
        """
        left_ms = int(self.redis.pttl(self.keys.leader(ROLE)))
        if left_ms == -2:  # no lock at all: take it now
            return 0.0
        if left_ms < 0:  # a lock without a TTL is not ours to judge: look again later
            return self._slice
        return min(self._slice, left_ms / 1000 + STANDBY_MARGIN_SECONDS)

    def _keep_alive(self) -> bool:
        """Refresh the lock and the heartbeat; False once the lead is lost."""
        leading = self._lead()
        self._beat()
        return leading

    def _wait_real(self, seconds: float) -> bool:
        """Wait ``seconds`` real seconds in slices; False when stopping or no longer leading."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if self._stop.wait(min(left, self._slice)) or not self._keep_alive():
                return False
        return not self._stop.is_set()

    def _wait_while_streaming(self, seconds: float, until: datetime | None = None) -> None:
        """Wait up to ``seconds`` real seconds and not past the clock's ``until`` (the phase's
        end); back at once when the stream fails (to poll)."""
        deadline = time.monotonic() + seconds
        if until is not None:
            deadline = min(deadline, time.monotonic() + self._real_seconds_until(until))
        refreshed = time.monotonic()
        while (left := deadline - time.monotonic()) > 0 and self.realtime.streaming:
            if self._stop.wait(min(left, STREAM_CHECK_SECONDS)):
                return
            if time.monotonic() - refreshed >= self._slice:
                if not self._keep_alive():
                    return
                refreshed = time.monotonic()

    def _real_seconds_until(self, moment: datetime) -> float:
        """Real seconds until the clock reads ``moment`` (0 when it is past)."""
        return max((moment - self.clock.now()).total_seconds(), 0.0) / self.clock.speed

    def _sleep_until(self, moment: datetime) -> bool:
        """Wait until the clock reads ``moment``, in real-time slices; False as for _wait_real."""
        while (left := (moment - self.clock.now()).total_seconds()) > 0:
            if self._stop.wait(min(left / self.clock.speed, self._slice)):
                return False
            if not self._keep_alive():
                return False
        return not self._stop.is_set()

    def _enter(self, phase: Phase, today: date) -> None:
        if phase is not self._phase or today != self._session:
            log.info("%s: %s", today, phase.value)
            self._phase = phase
            self._session = today

    # Notifications -----------------------------------------------------------------------------
    def _notify_error(self, error: Exception) -> None:
        message = self._redactor.redact(f"{type(error).__name__}: {error}")[:300]
        last, notified_monotonic = self._last_error
        if (
            message == last
            and time.monotonic() - notified_monotonic < ERROR_NOTICE_INTERVAL_SECONDS
        ):
            return
        self._last_error = (message, time.monotonic())
        self._notify(ServiceError(service=ROLE, phase=str(self._phase), message=message))
