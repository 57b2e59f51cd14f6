"""Well-known KRX codes with their real Korean names, their market and the price level their walk
centres on, read from a data file a user can refresh (services/kis_sim/README.md, 'Listings').

The bundled file is ``listings.json`` beside this module; ``SIM_LISTINGS`` names another.
Names are the issuers' registered short names as KRX and KIS show them (``prdt_name``); levels
are the walk's centre (it drifts up to ±12.7 % around them), set from recent closes by
``python -m services.kis_sim.refresh_listings``. A code not listed walks around a seeded level,
or, with ``SIM_UNLISTED_CODES=unknown``, answers as KIS does for a code it does not list.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from services.kis_sim.paths import CODE_PATTERN

BUNDLED_LISTINGS = Path(__file__).with_name("listings.json")
"""The listings shipped with the simulator."""
MARKETS = ("KOSPI200", "KOSPI", "KOSDAQ")
"""``rprs_mrkt_kor_name`` values a listing may carry: "KOSPI200" as KIS answers for 005930
(dragon1086/prism-insight PR #524); "KOSPI" and "KOSDAQ" are the simulator's guesses."""
UNLISTED_MARKET = "KOSPI"
"""``rprs_mrkt_kor_name`` of a code the listings do not hold (the simulator's guess)."""
MAX_LEVEL = 10_000_000
"""Highest price level accepted, in won (KRX's dearest shares trade far below)."""


class ListingsError(ValueError):
    """A listings file that cannot be used; the message names the entry."""


@dataclass(frozen=True)
class Listing:
    """One well-known code."""

    name: str
    market: str
    level: int
    """The price in won its walk centres on."""


@dataclass(frozen=True)
class Listings:
    """The well-known codes, by code; ``as_of`` and ``source`` say where the levels come from."""

    by_code: Mapping[str, Listing]
    as_of: str = ""
    source: str = ""

    def name(self, code: str) -> str | None:
        """The Korean name of a listed code, if we know it."""
        entry = self.by_code.get(code)
        return entry.name if entry else None

    def level(self, code: str) -> int | None:
        """The price level a listed code's walk centres on, if we know it."""
        entry = self.by_code.get(code)
        return entry.level if entry else None

    def market(self, code: str) -> str:
        """``rprs_mrkt_kor_name`` of a code (:data:`UNLISTED_MARKET` when not listed)."""
        entry = self.by_code.get(code)
        return entry.market if entry else UNLISTED_MARKET

    def with_levels(self, levels: Mapping[str, int], as_of: str, source: str) -> Listings:
        """These listings with ``levels`` for the codes given (other codes keep theirs)."""
        unknown = sorted(set(levels) - set(self.by_code))
        if unknown:
            raise ListingsError(f"codes not in the listings: {', '.join(unknown)}")
        for code, level in levels.items():
            _check_level(code, level)
        updated = {
            code: Listing(entry.name, entry.market, levels.get(code, entry.level))
            for code, entry in self.by_code.items()
        }
        return Listings(MappingProxyType(updated), as_of, source)

    def as_json(self) -> dict[str, Any]:
        """The file's content (``load_listings`` reads it back)."""
        return {
            "as_of": self.as_of,
            "source": self.source,
            "listings": {
                code: {"name": e.name, "market": e.market, "level": e.level}
                for code, e in self.by_code.items()
            },
        }


def parse_listings(data: object) -> Listings:
    """Listings from the file's JSON, or :class:`ListingsError` naming the bad entry."""
    if not isinstance(data, dict) or not isinstance(data.get("listings"), dict):
        raise ListingsError('expected an object with "listings": {code: {name, market, level}}')
    by_code: dict[str, Listing] = {}
    for code, entry in data["listings"].items():
        if not CODE_PATTERN.match(code):
            raise ListingsError(f"{code!r}: a code is 6 digits")
        if not isinstance(entry, dict):
            raise ListingsError(f"{code}: expected {{name, market, level}}")
        name, market, level = entry.get("name"), entry.get("market"), entry.get("level")
        if not isinstance(name, str) or not name.strip():
            raise ListingsError(f"{code}: name must be a non-empty string")
        if market not in MARKETS:
            raise ListingsError(f"{code}: market must be one of {', '.join(MARKETS)}")
        if not isinstance(level, int) or isinstance(level, bool):
            raise ListingsError(f"{code}: level must be a whole number of won")
        _check_level(code, level)
        by_code[code] = Listing(name.strip(), str(market), level)
    return Listings(
        MappingProxyType(by_code), str(data.get("as_of", "")), str(data.get("source", ""))
    )


def load_listings(path: Path = BUNDLED_LISTINGS) -> Listings:
    """The listings of ``path``; OSError when unreadable, :class:`ListingsError` when bad."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ListingsError(f"not JSON: {e}") from None
    return parse_listings(data)


def save_listings(listings: Listings, path: Path) -> None:
    """Write ``listings`` to ``path`` (UTF-8 JSON, names unescaped), replacing it whole."""
    text = json.dumps(listings.as_json(), ensure_ascii=False, indent=2) + "\n"
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def _check_level(code: str, level: int) -> None:
    if not 1 <= level <= MAX_LEVEL:
        raise ListingsError(f"{code}: level must be between 1 and {MAX_LEVEL} won, got {level}")
