"""The day's picks {code: [name, target]}: read safely from pickle, JSON or CSV, kept as JSON."""

from __future__ import annotations

import csv
import io
import json
import pickle
import pickletools
import re
import reprlib
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from shared.trading.market_calendar import KrxCalendar

MAX_FILE_BYTES = 5 * 1024 * 1024
"""Largest picks file read, in bytes (a day's picks take a few hundred)."""

MAX_NAME_CHARS = 100
"""Longest stock name kept, in characters (KRX's longest, ETNs' among them, take under 60): a
name is shown on the page, in every message and in the CLI, so a runaway one is refused."""

FORMATS = {".pkl": "pickle", ".pickle": "pickle", ".json": "json", ".csv": "csv"}
"""File suffix (lower case) -> format; nothing else is guessed."""

PICKS_SESSIONS_AHEAD = 5
"""Picks may be stored for today's session and up to this many sessions after it, no further."""
DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
"""A session date as an operator writes it: ``YYYY-MM-DD`` in ASCII digits."""

TARGET_COLUMNS = ("target", "target_price")
"""CSV columns (and dict keys) accepted for the target price; exactly one may be given."""

_CODE = re.compile(r"[0-9]{6}")
# Excel's "CSV" export writes numbers as displayed, so a formatted price arrives as "3,155".
_THOUSANDS = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+")
# Opcodes that can produce objects without passing through find_class: the extension registry
# (its cache is process-wide) and persistent ids. Refused before anything is unpickled.
_UNSAFE_OPCODES = frozenset({"EXT1", "EXT2", "EXT4", "PERSID", "BINPERSID"})
MISSING = object()
"""A field that was not given at all (not even as null)."""

# Messages quote what was refused; a 5 MB string or a deep nest must not end up in a log line.
_short = reprlib.Repr()
_short.maxstring = 40
_short.maxother = 40
_short.maxlevel = 2


class PicksError(ValueError):
    """Picks refused as a whole; ``problems`` lists everything found, by position."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        if len(self.problems) == 1:
            message = f"{source}: {self.problems[0]}"
        else:
            lines = "\n".join(f"  {p}" for p in self.problems)
            message = f"{source}: {len(self.problems)} problems\n{lines}"
        super().__init__(message)

    def __reduce__(self) -> tuple[type[PicksError], tuple[str, list[str]]]:
        return type(self), (self.source, self.problems)


@dataclass(frozen=True)
class Pick:
    """One stock to buy in the session: ``target`` is the price in won where the buy band starts."""

    code: str
    name: str
    target: int


# Reading files ------------------------------------------------------------------------------------
def load_picks(path: Path) -> tuple[Pick, ...]:
    """Every pick of a ``.pkl``/``.pickle``, ``.json`` or ``.csv`` file by code, or PicksError."""
    source = str(path)
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        suffix = repr(path.suffix) if path.suffix else "none"
        _fail(source, f"unknown file type (suffix {suffix}): use .pkl, .pickle, .json or .csv")
    raw = _read_limited(path, source)
    if not raw:
        _fail(source, "the file is empty (a day without picks is {} or a CSV header alone)")
    if kind == "csv":
        return _parse_csv(raw, source)
    if kind == "json":
        return _parse_json(raw, source)
    try:
        data = safe_unpickle(raw)
    except PicksError as e:
        raise PicksError(source, e.problems) from None
    return parse_picks(data, source)


def _read_limited(path: Path, source: str) -> bytes:
    try:
        info = path.stat()
        # A FIFO or device would block or never end; only regular files are read.
        if not stat.S_ISREG(info.st_mode):
            _fail(source, "not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            _fail(source, f"file is {info.st_size:,} bytes, over the {MAX_FILE_BYTES:,} limit")
        with path.open("rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        _fail(source, "no such file")
    except OSError as e:
        _fail(source, f"cannot read the file: {e.strerror or e}")
    if len(raw) > MAX_FILE_BYTES:  # it grew after stat
        _fail(source, f"file is over the {MAX_FILE_BYTES:,} byte limit")
    return raw


def _text(raw: bytes, source: str, hint: str) -> str:
    try:
        return raw.decode("utf-8-sig")  # Korean Excel and Notepad add a BOM
    except UnicodeDecodeError as e:
        _fail(source, f"not UTF-8 text (byte {e.start}){hint}")


class _RestrictedUnpickler(pickle.Unpickler):
    """Builds only what the pickle opcodes build by themselves: dict, list, tuple, str, numbers."""

    def find_class(self, module: str, name: str) -> NoReturn:
        # Every class and function goes through here, so nothing else is ever imported or called.
        _fail(
            "pickle",
            f"refused to load {f'{module}.{name}'!r} from the pickle: only dicts, lists, tuples, "
            "strings and numbers are allowed (numpy or pandas values? save plain ints (int(x)) "
            "and strings (str(x)))",
        )

    def persistent_load(self, pid: Any) -> NoReturn:
        _fail("pickle", "refused a persistent id in the pickle")


def safe_unpickle(raw: bytes) -> object:
    """Unpickle ``raw`` refusing every global (no class, no function, no ``__reduce__``)."""
    if len(raw) > MAX_FILE_BYTES:
        _fail("pickle", f"pickle is {len(raw):,} bytes, over the {MAX_FILE_BYTES:,} limit")
    try:
        for opcode, _arg, _pos in pickletools.genops(raw):
            if opcode.name in _UNSAFE_OPCODES:
                _fail("pickle", f"refused the {opcode.name} opcode in the pickle")
        return _RestrictedUnpickler(io.BytesIO(raw)).load()
    except PicksError:
        raise
    except Exception as e:  # a corrupt pickle fails in many ways (EOFError, ValueError, ...)
        _fail("pickle", f"not a readable pickle ({type(e).__name__}: {str(e)[:120]})")


def _parse_json(raw: bytes, source: str) -> tuple[Pick, ...]:
    duplicates: list[str] = []

    def keep_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        # json.loads would keep the last of two equal keys silently: a pick could vanish.
        obj: dict[str, Any] = {}
        for key, value in pairs:
            if key in obj:
                duplicates.append(f"key {_short.repr(key)} appears more than once in one object")
            obj[key] = value
        return obj

    text = _text(raw, source, "")
    try:
        data = json.loads(text, object_pairs_hook=keep_pairs)
    except json.JSONDecodeError as e:
        _fail(source, f"not valid JSON: {e.msg} at line {e.lineno} column {e.colno}")
    except ValueError as e:  # e.g. an integer over the digit limit
        _fail(source, f"not valid JSON: {e}")
    try:
        picks = parse_picks(data, source)
    except PicksError as e:
        raise PicksError(source, duplicates + e.problems) from None
    if duplicates:
        raise PicksError(source, duplicates)
    return picks


def _parse_csv(raw: bytes, source: str) -> tuple[Pick, ...]:
    text = _text(raw, source, ": in Excel save as 'CSV UTF-8' (plain 'CSV' is CP949)")
    reader = csv.reader(io.StringIO(text, newline=""))
    problems: list[str] = []
    picks: list[Pick] = []
    first_line: dict[str, int] = {}
    columns: dict[str, int] | None = None
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue  # blank lines and Excel's trailing ",,," rows
            if columns is None:
                columns = _csv_columns(cells, source)
                continue
            line = reader.line_num
            cells += [""] * (max(columns.values()) + 1 - len(cells))  # short rows: empty cells
            code = cells[columns["code"]].strip()
            target = cells[columns["target"]]
            pick, row_problems = _check_row(code, cells[columns["name"]], target)
            if not row_problems and code in first_line:
                row_problems = [f"duplicate of row {first_line[code]}"]
            if row_problems:
                problems.append(f"row {line} (code {code!r}): {'; '.join(row_problems)}")
            elif pick is not None:
                first_line[code] = line
                picks.append(pick)
    except csv.Error as e:
        _fail(source, f"row {reader.line_num}: not readable CSV ({e})")
    if columns is None:
        _fail(source, "no header: the first line must be 'code,name,target'")
    if problems:
        raise PicksError(source, problems)
    return tuple(sorted(picks, key=lambda p: p.code))


def _csv_columns(header: list[str], source: str) -> dict[str, int]:
    """Column name -> index; extra columns (a pandas index, notes) are ignored."""
    names = [h.strip().lower() for h in header]
    problems = []
    for name in ("code", "name", *TARGET_COLUMNS):
        if names.count(name) > 1:
            problems.append(f"column {name!r} appears {names.count(name)} times in the header")
    missing = [n for n in ("code", "name") if n not in names]
    targets = [n for n in TARGET_COLUMNS if n in names]
    if not targets:
        missing.append("target")
    if len(targets) > 1:
        problems.append("give either a 'target' or a 'target_price' column, not both")
    if missing:
        problems.append(
            f"missing column(s) {', '.join(missing)}: the header must be 'code,name,target' "
            f"(found {','.join(names)!r})"
        )
    if problems:
        raise PicksError(source, problems)
    return {
        "code": names.index("code"),
        "name": names.index("name"),
        "target": names.index(targets[0]),
    }


# Validation ---------------------------------------------------------------------------------------
def parse_picks(data: object, source: str) -> tuple[Pick, ...]:
    """Validate decoded ``{code: [name, target]}`` (or ``{code: {"name", "target"}}``) data.

    Returns every pick sorted by code, or raises PicksError listing every bad entry by its
    1-based position and key: never a part of the picks.
    """
    if not isinstance(data, dict):
        _fail(source, f"expected a dict {{code: [name, target]}}, got {_kind(data)}")
    problems: list[str] = []
    picks: list[Pick] = []
    for index, (key, value) in enumerate(data.items(), start=1):
        name, target, shape_problem = _unpack(value)
        if shape_problem:
            pick, row_problems = None, [p for p in (_code_problem(key), shape_problem) if p]
        else:
            pick, row_problems = _check_row(key, name, target)
        if row_problems:
            problems.append(f"row {index} (code {_short.repr(key)}): {'; '.join(row_problems)}")
        elif pick is not None:
            picks.append(pick)
    if problems:
        raise PicksError(source, problems)
    return tuple(sorted(picks, key=lambda p: p.code))


def _unpack(value: object) -> tuple[object, object, str | None]:
    """(name, target, shape problem) of one entry's value."""
    if isinstance(value, list | tuple):
        if len(value) == 2:
            return value[0], value[1], None
        return MISSING, MISSING, f"value must be [name, target], got {len(value)} items"
    if isinstance(value, dict):
        targets = [k for k in TARGET_COLUMNS if k in value]
        if len(targets) > 1:
            return (
                value.get("name", MISSING),
                MISSING,
                "give 'target' or 'target_price', not both",
            )
        target = value[targets[0]] if targets else MISSING
        return value.get("name", MISSING), target, None
    return MISSING, MISSING, f"value must be [name, target], got {_kind(value)}"


def _check_row(code: object, name: object, target: object) -> tuple[Pick | None, list[str]]:
    """The pick, or every problem of one row (code, name and target are all checked)."""
    problems = [p for p in (_code_problem(code), _name_problem(name), _target_problem(target)) if p]
    if problems or not isinstance(code, str) or not isinstance(name, str):
        return None, problems
    return Pick(code, name.strip(), _price(target)), []


def _code_problem(code: object) -> str | None:
    if isinstance(code, str):
        if _CODE.fullmatch(code):
            return None
        if code.isascii() and code.isdigit() and len(code) < 6:
            return "code must be 6 digits (leading zeros lost in a spreadsheet?)"
        if len(code) == 7 and code[0] in "Aa" and _CODE.fullmatch(code[1:]):
            return f"code must be 6 digits (drop the 'A' prefix: {code[1:]!r})"
        return "code must be 6 digits"
    if isinstance(code, int) and not isinstance(code, bool) and 0 <= code < 1_000_000:
        return f"code must be a string of 6 digits like '{code:06d}', got the number {code}"
    return f"code must be a string of 6 digits, got {_kind(code)}"


def _name_problem(name: object) -> str | None:
    if name is MISSING:
        return "name is missing"
    if not isinstance(name, str):
        return f"name must be text, got {_kind(name)}"
    if len(name.strip()) > MAX_NAME_CHARS:
        return f"name is {len(name.strip()):,} characters, over the {MAX_NAME_CHARS} limit"
    return None if name.strip() else "name is empty"


def _target_problem(target: object) -> str | None:
    if target is MISSING:
        return "target is missing"
    try:
        _price(target)
    except ValueError:
        return f"target must be a positive whole number of won, got {_kind(target)}"
    return None


def _price(target: object) -> int:
    """``target`` as whole won: an int, or an integral float or numeric string; else ValueError."""
    if isinstance(target, bool):  # True is an int to Python, never a price
        raise ValueError(target)
    if isinstance(target, int | float | Decimal):
        value = Decimal(target)
    elif isinstance(target, str):
        cleaned = target.strip()
        if _THOUSANDS.fullmatch(cleaned):
            cleaned = cleaned.replace(",", "")
        try:
            value = Decimal(cleaned)
        except InvalidOperation:
            raise ValueError(target) from None
    else:
        raise ValueError(target)
    if not value.is_finite() or value != value.to_integral_value() or value <= 0:
        raise ValueError(target)
    return int(value)


def _kind(value: object) -> str:
    """What a value is, for a message: ``the number 0``, ``'abc'``, ``a list``."""
    if isinstance(value, str):
        return _short.repr(value)
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int | float | Decimal):
        return _short.repr(value)
    return f"a {type(value).__name__}"


def _fail(source: str, problem: str) -> NoReturn:
    raise PicksError(source, [problem])


# Which sessions ---------------------------------------------------------------------------------
def parse_session_date(text: str) -> date:
    """``text`` (``YYYY-MM-DD``) as a date, or ValueError saying what is wrong in one line."""
    if not DATE_TEXT.fullmatch(text):
        raise ValueError(f"the date must be YYYY-MM-DD, got {_short.repr(text)}")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text} is not a calendar date") from None


def picks_date_problem(session: date, today: date, calendar: KrxCalendar) -> str:
    """Why picks cannot be stored for ``session`` when it is ``today``, or "" when they can.

    From today's date to the :data:`PICKS_SESSIONS_AHEAD`-th session after it: a date in the
    past would never trade, and one far ahead is a typo more often than a plan. Whether the day
    is a session at all is the caller's next question (see docs/ARCHITECTURE.md, 'Input limits').
    """
    if session < today:
        return (
            f"{session} is in the past (today is {today}): picks are stored for today's session"
            f" or up to {PICKS_SESSIONS_AHEAD} sessions ahead"
        )
    last = calendar.session_offset(today, PICKS_SESSIONS_AHEAD).day
    if session > last:
        return (
            f"{session} is more than {PICKS_SESSIONS_AHEAD} sessions ahead of {today}"
            f" (the last session accepted is {last})"
        )
    return ""


def check_picks(rows: Iterable[tuple[object, object, object]], source: str) -> tuple[Pick, ...]:
    """Picks built elsewhere (an API, Redis) held to the same rules as a file's, duplicates too."""
    problems: list[str] = []
    checked: dict[str, Pick] = {}
    for index, (code, name, target) in enumerate(rows, start=1):
        pick, row_problems = _check_row(code, name, target)
        if pick is not None and pick.code in checked:
            row_problems = ["duplicate code"]
        if row_problems:
            problems.append(f"row {index} (code {_short.repr(code)}): {'; '.join(row_problems)}")
        elif pick is not None:
            checked[pick.code] = pick
    if problems:
        raise PicksError(source, problems)
    return tuple(sorted(checked.values(), key=lambda p: p.code))


def picks_to_seed_dict(picks: Iterable[Pick]) -> dict[str, list[object]]:
    """The picks in the seed's ``select_dict.pkl`` shape, ``{code: [name, target]}``."""
    return {p.code: [p.name, p.target] for p in sorted(picks, key=lambda p: p.code)}
