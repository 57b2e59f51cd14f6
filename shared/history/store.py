"""The bar store: KRX daily and minute bars in one DuckDB file, ``DATA_DIR/history/bars.duckdb``.

docs/ARCHITECTURE.md, 'History' (layout and statuses) and docs/DECISIONS.md, 'The bar store' (why
DuckDB). Three tables:

- ``minute_bars`` (code_id, day, minute, open, high, low, close, volume): ``minute`` is the
  bar's start in minutes after midnight, KST (540 = 09:00); ``code_id`` numbers the code in
  ``codes`` (code_id, code), as integers scan twice as fast as text;
- ``daily_bars`` (code, day, open, ..., volume, lock_code, split_rate, modified): one session
  each, with KIS's ``flng_cls_code`` / ``prtt_rate`` / ``mod_yn`` so a report can name a split;
- ``coverage`` (code, day, kind) → rows, source (``kis`` or ``csv:<file name>``), status
  (:class:`Status`), fetched_epoch: what is known of each code's session, bars or not.

Every write of one (code, day, kind) replaces it whole, bars and coverage, in one transaction,
so a fetch interrupted anywhere leaves only whole days and resumes where it stopped.

**For the backtest** (the read API; keep this shape): open with ``BarStore.open(path,
read_only=True)`` as a context manager, ask :meth:`BarStore.sessions_covered` which sessions are
known, then read a whole range at once with :meth:`BarStore.minute_bars` (one query, columnar
numpy arrays, sliced per (code, day) without copies) and :meth:`BarStore.daily_bars`.
:meth:`BarStore.no_trade_days` and :meth:`BarStore.adjustments` name halted days and splits.
DuckDB lets one process write a file while no other opens it: a fetch and a backtest of the same
store do not run at once (:class:`StoreBusy`).
"""

from __future__ import annotations

import time as wall
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb
import numpy as np

from shared.history.columns import EPOCH_DAY, DailySeries, MinuteBars, group_minutes, ints
from shared.trading.bars import Bar, BarError, BarKind

STORE_FILE = Path("history") / "bars.duckdb"
"""The store's file under DATA_DIR (docs/ARCHITECTURE.md, 'Data directory')."""
SCHEMA_VERSION = "1"


def store_path(data_dir: Path) -> Path:
    """Where the bar store of ``data_dir`` lives."""
    return data_dir / STORE_FILE


class Status(StrEnum):
    """What is known of one code's session of one kind."""

    COMPLETE = "complete"
    """Every bar KIS (or the file) has for the session is stored."""
    NO_TRADES = "no_trades"
    """The session had no trades for this code: halted, not yet listed, or KIS answered
    nothing for it. No bars are stored; the backtest names the day."""
    PARTIAL = "partial"
    """Today's bars fetched before the session was over: fetched again until it is."""


FINAL = (Status.COMPLETE, Status.NO_TRADES)
"""Statuses that a fetch never asks again for."""


class StoreError(Exception):
    """The store cannot be used (missing, busy, newer schema); the message is one line."""


class StoreBusy(StoreError):
    """Another process has the store open for writing (a fetch or an import)."""


@dataclass(frozen=True)
class Adjustment:
    """KIS's corporate-action fields of one daily bar (inquire-daily-itemchartprice output2):
    ``flng_cls_code`` (락 구분 코드; "00" or blank: none), ``prtt_rate`` (분할 비율), ``mod_yn``."""

    lock_code: str = ""
    split_rate: Decimal = Decimal(0)
    modified: bool = False

    @property
    def notable(self) -> bool:
        """Whether the day carries a lock, a split rate or a change flag."""
        return self.lock_code not in ("", "00") or self.split_rate != 0 or self.modified


@dataclass(frozen=True)
class CoverageRow:
    """One row of the coverage table."""

    code: str
    day: date
    kind: BarKind
    rows: int
    source: str
    status: Status
    fetched_epoch: float


_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)""",
    # No key on minute_bars: each (code, day) is written whole after a delete, and an index
    # would nearly double the file and slow the year-long read (docs/DECISIONS.md).
    """CREATE TABLE IF NOT EXISTS codes (code_id INTEGER PRIMARY KEY, code VARCHAR UNIQUE)""",
    """CREATE TABLE IF NOT EXISTS minute_bars (
        code_id INTEGER NOT NULL, day DATE NOT NULL, minute SMALLINT NOT NULL,
        open INTEGER NOT NULL, high INTEGER NOT NULL, low INTEGER NOT NULL,
        close INTEGER NOT NULL, volume BIGINT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS daily_bars (
        code VARCHAR NOT NULL, day DATE NOT NULL,
        open INTEGER NOT NULL, high INTEGER NOT NULL, low INTEGER NOT NULL,
        close INTEGER NOT NULL, volume BIGINT NOT NULL,
        lock_code VARCHAR NOT NULL, split_rate DOUBLE NOT NULL, modified BOOLEAN NOT NULL,
        PRIMARY KEY (code, day))""",
    """CREATE TABLE IF NOT EXISTS coverage (
        code VARCHAR NOT NULL, day DATE NOT NULL, kind VARCHAR NOT NULL,
        rows INTEGER NOT NULL, source VARCHAR NOT NULL, status VARCHAR NOT NULL,
        fetched_epoch DOUBLE NOT NULL, PRIMARY KEY (code, day, kind))""",
)


def interrupted(error: BaseException) -> bool:
    """True for DuckDB's report of a SIGINT (Ctrl-C) that came while it ran a statement or a
    commit: DuckDB takes the signal itself and raises ``RuntimeError('Query interrupted')`` or an
    ``InterruptException``; a KeyboardInterrupt raised while it read registered columns comes
    out as a plain ``duckdb.Error`` whose text ends with it (the traceback, then
    ``KeyboardInterrupt:``). Python raises no KeyboardInterrupt for any of them."""
    if isinstance(error, duckdb.InterruptException):
        return True
    if isinstance(error, duckdb.Error):
        last = str(error).strip().splitlines()[-1:]
        return bool(last) and last[0].startswith("KeyboardInterrupt")
    return isinstance(error, RuntimeError) and str(error) == "Query interrupted"


class BarStore:
    """The bar store in one DuckDB file. Use :meth:`open`, as a context manager."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, path: Path, read_only: bool) -> None:
        self._db = connection
        self.path = path
        self.read_only = read_only
        self._depth = 0

    @classmethod
    def open(cls, path: Path, *, read_only: bool = False) -> BarStore:
        """Open (and, writable, create) the store at ``path``; StoreError in one line when it
        is missing (read-only), held by another process, or written by a newer version."""
        if read_only and not path.exists():
            raise StoreError(f"no bar store at {path}: fetch or import bars first")
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            connection = duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as e:
            if "lock" in str(e).lower():
                raise StoreBusy(
                    f"the bar store {path} is in use by another process (a fetch or an import): "
                    "try again when it is done"
                ) from None
            raise StoreError(f"cannot open the bar store {path}: {e}") from None
        store = cls(connection, path, read_only)
        try:
            store._check_schema()
        except BaseException:
            connection.close()
            raise
        return store

    def close(self) -> None:
        """Close the file (an unfinished transaction is rolled back)."""
        self._db.close()

    def __enter__(self) -> BarStore:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    # Writing -----------------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction around everything inside (nested ones join the outer one): all of it
        is stored, or none of it. Ctrl-C while DuckDB works inside is a KeyboardInterrupt."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._db.begin()
        self._depth = 1
        try:
            yield
        except BaseException as e:
            self._depth = 0
            self._db.rollback()
            if interrupted(e):
                raise KeyboardInterrupt from e
            raise
        self._depth = 0
        try:
            self._db.commit()
        except RuntimeError as e:
            if not interrupted(e):
                raise
            with suppress(duckdb.Error, RuntimeError):  # nothing left to roll back
                self._db.rollback()
            raise KeyboardInterrupt from e

    def write_minute_bars(
        self,
        code: str,
        day: date,
        bars: Sequence[Bar],
        source: str,
        *,
        status: Status = Status.COMPLETE,
        fetched_epoch: float | None = None,
    ) -> None:
        """Replace the minute bars of ``code`` on ``day`` with ``bars`` and record it.

        No bars means :attr:`Status.NO_TRADES` (whatever ``status`` says, unless partial).
        BarError when a bar is of another code or day, not a minute bar, or a minute repeats.
        """
        self.write_minute_days(
            {(code, day): bars}, source, status=status, fetched_epoch=fetched_epoch
        )

    def write_minute_days(
        self,
        days: Mapping[tuple[str, date], Sequence[Bar]],
        source: str,
        *,
        status: Status = Status.COMPLETE,
        fetched_epoch: float | None = None,
    ) -> None:
        """:meth:`write_minute_bars` for many (code, day) at once, in one transaction and a few
        statements (a CSV import of a year takes seconds, not one round per day)."""
        keys = sorted(days)
        rows: list[tuple[str, int, int, Bar]] = []
        counts: list[int] = []
        for code, day in keys:
            ordered = sorted((_minute_of(bar, code, day), bar) for bar in days[(code, day)])
            minutes = [m for m, _ in ordered]
            if len(set(minutes)) != len(minutes):
                raise BarError(f"{code} {day}: a minute appears twice")
            offset = (day - EPOCH_DAY).days
            rows.extend((code, offset, m, bar) for m, bar in ordered)
            counts.append(len(ordered))
        statuses = [
            Status.NO_TRADES if n == 0 and status is Status.COMPLETE else status for n in counts
        ]
        with self.transaction():
            ids = self._code_ids(sorted({code for code, _ in keys}), create=True)
            self._write_minutes(keys, rows, counts, statuses, ids, source, fetched_epoch)

    def _write_minutes(
        self,
        keys: list[tuple[str, date]],
        rows: list[tuple[str, int, int, Bar]],
        counts: list[int],
        statuses: list[Status],
        ids: Mapping[str, int],
        source: str,
        fetched_epoch: float | None,
    ) -> None:
        bars = {
            "cid": np.array([ids[r[0]] for r in rows], dtype=np.int32),
            "d": np.array([r[1] for r in rows], dtype=np.int32),
            "minute": np.array([r[2] for r in rows], dtype=np.int16),
            "open": np.array([r[3].open for r in rows], dtype=np.int32),
            "high": np.array([r[3].high for r in rows], dtype=np.int32),
            "low": np.array([r[3].low for r in rows], dtype=np.int32),
            "close": np.array([r[3].close for r in rows], dtype=np.int32),
            "volume": np.array([r[3].volume for r in rows], dtype=np.int64),
        }
        self._replace(BarKind.MINUTE, keys, counts, statuses, source, fetched_epoch, ids)
        if rows:
            self._insert(
                "INSERT INTO minute_bars SELECT cid, DATE '1970-01-01' + d, minute, open, high, "
                "low, close, volume FROM incoming",
                bars,
            )

    def write_daily_bars(
        self,
        code: str,
        bars: Sequence[Bar],
        source: str,
        *,
        adjustments: Mapping[date, Adjustment] | None = None,
        partial: Iterable[date] = (),
        fetched_epoch: float | None = None,
    ) -> None:
        """Replace the daily bars of ``code`` on the days of ``bars`` and record each day
        complete (or partial, for today's bar of a session not over), in one transaction."""
        days = [bar.day for bar in bars]
        if len(set(days)) != len(days):
            raise BarError(f"{code}: a day appears twice")
        for bar in bars:
            if bar.code != code or bar.minute is not None:
                raise BarError(f"{code}: {bar.code} {bar.day} is not a daily bar of {code}")
        unfinished = set(partial)
        extras = [(adjustments or {}).get(day, Adjustment()) for day in days]
        columns = {
            "code": np.array([code] * len(bars), dtype=np.str_),
            "d": np.array([(day - EPOCH_DAY).days for day in days], dtype=np.int32),
            "open": np.array([b.open for b in bars], dtype=np.int32),
            "high": np.array([b.high for b in bars], dtype=np.int32),
            "low": np.array([b.low for b in bars], dtype=np.int32),
            "close": np.array([b.close for b in bars], dtype=np.int32),
            "volume": np.array([b.volume for b in bars], dtype=np.int64),
            "lock_code": np.array([e.lock_code for e in extras], dtype=np.str_),
            "split_rate": np.array([float(e.split_rate) for e in extras], dtype=np.float64),
            "modified": np.array([e.modified for e in extras], dtype=np.bool_),
        }
        statuses = [Status.PARTIAL if day in unfinished else Status.COMPLETE for day in days]
        with self.transaction():
            keys = [(code, day) for day in days]
            self._replace(BarKind.DAY, keys, [1] * len(days), statuses, source, fetched_epoch)
            if bars:
                self._insert(
                    "INSERT INTO daily_bars SELECT code, DATE '1970-01-01' + d, open, high, low, "
                    "close, volume, lock_code, split_rate, modified FROM incoming",
                    columns,
                )

    def mark(
        self,
        code: str,
        day: date,
        kind: BarKind,
        status: Status,
        source: str,
        *,
        fetched_epoch: float | None = None,
    ) -> None:
        """Record a session without bars (``no_trades``): any bars stored for it are removed."""
        with self.transaction():
            ids = self._code_ids([code], create=True)
            self._replace(kind, [(code, day)], [0], [status], source, fetched_epoch, ids)

    # Reading -----------------------------------------------------------------------------------
    def sessions_covered(
        self, kind: BarKind, codes: Sequence[str], start: date, end: date
    ) -> dict[str, set[date]]:
        """The sessions from ``start`` to ``end`` that nothing need be fetched for again, by
        code: bars stored complete, or known to have had no trades. Every code is a key."""
        return self._days_with(kind, codes, start, end, FINAL)

    def no_trade_days(
        self, kind: BarKind, codes: Sequence[str], start: date, end: date
    ) -> dict[str, set[date]]:
        """Sessions recorded without trades (halted, or KIS answered nothing), by code."""
        return self._days_with(kind, codes, start, end, (Status.NO_TRADES,))

    def coverage(
        self,
        codes: Sequence[str] | None = None,
        start: date | None = None,
        end: date | None = None,
    ) -> list[CoverageRow]:
        """Coverage rows (every code when ``codes`` is None), by code, kind and day."""
        rows = self._db.execute(
            "SELECT code, day, kind, rows, source, status, fetched_epoch FROM coverage "
            "WHERE ($codes IS NULL OR list_contains($codes, code)) "
            "AND day >= coalesce($start, DATE '0001-01-01') "
            "AND day <= coalesce($end, DATE '9999-12-31') ORDER BY code, kind, day",
            {"codes": list(codes) if codes is not None else None, "start": start, "end": end},
        ).fetchall()
        return [
            CoverageRow(str(c), d, BarKind(k), int(n), str(src), Status(s), float(at))
            for c, d, k, n, src, s, at in rows
        ]

    def minute_bars(self, codes: Sequence[str], start: date, end: date) -> MinuteBars:
        """Every stored minute bar of ``codes`` from ``start`` to ``end``, in one query.

        A year of 40 codes (3.7 M rows) reads in well under a second (docs/DECISIONS.md).
        """
        wanted = list(dict.fromkeys(codes))
        ids = self._code_ids(wanted, create=False)
        # One thread scans in insertion order, which keeps each written (code, day) together
        # (checked by group_minutes); numbers are widened by numpy, cheaper than in SQL.
        self._db.execute("SET threads = 1")
        try:
            data = self._db.execute(
                "SELECT code_id, (day - DATE '1970-01-01')::INTEGER AS d, minute, open, high, "
                "low, close, volume FROM minute_bars "
                "WHERE code_id IN (SELECT unnest($ids)) AND day BETWEEN $start AND $end",
                {"ids": list(ids.values()) or [-1], "start": start, "end": end},
            ).fetchnumpy()
        finally:
            self._db.execute("RESET threads")
        position = np.full(max(ids.values(), default=0) + 1, -1, dtype=np.int64)
        for i, code in enumerate(wanted):
            if code in ids:
                position[ids[code]] = i
        data["ci"] = position[np.asarray(data["code_id"], dtype=np.int64)]
        return group_minutes(wanted, data)

    def daily_bars(self, codes: Sequence[str], start: date, end: date) -> dict[str, DailySeries]:
        """The stored daily bars of ``codes`` from ``start`` to ``end``, by code (one query;
        a code without bars has an empty series)."""
        wanted = list(dict.fromkeys(codes))
        data = self._db.execute(
            "SELECT (list_position($codes, code) - 1)::INTEGER AS ci, "
            "(day - DATE '1970-01-01')::INTEGER AS d, open::BIGINT AS open, "
            "high::BIGINT AS high, low::BIGINT AS low, close::BIGINT AS close, volume, "
            "lock_code, split_rate, modified FROM daily_bars "
            "WHERE list_contains($codes, code) AND day BETWEEN $start AND $end ORDER BY ci, d",
            {"codes": wanted, "start": start, "end": end},
        ).fetchnumpy()
        index = np.asarray(data["ci"], dtype=np.int64)
        series: dict[str, DailySeries] = {}
        for i, code in enumerate(wanted):
            lo, hi = np.searchsorted(index, [i, i + 1])
            s = slice(int(lo), int(hi))
            series[code] = DailySeries(
                code,
                np.asarray(data["d"][s], dtype=np.int64).astype("datetime64[D]"),
                ints(data["open"][s]),
                ints(data["high"][s]),
                ints(data["low"][s]),
                ints(data["close"][s]),
                ints(data["volume"][s]),
                tuple(str(x) for x in data["lock_code"][s]),
                np.asarray(data["split_rate"][s], dtype=np.float64),
                np.asarray(data["modified"][s], dtype=np.bool_),
            )
        return series

    def adjustments(
        self, codes: Sequence[str], start: date, end: date
    ) -> list[tuple[str, date, Adjustment]]:
        """Daily bars that carry a lock code, a split rate or a change flag: the days a report
        names as a possible split or corporate action (prices are not adjusted)."""
        rows = self._db.execute(
            "SELECT code, day, lock_code, split_rate, modified FROM daily_bars "
            "WHERE list_contains($codes, code) AND day BETWEEN $start AND $end "
            "AND (lock_code NOT IN ('', '00') OR split_rate <> 0 OR modified) ORDER BY code, day",
            {"codes": list(codes), "start": start, "end": end},
        ).fetchall()
        return [
            (str(c), d, Adjustment(str(lock), Decimal(str(rate)), bool(mod)))
            for c, d, lock, rate, mod in rows
        ]

    # Helpers -----------------------------------------------------------------------------------
    def _days_with(
        self,
        kind: BarKind,
        codes: Sequence[str],
        start: date,
        end: date,
        statuses: Sequence[Status],
    ) -> dict[str, set[date]]:
        found: dict[str, set[date]] = {code: set() for code in codes}
        rows = self._db.execute(
            "SELECT code, day FROM coverage WHERE kind = $kind AND list_contains($codes, code) "
            "AND day BETWEEN $start AND $end AND list_contains($statuses, status)",
            {
                "kind": kind.value,
                "codes": list(codes),
                "start": start,
                "end": end,
                "statuses": [s.value for s in statuses],
            },
        ).fetchall()
        for code, day in rows:
            found[str(code)].add(day)
        return found

    def _replace(
        self,
        kind: BarKind,
        keys: Sequence[tuple[str, date]],
        counts: Sequence[int],
        statuses: Sequence[Status],
        source: str,
        fetched_epoch: float | None,
        ids: Mapping[str, int] | None = None,
    ) -> None:
        """Delete the stored bars of ``keys`` (only where the coverage table says there are
        any: the minute table has no index, so a delete scans it) and write their coverage.
        ``ids`` numbers the codes (minute bars)."""
        if not keys:
            return
        stamp = wall.time() if fetched_epoch is None else fetched_epoch
        coverage = {
            "code": np.array([code for code, _ in keys], dtype=np.str_),
            "cid": np.array([(ids or {}).get(code, -1) for code, _ in keys], dtype=np.int32),
            "d": np.array([(day - EPOCH_DAY).days for _, day in keys], dtype=np.int32),
            "rows": np.array(counts, dtype=np.int32),
            "status": np.array([s.value for s in statuses], dtype=np.str_),
        }
        table = "minute_bars" if kind is BarKind.MINUTE else "daily_bars"
        with self._registered("incoming_keys", coverage):
            stored = self._db.execute(
                "SELECT count(*) FROM coverage c JOIN incoming_keys k ON c.code = k.code "
                "AND c.day = DATE '1970-01-01' + k.d WHERE c.kind = ? AND c.rows > 0",
                [kind.value],
            ).fetchone()
            if stored is not None and stored[0]:
                column = "code_id = k.cid" if kind is BarKind.MINUTE else "code = k.code"
                self._db.execute(
                    f"DELETE FROM {table} USING incoming_keys k WHERE {table}.{column} "  # noqa: S608 - names of ours
                    f"AND {table}.day = DATE '1970-01-01' + k.d"
                )
            self._db.execute(
                "INSERT OR REPLACE INTO coverage SELECT code, DATE '1970-01-01' + d, ?, rows, ?, "
                "status, ? FROM incoming_keys",
                [kind.value, source, stamp],
            )

    def _code_ids(self, codes: Sequence[str], *, create: bool) -> dict[str, int]:
        """The numbers of ``codes`` in the ``codes`` table (new ones numbered if ``create``)."""
        found = dict(
            self._db.execute(
                "SELECT code, code_id FROM codes WHERE code IN (SELECT unnest($codes))",
                {"codes": list(codes)},
            ).fetchall()
        )
        missing = [code for code in codes if code not in found]
        if missing and create:
            top = self._db.execute("SELECT coalesce(max(code_id), 0) FROM codes").fetchone()
            start = int(top[0]) + 1 if top else 1
            new = {code: start + i for i, code in enumerate(missing)}
            self._db.executemany(
                "INSERT INTO codes VALUES (?, ?)", [[i, c] for c, i in new.items()]
            )
            found.update(new)
        return {str(code): int(i) for code, i in found.items()}

    def _insert(self, statement: str, columns: Mapping[str, Any]) -> None:
        with self._registered("incoming", columns):
            self._db.execute(statement)

    @contextmanager
    def _registered(self, name: str, columns: Mapping[str, Any]) -> Iterator[None]:
        """``columns`` readable as the view ``name`` inside. In a transaction that an error or
        Ctrl-C aborted, unregistering fails too and would hide that error (a fetch interrupted
        there ended in a traceback, not exit 130); the next register() of the name replaces the
        view anyway."""
        self._db.register(name, columns)
        try:
            yield
        finally:
            with suppress(duckdb.TransactionException):
                self._db.unregister(name)

    def _check_schema(self) -> None:
        if not self.read_only:
            with self.transaction():
                for statement in _SCHEMA:
                    self._db.execute(statement)
                self._db.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", [SCHEMA_VERSION]
                )
        found = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if found is None or found[0] != SCHEMA_VERSION:
            version = "none" if found is None else found[0]
            raise StoreError(
                f"the bar store {self.path} has schema version {version}; this version of the "
                f"code reads version {SCHEMA_VERSION}"
            )


def _minute_of(bar: Bar, code: str, day: date) -> int:
    if bar.code != code or bar.day != day or bar.minute is None:
        raise BarError(f"{code} {day}: {bar.code} {bar.day} {bar.minute} is not one of its minutes")
    if bar.minute.second or bar.minute.microsecond:
        raise BarError(f"{code} {day}: {bar.minute} does not start a minute")
    return bar.minute.hour * 60 + bar.minute.minute
