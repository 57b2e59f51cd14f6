"""The bar store: KRX daily and minute bars in one DuckDB file, ``DATA_DIR/history/bars.duckdb``.

docs/ARCHITECTURE.md, 'History' (layout and statuses) and docs/DECISIONS.md, 'The bar store' (why
DuckDB). Three tables:

- ``minute_bars`` (code, day, minute, open, high, low, close, volume): ``minute`` is the bar's
  start in minutes after midnight, KST (540 = 09:00);
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
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from types import TracebackType

import duckdb
import numpy as np

from shared.history.columns import DailySeries, MinuteBars, group_minutes, ints
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
    """CREATE TABLE IF NOT EXISTS minute_bars (
        code VARCHAR NOT NULL, day DATE NOT NULL, minute SMALLINT NOT NULL,
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
        is stored, or none of it."""
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
        except BaseException:
            self._depth = 0
            self._db.rollback()
            raise
        self._depth = 0
        self._db.commit()

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
        minutes = [_minute_of(bar, code, day) for bar in bars]
        if len(set(minutes)) != len(minutes):
            raise BarError(f"{code} {day}: a minute appears twice")
        order = np.argsort(np.array(minutes, dtype=np.int64), kind="stable")
        rows = [bars[int(i)] for i in order]
        if not rows and status is Status.COMPLETE:
            status = Status.NO_TRADES
        columns = {
            "minute": np.array([minutes[int(i)] for i in order], dtype=np.int16),
            "open": np.array([b.open for b in rows], dtype=np.int32),
            "high": np.array([b.high for b in rows], dtype=np.int32),
            "low": np.array([b.low for b in rows], dtype=np.int32),
            "close": np.array([b.close for b in rows], dtype=np.int32),
            "volume": np.array([b.volume for b in rows], dtype=np.int64),
        }
        with self.transaction():
            self._db.execute("DELETE FROM minute_bars WHERE code = ? AND day = ?", [code, day])
            if rows:
                self._db.register("incoming_minutes", columns)
                try:
                    self._db.execute(
                        "INSERT INTO minute_bars SELECT ?, ?, minute, open, high, low, close, "
                        "volume FROM incoming_minutes",
                        [code, day],
                    )
                finally:
                    self._db.unregister("incoming_minutes")
            self._cover(code, day, BarKind.MINUTE, len(rows), source, status, fetched_epoch)

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
        unfinished = set(partial)
        extras = adjustments or {}
        with self.transaction():
            for bar in bars:
                if bar.code != code or bar.minute is not None:
                    raise BarError(f"{code}: {bar.code} {bar.day} is not a daily bar of {code}")
                extra = extras.get(bar.day, Adjustment())
                self._db.execute(
                    "INSERT OR REPLACE INTO daily_bars VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        code,
                        bar.day,
                        bar.open,
                        bar.high,
                        bar.low,
                        bar.close,
                        bar.volume,
                        extra.lock_code,
                        float(extra.split_rate),
                        extra.modified,
                    ],
                )
                status = Status.PARTIAL if bar.day in unfinished else Status.COMPLETE
                self._cover(code, bar.day, BarKind.DAY, 1, source, status, fetched_epoch)

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
        table = "minute_bars" if kind is BarKind.MINUTE else "daily_bars"
        with self.transaction():
            self._db.execute(f"DELETE FROM {table} WHERE code = ? AND day = ?", [code, day])  # noqa: S608 - a table name of ours
            self._cover(code, day, kind, 0, source, status, fetched_epoch)

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
        data = self._db.execute(
            "SELECT (list_position($codes, code) - 1)::INTEGER AS ci, "
            "(day - DATE '1970-01-01')::INTEGER AS d, minute::BIGINT AS minute, "
            "open::BIGINT AS open, high::BIGINT AS high, low::BIGINT AS low, "
            "close::BIGINT AS close, volume FROM minute_bars "
            "WHERE list_contains($codes, code) AND day BETWEEN $start AND $end",
            {"codes": wanted, "start": start, "end": end},
        ).fetchnumpy()
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

    def _cover(
        self,
        code: str,
        day: date,
        kind: BarKind,
        rows: int,
        source: str,
        status: Status,
        fetched_epoch: float | None,
    ) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO coverage VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                code,
                day,
                kind.value,
                rows,
                source,
                status.value,
                wall.time() if fetched_epoch is None else fetched_epoch,
            ],
        )

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
