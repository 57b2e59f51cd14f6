"""Well-known KRX codes with their real Korean names and the price level their walk centres on.

Names are the issuers' registered short names as KRX and KIS show them (``prdt_name``). Levels
are round figures near each stock's 2025 trading range (public daily quotes), not live prices;
the walk drifts up to ±12.7 % around them. A code not listed here walks around a seeded level,
or, with ``SIM_UNLISTED_CODES=unknown``, answers as KIS does for a code it does not list.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

LISTED: Mapping[str, tuple[str, int]] = MappingProxyType(
    {
        "005930": ("삼성전자", 70_000),
        "000660": ("SK하이닉스", 230_000),
        "373220": ("LG에너지솔루션", 350_000),
        "207940": ("삼성바이오로직스", 1_000_000),
        "005380": ("현대차", 210_000),
        "000270": ("기아", 100_000),
        "035420": ("NAVER", 220_000),
        "035720": ("카카오", 55_000),
        "051910": ("LG화학", 300_000),
        "006400": ("삼성SDI", 200_000),
        "068270": ("셀트리온", 170_000),
        "005490": ("POSCO홀딩스", 300_000),
        "105560": ("KB금융", 100_000),
        "055550": ("신한지주", 60_000),
        "012330": ("현대모비스", 280_000),
        "028260": ("삼성물산", 150_000),
        "066570": ("LG전자", 80_000),
        "003550": ("LG", 70_000),
        "017670": ("SK텔레콤", 55_000),
        "247540": ("에코프로비엠", 100_000),
        "086520": ("에코프로", 60_000),
    }
)
"""code → (name, price level in won)."""

KOSDAQ = frozenset({"247540", "086520"})
"""Listed codes traded on KOSDAQ; the others are KOSPI 200 members."""


def listed_market(code: str) -> str:
    """``rprs_mrkt_kor_name`` of a code: "KOSPI200" for the KOSPI 200 members listed here (as
    KIS answers for 005930: dragon1086/prism-insight PR #524), "KOSDAQ" for the KOSDAQ ones and
    "KOSPI" otherwise (the last two are the simulator's guesses)."""
    if code in KOSDAQ:
        return "KOSDAQ"
    return "KOSPI200" if code in LISTED else "KOSPI"


def listed_name(code: str) -> str | None:
    """The Korean name of a listed code, if we know it."""
    entry = LISTED.get(code)
    return entry[0] if entry else None


def listed_level(code: str) -> int | None:
    """The price level a listed code's walk centres on, if we know it."""
    entry = LISTED.get(code)
    return entry[1] if entry else None
