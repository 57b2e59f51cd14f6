"""Picks for past sessions: dated files in a directory as live reads them, or a fixed universe.

See docs/ARCHITECTURE.md, 'Backtest'. A picks directory is read as ``PICKS_DIR`` is live
(:func:`shared.trading.picks_files.choose_picks_file` says which file is whose session,
:func:`shared.trading.picks.load_picks` reads it): a session without its file has no picks, an
unreadable or ambiguous file means no buys that session, and both are said in the report.
``--universe`` makes every session's picks the given codes, each with the previous session's
close as its target, for exploring without a screener.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Protocol

from shared.backtest.market_data import BacktestInputError
from shared.infra.clock import KST
from shared.trading.market_calendar import KrxCalendar
from shared.trading.picks import Pick, PicksError, load_picks
from shared.trading.picks_files import choose_picks_file, session_in_name

CODE = re.compile(r"[0-9]{6}")
NO_FILE = "holds no picks file"
"""How :func:`choose_picks_file` says a directory has no file for the session."""


@dataclass(frozen=True)
class SessionPicks:
    """A session's picks, and why some or all are missing."""

    picks: tuple[Pick, ...] = ()
    problems: tuple[str, ...] = ()
    no_file: bool = False
    """The directory holds no file for the session (a day without buys, as live)."""


class PicksSource(Protocol):
    """Where a run's picks come from."""

    def codes(self, sessions: Sequence[date]) -> set[str]:
        """Every code that may be picked on ``sessions`` (the bars to read)."""
        ...

    def for_session(self, session: date, last_close: Mapping[str, int]) -> SessionPicks:
        """The picks of ``session``; ``last_close`` holds each code's last close before it."""
        ...


class PicksDir:
    """Dated picks files in a directory, each its session's only (``PICKS_DIR``)."""

    def __init__(self, directory: Path, calendar: KrxCalendar) -> None:
        if not directory.is_dir():
            raise BacktestInputError(f"--picks-dir {directory} is not a directory")
        self._directory = directory
        self._calendar = calendar
        # Each file under the date its name carries, read once: choose_picks_file then looks at
        # a session's candidates only (a year of files is not scanned once per session).
        self._named: dict[date | None, list[Path]] = defaultdict(list)
        for path in directory.iterdir():
            if path.is_file():
                self._named[session_in_name(path)].append(path)
        self._read: dict[date, SessionPicks] = {}

    def codes(self, sessions: Sequence[date]) -> set[str]:
        return {p.code for day in sessions for p in self._session(day).picks}

    def for_session(self, session: date, last_close: Mapping[str, int]) -> SessionPicks:
        return self._session(session)

    def _session(self, day: date) -> SessionPicks:
        if day not in self._read:
            self._read[day] = self._load(day)
        return self._read[day]

    def _load(self, day: date) -> SessionPicks:
        choice = choose_picks_file(
            day,
            picks_file=None,
            picks_dir=self._directory,
            listing=self._named.get(day, []),
            previous_close=self._calendar.previous_session(day).closes,
            written_kst=_written_kst,
        )
        if choice.path is None:
            if NO_FILE in choice.problem:
                return SessionPicks(no_file=True)
            return SessionPicks(problems=(f"{choice.problem}: no buys that session",))
        try:
            return SessionPicks(load_picks(choice.path))
        except PicksError as e:
            return SessionPicks(problems=(f"{e}: no buys that session",))


class Universe:
    """The same codes every session, each with the previous session's close as its target."""

    def __init__(self, codes: Iterable[str]) -> None:
        listed = [c.strip() for c in codes if c.strip()]
        bad = [c for c in listed if not CODE.fullmatch(c)]
        if bad or not listed:
            raise BacktestInputError(
                f"--universe needs 6-digit codes separated by commas, got {','.join(bad) or '-'}"
            )
        self._codes = tuple(dict.fromkeys(listed))

    def codes(self, sessions: Sequence[date]) -> set[str]:
        return set(self._codes)

    def for_session(self, session: date, last_close: Mapping[str, int]) -> SessionPicks:
        picks = tuple(Pick(c, c, last_close[c]) for c in self._codes if c in last_close)
        problems = tuple(
            f"{c} has no close before {session}: not a pick that session"
            for c in self._codes
            if c not in last_close
        )
        return SessionPicks(picks, problems)


def _written_kst(path: Path) -> datetime:
    """A file's modification time (only consulted for a PICKS_FILE, which a run has none of)."""
    return datetime.fromtimestamp(path.stat().st_mtime, KST)
