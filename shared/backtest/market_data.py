"""The bars of one run, read once: what the driver walks for a code and session, and the closes.

See docs/ARCHITECTURE.md, 'Backtest'. Minute bars where a session has them (unless the run asks
for daily bars only), else the daily bar (the coarse model, named); a session known without a
trade is a halted day; a session without any bar is named too. Nothing is filled in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from shared.backtest import data_problems
from shared.backtest.bar_source import BarArrays, BarSource, SessionBars
from shared.backtest.results import DataProblem
from shared.backtest.session_path import SessionPath
from shared.trading.bars import BarKind
from shared.trading.market_calendar import Session
from shared.trading.rules import Thresholds


class BacktestInputError(ValueError):
    """A run that cannot start (dates, picks, no bars); the message is one line."""


@dataclass(frozen=True)
class Walkable:
    """What the driver gets for a code and session: a path to walk (None: nothing trades),
    and the problems found on the way."""

    path: SessionPath | None
    problems: tuple[DataProblem, ...] = ()


class MarketData:
    """Every bar of the run's codes from the session before the first to the last."""

    def __init__(
        self,
        minute: SessionBars,
        daily: SessionBars,
        covered: dict[BarKind, dict[str, set[date]]],
        kind: BarKind,
    ) -> None:
        self._minute = minute
        self._daily = daily
        self._covered = covered
        self._kind = kind
        self._paths: dict[tuple[str, date], Walkable] = {}
        """Each minute-bar path made, kept: a sweep's worker walks the same bars run after run."""
        self._jumps: dict[tuple[str, date, int], DataProblem | None] = {}

    @classmethod
    def load(
        cls, source: BarSource, codes: Iterable[str], start: date, end: date, kind: BarKind
    ) -> MarketData:
        """One read of each kind (minute bars only when ``kind`` is minute)."""
        wanted = sorted(set(codes))
        minute = source.minute_bars(wanted, start, end) if kind is BarKind.MINUTE else {}
        daily = source.daily_bars(wanted, start, end)
        covered = {k: source.sessions_covered(k, wanted, start, end) for k in BarKind}
        if not minute and not daily:
            kinds = "minute or daily" if kind is BarKind.MINUTE else "daily"
            raise BacktestInputError(
                f"no {kinds} bars of {len(wanted)} code(s) from {start} to {end}: fetch or"
                " import them first (kat history)"
            )
        return cls(minute, daily, covered, kind)

    def walkable(self, code: str, session: Session, thresholds: Thresholds, role: str) -> Walkable:
        """The bars of ``code`` on ``session`` to walk, or why there are none."""
        day = session.day
        minute = self._minute.get((code, day)) if self._kind is BarKind.MINUTE else None
        if minute is not None:
            found = self._paths.get((code, day))
            if found is None:
                found = self._minute_path(code, session, minute)
                self._paths[(code, day)] = found
            return found
        daily = self._daily.get((code, day))
        if daily is not None:
            if not daily.traded:
                return Walkable(None, (data_problems.halted(code, day, "no volume"),))
            notes = (data_problems.daily_only(code, day),) if self._kind is BarKind.MINUTE else ()
            return Walkable(SessionPath.of_day(code, session, daily, thresholds), notes)
        if any(day in self._covered[k].get(code, set()) for k in BarKind):
            return Walkable(None, (data_problems.halted(code, day, "known without a bar"),))
        return Walkable(None, (data_problems.no_bars(code, day, role),))

    def _minute_path(self, code: str, session: Session, minute: BarArrays) -> Walkable:
        day = session.day
        if not minute.traded:
            return Walkable(None, (data_problems.halted(code, day, "no volume all day"),))
        problem = data_problems.gap(code, session, minute)
        return Walkable(SessionPath.of_minutes(code, day, minute), _some(problem))

    def split(self, code: str, path: SessionPath, previous_close: int) -> DataProblem | None:
        """:func:`data_problems.split` of ``path`` against ``previous_close``, worked out once."""
        key = (code, path.day, previous_close)
        if key not in self._jumps:
            self._jumps[key] = data_problems.split(code, path.day, previous_close, path.bars)
        return self._jumps[key]

    def bars_of(self, code: str, day: date) -> BarArrays | None:
        """The bars of ``code`` on ``day`` the run walks (minute, else daily), if any traded."""
        minute = self._minute.get((code, day)) if self._kind is BarKind.MINUTE else None
        if minute is not None and minute.traded:
            return minute
        daily = self._daily.get((code, day))
        return daily if daily is not None and daily.traded else None

    def close(self, code: str, day: date) -> int | None:
        """The session's close: the daily bar's, else the last minute bar's (None: no trade)."""
        daily = self._daily.get((code, day))
        if daily is not None and daily.traded:
            return int(daily.close[-1])
        bars = self.bars_of(code, day)
        return None if bars is None else int(bars.close[-1])


def _some(problem: DataProblem | None) -> tuple[DataProblem, ...]:
    return () if problem is None else (problem,)
