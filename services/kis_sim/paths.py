"""Scripted price paths: step functions that override the random walk for chosen codes.

A path is a list of ``[time, price]`` points. ``"HH:MM[:SS]"`` points repeat every day; full ISO
datetimes (KST when they carry no offset) happen once. At any moment the price is that of the
latest point reached (today's daily points and every absolute point up to that moment); before
any point is reached it is the price of the earliest upcoming one, so a daily path restarts at its
first point each morning. Prices are used exactly as written: no tick rounding, no limit clamp.
"""

from __future__ import annotations

import bisect
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from shared.infra.clock import KST

CODE_PATTERN = re.compile(r"^\d{6}$")
"""A KRX short code as the simulator accepts it."""
DAILY_TIME_PATTERN = re.compile(r"^\d{2}:\d{2}(:\d{2})?$")


class PathError(ValueError):
    """A scripted path file or admin payload is malformed; the message says where."""


@dataclass(frozen=True)
class ScriptedPath:
    """One code's points, split into daily (time of day) and absolute (moment) points."""

    daily: tuple[tuple[time, int], ...] = ()
    absolute: tuple[tuple[datetime, int], ...] = ()

    @functools.cached_property
    def _day_times(self) -> list[time]:
        return [t for t, _ in self.daily]

    @functools.cached_property
    def _moments(self) -> list[datetime]:
        # Kept sorted once, so a replayed year of points costs a bisection per look, not a scan.
        return [m for m, _ in self.absolute]

    @property
    def empty(self) -> bool:
        """True when the path has no points (an admin payload uses it to drop a path)."""
        return not self.daily and not self.absolute

    def at(self, moment: datetime) -> int:
        """The price at ``moment`` (aware)."""
        local = moment.astimezone(KST)
        reached: list[tuple[datetime, int]] = []
        i = bisect.bisect_right(self._day_times, local.time().replace(tzinfo=None))
        if i:
            t, price = self.daily[i - 1]
            reached.append((datetime.combine(local.date(), t, tzinfo=KST), price))
        j = bisect.bisect_right(self._moments, local)
        if j:
            reached.append(self.absolute[j - 1])
        if reached:
            # On a tie the absolute point wins: it was written for that very moment.
            return max(reached, key=lambda point: point[0])[1]
        upcoming: list[tuple[datetime, int]] = []
        if self.daily:
            t, price = self.daily[0]
            upcoming.append((datetime.combine(local.date(), t, tzinfo=KST), price))
        if self.absolute:
            upcoming.append(self.absolute[0])
        return min(upcoming, key=lambda point: point[0])[1]

    def events(self, start: datetime, end: datetime) -> list[datetime]:
        """Moments in ``(start, end]`` at which the price may change, in order."""
        moments = self._moments
        found = moments[bisect.bisect_right(moments, start) : bisect.bisect_right(moments, end)]
        day: date = start.astimezone(KST).date()
        last: date = end.astimezone(KST).date()
        while self.daily and day <= last:
            for t, _ in self.daily:
                moment = datetime.combine(day, t, tzinfo=KST)
                if start < moment <= end:
                    found.append(moment)
            day += timedelta(days=1)
        return sorted(found)


@dataclass(frozen=True)
class ScriptedPaths:
    """Paths by code, plus optional display names by code."""

    paths: Mapping[str, ScriptedPath] = field(default_factory=dict)
    names: Mapping[str, str] = field(default_factory=dict)


def load_paths_file(path: Path) -> ScriptedPaths:
    """Parse a scripted-path JSON file (``OSError`` if unreadable, :class:`PathError` if bad)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise PathError(f"not JSON: {e}") from None
    return parse_paths(data)


def parse_paths(data: object) -> ScriptedPaths:
    """``{"005930": [["09:00", 70000], ...], "names": {"005930": "삼성전자"}}`` → paths."""
    if not isinstance(data, dict):
        raise PathError("must be a JSON object mapping codes to [[time, price], ...]")
    paths: dict[str, ScriptedPath] = {}
    names: dict[str, str] = {}
    for key, value in data.items():
        if key == "names":
            names = _parse_names(value)
            continue
        if not CODE_PATTERN.match(str(key)):
            raise PathError(f"{key!r} is not a 6-digit stock code")
        paths[key] = _parse_points(key, value)
    return ScriptedPaths(paths, names)


def _parse_names(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        raise PathError('"names" must map codes to names')
    names: dict[str, str] = {}
    for code, name in value.items():
        if not CODE_PATTERN.match(str(code)) or not isinstance(name, str) or not name.strip():
            raise PathError(f'"names": {code!r} must be a 6-digit code with a non-empty name')
        names[code] = name.strip()
    return names


def _parse_points(code: str, value: object) -> ScriptedPath:
    if value is None:
        return ScriptedPath()
    if not isinstance(value, list):
        raise PathError(f"{code}: must be a list of [time, price] points")
    daily: dict[time, int] = {}
    absolute: dict[datetime, int] = {}
    for point in value:
        if not isinstance(point, list | tuple) or len(point) != 2:
            raise PathError(f"{code}: {point!r} is not a [time, price] pair")
        when, price = point
        won = _parse_price(code, price)
        if not isinstance(when, str):
            raise PathError(f"{code}: time {when!r} must be a string")
        if DAILY_TIME_PATTERN.match(when):
            daily[_parse_time(code, when)] = won
        else:
            absolute[_parse_moment(code, when)] = won
    return ScriptedPath(tuple(sorted(daily.items())), tuple(sorted(absolute.items())))


def _parse_price(code: str, price: object) -> int:
    if isinstance(price, bool) or not isinstance(price, int | float):
        raise PathError(f"{code}: price {price!r} must be a number of won")
    if price != int(price) or price <= 0:
        raise PathError(f"{code}: price {price!r} must be a positive whole number of won")
    return int(price)


def _parse_time(code: str, text: str) -> time:
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise PathError(f"{code}: {text!r} is not a time of day HH:MM[:SS]") from None


def _parse_moment(code: str, text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise PathError(f"{code}: {text!r} is neither HH:MM[:SS] nor an ISO datetime") from None
    if moment.utcoffset() is None:
        moment = moment.replace(tzinfo=KST)
    return moment.astimezone(KST)
