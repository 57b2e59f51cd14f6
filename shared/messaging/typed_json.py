"""Frozen dataclasses to JSON and back, strictly: the shapes the project's payloads use.

Field types: ``str``, ``int`` (never a bool or a float), ``bool``, ``Decimal`` (a decimal
string, or a whole number; never a float), ``date`` (ISO ``YYYY-MM-DD``), ``datetime`` (ISO with
its UTC offset; a naive one is refused), ``time`` (ISO ``HH:MM:SS``), ``timedelta`` (whole
seconds), ``Side`` (``buy`` or ``sell``), any other enum (its value), ``tuple[X, ...]`` (a
list), ``dict[K, V]`` (an object), ``X | None`` and nested dataclasses. Anything else is
refused with a :class:`ShapeError` that names the path to the offending value
(``premarket_plan.picks[1].target``).

A dataclass may name properties computed from its fields in ``DERIVED_FIELDS`` (a class
variable): they are written beside the fields, for readers of the JSON, and on the way back only
checked against the property's type, then dropped (the instance computes them again).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Collection, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, Union

from shared.kis.models import Side


class ShapeError(ValueError):
    """A value that is not of the declared type; the message starts with its path."""


Payload = dict[str, Any]
"""A JSON object."""

_HINTS: dict[type, dict[str, Any]] = {}
_DERIVED: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    """The resolved field types of a dataclass (its annotations may be strings)."""
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _fields(cls: type) -> list[dataclasses.Field[Any]]:
    return [f for f in dataclasses.fields(cls) if f.init]


def _derived(cls: type) -> dict[str, Any]:
    """The derived properties of a dataclass (``DERIVED_FIELDS``) and their types."""
    if cls not in _DERIVED:
        names: tuple[str, ...] = getattr(cls, "DERIVED_FIELDS", ())
        _DERIVED[cls] = {
            name: typing.get_type_hints(getattr(cls, name).fget)["return"] for name in names
        }
    return _DERIVED[cls]


def _has_default(f: dataclasses.Field[Any]) -> bool:
    return f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp)


def _decode(value: Any, tp: Any, where: str) -> Any:
    """``value`` from JSON as ``tp``; ShapeError naming ``where`` when it does not fit."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _decode(value, inner, where)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ShapeError(f"{where}: expected a list, got {value!r}")
        return tuple(_decode(v, args[0], f"{where}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ShapeError(f"{where}: expected an object, got {value!r}")
        return {
            _decode(k, args[0], f"{where} key"): _decode(v, args[1], f"{where}.{k}")
            for k, v in value.items()
        }
    if dataclasses.is_dataclass(tp):
        return decode_object(value, typing.cast(type, tp), where)
    decoder = _DECODERS.get(tp)
    if decoder is not None:
        return decoder(value, where)
    if isinstance(tp, type) and issubclass(tp, Enum):
        try:
            return tp(value)
        except ValueError:
            allowed = ", ".join(str(m.value) for m in tp)
            raise ShapeError(f"{where}: {value!r} is not one of {allowed}") from None
    raise ShapeError(f"{where}: no decoder for {_type_name(tp)}")  # a type this codec does not know


def decode_object(value: Any, cls: type, where: str, ignore: Collection[str] = frozenset()) -> Any:
    """An instance of the dataclass ``cls`` from the JSON object ``value``.

    Every field without a default must be there, none other (but the keys in ``ignore``);
    a field with a default may be left out. ShapeError names ``where`` and the field.
    """
    if not isinstance(value, Mapping):
        raise ShapeError(f"{where}: expected an object, got {value!r}")
    hints = _hints(cls)
    fields = _fields(cls)
    derived = _derived(cls)
    unexpected = sorted(set(value) - {f.name for f in fields} - set(derived) - set(ignore))
    if unexpected:
        raise ShapeError(f"{where}: unexpected field {', '.join(map(str, unexpected))}")
    for name, tp in derived.items():
        if name in value:
            _decode(value[name], tp, f"{where}.{name}")
    kwargs = {}
    for f in fields:
        if f.name not in value:
            if _has_default(f):
                continue
            raise ShapeError(f"{where}: missing field {f.name}")
        kwargs[f.name] = _decode(value[f.name], hints[f.name], f"{where}.{f.name}")
    try:
        return cls(**kwargs)
    except ValueError as e:  # the class's own check of its fields taken together
        raise ShapeError(f"{where}: {e}") from None


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ShapeError(f"{where}: expected a string, got {value!r}")
    return value


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ShapeError(f"{where}: expected a whole number, got {value!r}")
    return value


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ShapeError(f"{where}: expected true or false, got {value!r}")
    return value


def _decimal(value: Any, where: str) -> Decimal:
    # Never a float: money and rates travel as decimal strings (or whole numbers).
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ShapeError(f"{where}: expected a decimal string, got {value!r}")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ShapeError(f"{where}: {value!r} is not a number") from None
    if not number.is_finite():
        raise ShapeError(f"{where}: {value!r} is not a finite number")
    return number


def _date(value: Any, where: str) -> date:
    text = _str(value, where)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ShapeError(f"{where}: {value!r} is not an ISO date (YYYY-MM-DD)") from None


def _datetime(value: Any, where: str) -> datetime:
    text = _str(value, where)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ShapeError(f"{where}: {value!r} is not an ISO date and time") from None
    if moment.utcoffset() is None:
        raise ShapeError(f"{where}: {value!r} has no UTC offset")
    return moment


def _time(value: Any, where: str) -> time:
    text = _str(value, where)
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise ShapeError(f"{where}: {value!r} is not an ISO time (HH:MM:SS)") from None


def _timedelta(value: Any, where: str) -> timedelta:
    return timedelta(seconds=_int(value, where))


def _side(value: Any, where: str) -> Side:
    sides = {s.label: s for s in Side}
    if value not in sides:
        raise ShapeError(f"{where}: expected buy or sell, got {value!r}")
    return sides[value]


_DECODERS: dict[Any, Callable[[Any, str], Any]] = {
    str: _str,
    int: _int,
    bool: _bool,
    Decimal: _decimal,
    date: _date,
    datetime: _datetime,
    time: _time,
    timedelta: _timedelta,
    Side: _side,
}


def _encode(value: Any, tp: Any, where: str) -> Any:
    """``value`` (of type ``tp``) as JSON; ShapeError when it is not of that type."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _encode(value, inner, where)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ShapeError(f"{where}: expected a tuple, got {value!r}")
        return [_encode(v, args[0], f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ShapeError(f"{where}: expected a dict, got {value!r}")
        return {
            _encode(k, args[0], f"{where} key"): _encode(v, args[1], f"{where}.{k}")
            for k, v in value.items()
        }
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, typing.cast(type, tp)):
            raise ShapeError(f"{where}: expected {_type_name(tp)}, got {value!r}")
        return encode_object(value, where)
    if tp is Side:
        if not isinstance(value, Side):
            raise ShapeError(f"{where}: expected a Side, got {value!r}")
        return value.label
    if isinstance(tp, type) and issubclass(tp, Enum):
        if not isinstance(value, tp):
            raise ShapeError(f"{where}: expected {tp.__name__}, got {value!r}")
        return value.value
    if tp is datetime:
        if not isinstance(value, datetime) or value.utcoffset() is None:
            raise ShapeError(f"{where}: expected an aware datetime, got {value!r}")
        return value.isoformat()
    if tp is date:
        if not isinstance(value, date):
            raise ShapeError(f"{where}: expected a date, got {value!r}")
        return value.isoformat()
    if tp is time:
        if not isinstance(value, time):
            raise ShapeError(f"{where}: expected a time, got {value!r}")
        return value.isoformat()
    if tp is timedelta:
        seconds = value.total_seconds() if isinstance(value, timedelta) else None
        if seconds is None or seconds != int(seconds):
            raise ShapeError(f"{where}: expected a timedelta of whole seconds, got {value!r}")
        return int(seconds)
    if tp is Decimal:
        if isinstance(value, bool) or not isinstance(value, Decimal | int):
            raise ShapeError(f"{where}: expected a Decimal, got {value!r}")
        return str(value)
    # str, int, bool: JSON as they are, checked on the way out like on the way in.
    return _DECODERS[tp](value, where)


def encode_object(value: Any, where: str) -> Payload:
    """The JSON object of the dataclass instance ``value``; ShapeError on an ill-typed field.

    An optional field (one with a default) that is None is left out.
    """
    hints = _hints(type(value))
    out: Payload = {}
    for f in _fields(type(value)):
        item = getattr(value, f.name)
        if item is None and _has_default(f):
            continue  # an optional field left out is the same as absent
        out[f.name] = _encode(item, hints[f.name], f"{where}.{f.name}")
    for name, tp in _derived(type(value)).items():
        out[name] = _encode(getattr(value, name), tp, f"{where}.{name}")
    return out
