"""Which picks file belongs to which session: picks trade on one session only, never again.

See docs/ARCHITECTURE.md, 'Picks'. A file says its session in one of three ways:

- its name carries the date (``select_dict_20261124.pkl``, ``2026-11-24.json``), in ``PICKS_DIR``
  or as ``PICKS_FILE``: it is that session's, and no other's;
- a ``PICKS_FILE`` whose name carries no date is the next session's after it was written: it
  counts for a session only when written after the previous session's close, so a file nobody
  replaced does not trade yesterday's picks again;
- ``kat picks load --date`` and ``PUT /control/picks/<date>`` store picks for a named session
  (those never reach this module).

The choice is pure: the caller passes the directory listing and each file's write time on the
system clock.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

DATE_IN_NAME = re.compile(r"(?<!\d)(\d{4})-?(\d{2})-?(\d{2})(?!\d)")
"""``YYYYMMDD`` or ``YYYY-MM-DD`` in a file name, not inside a longer run of digits."""
PICKS_SUFFIXES = frozenset({".json", ".csv", ".pkl", ".pickle"})
"""Files in ``PICKS_DIR`` that may hold picks; others (notes, exports) are ignored."""


def session_in_name(path: Path) -> date | None:
    """The date a file's name carries, if exactly one valid date is in it."""
    found = set()
    for match in DATE_IN_NAME.finditer(path.stem):
        try:
            found.add(date(*(int(part) for part in match.groups())))
        except ValueError:
            continue
    return found.pop() if len(found) == 1 else None


@dataclass(frozen=True)
class PicksChoice:
    """The file holding a session's picks, or why there is none (``problem`` empty: none set)."""

    path: Path | None = None
    problem: str = ""


def choose_picks_file(
    session: date,
    *,
    picks_file: Path | None,
    picks_dir: Path | None,
    listing: Iterable[Path],
    previous_close: datetime,
    written_kst: Callable[[Path], datetime],
) -> PicksChoice:
    """The file of ``session``'s picks: ``PICKS_DIR`` first, then ``PICKS_FILE``.

    ``listing`` is the content of ``picks_dir``; ``written_kst`` gives a file's modification time
    on the system clock, compared with ``previous_close`` (the close of the session before).
    """
    if picks_dir is not None:
        named = sorted(
            p
            for p in listing
            if p.suffix.lower() in PICKS_SUFFIXES and session_in_name(p) == session
        )
        if len(named) == 1:
            return PicksChoice(named[0])
        if named:
            names = ", ".join(p.name for p in named)
            return PicksChoice(
                problem=f"{picks_dir} holds several picks files for {session}: {names}"
            )
        if picks_file is None:
            return PicksChoice(problem=f"{picks_dir} holds no picks file for {session}")
    if picks_file is None:
        return PicksChoice()
    named_session = session_in_name(picks_file)
    if named_session is not None:
        if named_session == session:
            return PicksChoice(picks_file)
        return PicksChoice(
            problem=f"PICKS_FILE {picks_file.name} is for {named_session}, not {session}"
        )
    written = written_kst(picks_file)
    if written > previous_close:
        return PicksChoice(picks_file)
    return PicksChoice(
        problem=(
            f"PICKS_FILE {picks_file.name} was last written {written:%Y-%m-%d %H:%M}, before the "
            f"previous session closed ({previous_close:%Y-%m-%d %H:%M}): yesterday's picks are "
            f"not traded again; write today's file, or load it with `kat picks load --date`"
        )
    )
