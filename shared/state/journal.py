"""The trade journal on the data volume: every closed trade, and the account's value at each close.

See docs/ARCHITECTURE.md, 'Track record'. Append-only JSON lines, one file a month
(``DATA_DIR/journal/{env}/trades-YYYY-MM.jsonl``, by the sell's session) and one file of
closes (``closes.jsonl``). A trade is appended only when its key is not in its month's file
yet, under an exclusive lock of the folder, so writing the same trade again (a second pass, a
restart, a rebuild after Redis was wiped) adds nothing. A line that does not read as an entry
is named, skipped and counted by :meth:`Journal.read`, never fatal.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from shared.infra.settings import Settings
from shared.trading.journal import CorruptEntry, JournalEntry
from shared.trading.performance import Close

FOLDER = "journal"
"""The journal's folder in ``DATA_DIR``."""
CLOSES = "closes.jsonl"
LOCK = ".lock"


@dataclass(frozen=True)
class CorruptLine:
    """A journal line skipped: which file, which line (from 1), and why."""

    file: str
    line: int
    why: str


@dataclass(frozen=True)
class JournalRead:
    entries: tuple[JournalEntry, ...]
    """In the order written, each key once."""
    corrupt: tuple[CorruptLine, ...]


def month_file(folder: Path, day: date) -> Path:
    return folder / f"trades-{day:%Y-%m}.jsonl"


class Journal:
    """The journal of one ``KIS_ENV`` in ``DATA_DIR/journal/{env}``: a volume switched from
    ``paper`` to ``real`` keeps the two records apart. Reading needs no lock, appending takes
    one."""

    def __init__(self, data_dir: Path, env: str) -> None:
        self.folder = data_dir / FOLDER / env
        self._depth = 0

    @classmethod
    def of(cls, settings: Settings) -> Journal:
        return cls(settings.data_dir, settings.kis_env)

    # Writing -----------------------------------------------------------------------------------
    def append(self, entries: Iterable[JournalEntry]) -> list[JournalEntry]:
        """Append the entries whose key is not journaled yet; the ones appended."""
        entries = list(entries)
        if not entries:
            return []
        added: list[JournalEntry] = []
        with self.lock():
            by_month: dict[Path, list[JournalEntry]] = {}
            for entry in entries:
                by_month.setdefault(month_file(self.folder, entry.exit_session), []).append(entry)
            for path, mine in by_month.items():
                known = {e.key for e in _entries(path)}
                fresh = []
                for entry in mine:
                    if entry.key not in known:
                        known.add(entry.key)
                        fresh.append(entry)
                _append_lines(path, (json.dumps(e.to_json(), ensure_ascii=False) for e in fresh))
                added.extend(fresh)
        return added

    def record_close(self, session: date, total_value: int) -> bool:
        """Keep the account's value at ``session``'s close (once a session); True if new."""
        with self.lock():
            if session in {c.session for c in self.closes()}:
                return False
            line = json.dumps({"session": session.isoformat(), "total_value": total_value})
            _append_lines(self.folder / CLOSES, [line])
            return True

    # Reading -----------------------------------------------------------------------------------
    def read(self, start: date | None = None, end: date | None = None) -> JournalRead:
        """The trades sold from ``start`` to ``end`` (both included; None: unbounded)."""
        entries: list[JournalEntry] = []
        corrupt: list[CorruptLine] = []
        seen: set[str] = set()
        for path in self._month_files(start, end):
            for number, raw in _lines(path):
                try:
                    entry = JournalEntry.from_json(json.loads(raw))
                except (ValueError, CorruptEntry) as e:
                    corrupt.append(CorruptLine(path.name, number, _why(e)))
                    continue
                if entry.key in seen:
                    continue
                seen.add(entry.key)
                if (start is None or entry.exit_session >= start) and (
                    end is None or entry.exit_session <= end
                ):
                    entries.append(entry)
        return JournalRead(tuple(entries), tuple(corrupt))

    def journaled_through(self, exit_session: date) -> dict[str, int]:
        """For each sell of ``exit_session`` (by ``sell_ref``), how many shares are journaled."""
        done: dict[str, int] = {}
        for entry in _entries(month_file(self.folder, exit_session)):
            if entry.exit_session == exit_session:
                done[entry.sell_ref] = max(done.get(entry.sell_ref, 0), entry.through)
        return done

    def closes(self) -> list[Close]:
        """The closes kept, by session, the first of a session kept; unreadable lines skipped."""
        found: dict[date, Close] = {}
        for _, raw in _lines(self.folder / CLOSES):
            try:
                data = json.loads(raw)
                close = Close(date.fromisoformat(data["session"]), int(data["total_value"]))
            except (ValueError, KeyError, TypeError):
                continue
            found.setdefault(close.session, close)
        return [found[d] for d in sorted(found)]

    def _month_files(self, start: date | None, end: date | None) -> list[Path]:
        if not self.folder.is_dir():
            return []
        files = []
        for path in sorted(self.folder.glob("trades-*.jsonl")):
            month = path.stem.removeprefix("trades-")
            if start is not None and month < f"{start:%Y-%m}":
                continue
            if end is not None and month > f"{end:%Y-%m}":
                continue
            files.append(path)
        return files

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the folder's exclusive lock: a writer that reads what is journaled, works out
        what is missing and appends it holds it throughout, so a second writer (a scheduler
        taking over) cannot slip the same shares in between. Reentrant in this object."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / LOCK).open("a") as held:
            fcntl.flock(held, fcntl.LOCK_EX)
            self._depth = 1
            try:
                yield
            finally:
                self._depth = 0
                fcntl.flock(held, fcntl.LOCK_UN)


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    try:
        with path.open(encoding="utf-8", errors="replace") as f:
            for number, raw in enumerate(f, start=1):
                if raw.strip():
                    yield number, raw
    except FileNotFoundError:
        return


def _entries(path: Path) -> Iterator[JournalEntry]:
    for _, raw in _lines(path):
        try:
            yield JournalEntry.from_json(json.loads(raw))
        except (ValueError, CorruptEntry):
            continue


def _append_lines(path: Path, lines: Iterable[str]) -> None:
    """Append whole lines and flush them to disk; a torn last line of an earlier crash is ended
    first, so it stays one corrupt line instead of spoiling the next."""
    text = "".join(f"{line}\n" for line in lines)
    if not text:
        return
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        if os.fstat(fd).st_size > 0 and not _ends_with_newline(path):
            text = "\n" + text
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1) == b"\n"


def _why(error: Exception) -> str:
    if isinstance(error, CorruptEntry):
        return str(error)
    return f"not JSON ({error})"
