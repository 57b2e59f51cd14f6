"""The weekly and monthly summaries: after the last session of a week or a month, its track
record from the journal, sent once (docs/ARCHITECTURE.md, 'Track record').

:func:`period_summary` is pure (the journal's trades and closes in, the event out);
:class:`PeriodSummaries` reads the journal and the calendar and marks each summary once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date

from shared.messaging.events import CodeNet, Event, MonthlySummary, WeeklySummary
from shared.state.journal import Journal
from shared.state.once import OnceMarks
from shared.trading.journal import JournalEntry
from shared.trading.market_calendar import KrxCalendar
from shared.trading.performance import Close, performance
from shared.trading.periods import Period, PeriodKind, ends_period, period_of, sessions_in

log = logging.getLogger(__name__)

Summary = WeeklySummary | MonthlySummary
"""A period's summary event."""
EVENT_TYPES: dict[PeriodKind, type[WeeklySummary] | type[MonthlySummary]] = {
    PeriodKind.WEEK: WeeklySummary,
    PeriodKind.MONTH: MonthlySummary,
}
ONCE_MARKS = {PeriodKind.WEEK: "weekly-summary", PeriodKind.MONTH: "monthly-summary"}
"""The once-a-session mark of each summary, on the period's last session."""


def period_summary(
    period: Period,
    sessions: Sequence[date],
    entries: Sequence[JournalEntry],
    closes: Sequence[Close],
) -> Summary:
    """The summary of ``period``: ``sessions`` its sessions so far, ``entries`` the trades sold
    in it, ``closes`` every close kept (the last one before the period is the drawdown's start).
    """
    mine = [c for c in closes if period.holds(c.session)]
    before = [c for c in closes if c.session < period.start]
    record = performance(entries, (before[-1:] + mine), period.start, period.end)
    figures = record.figures
    codes = record.codes  # worst net first
    fall = record.account_drawdown
    return EVENT_TYPES[period.kind](
        period=period.label,
        first_session=sessions[0] if sessions else period.start,
        last_session=sessions[-1] if sessions else period.end,
        sessions=len(sessions),
        trades=figures.trades,
        wins=figures.wins,
        losses=figures.losses,
        realized_profit=figures.gross,
        realized_profit_net=figures.net,
        fees=figures.fees,
        tax=figures.tax,
        win_rate_pct=figures.win_rate_pct,
        profit_factor=figures.profit_factor,
        best=CodeNet(codes[-1].code, codes[-1].name, codes[-1].net) if codes else None,
        worst=CodeNet(codes[0].code, codes[0].name, codes[0].net) if codes else None,
        max_drawdown_won=None if fall is None else fall.won,
        max_drawdown_pct=None if fall is None else fall.pct,
    )


class PeriodSummaries:
    """Sends the week's and the month's summary after their last session, each once."""

    def __init__(
        self,
        journal: Journal,
        calendar: KrxCalendar,
        once: OnceMarks,
        notify: Callable[[Event], object],
    ) -> None:
        self._journal = journal
        self._calendar = calendar
        self._once = once
        self._notify = notify

    def after_close(self, session: date) -> list[Summary]:
        """At ``session``'s post-market, with its trades journaled: the summaries it ends, sent
        (the week's first); those sent before (a restart, another scheduler) are not again."""
        sent = []
        for kind in (PeriodKind.WEEK, PeriodKind.MONTH):
            if not ends_period(self._calendar, kind, session):
                continue
            if self._once.done(ONCE_MARKS[kind], session):
                continue
            summary = self.summary(kind, session)
            if not self._once.first(ONCE_MARKS[kind], session):
                continue
            log.info(
                "%s summary of %s: %d trade(s), realised net %+d won",
                kind.value,
                summary.period,
                summary.trades,
                summary.realized_profit_net,
            )
            self._notify(summary)
            sent.append(summary)
        return sent

    def summary(self, kind: PeriodKind, session: date) -> Summary:
        """The summary of the week or month of ``session``, from the journal as it is now."""
        period = period_of(kind, session)
        read = self._journal.read(period.start, period.end)
        if read.corrupt:
            log.warning(
                "%d journal line(s) unreadable, left out of the %s summary",
                len(read.corrupt),
                kind.value,
            )
        sessions = sessions_in(self._calendar, period, session)
        return period_summary(period, sessions, read.entries, self._journal.closes())
