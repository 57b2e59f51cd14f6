"""Which price registrations a stream session should hold: pure decisions, no I/O.

See docs/ARCHITECTURE.md, 'The price and fill stream'. KIS allows 41 registrations per session,
all tr_ids together; the fill notice takes one, the codes nearest a decision take the rest.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

MAX_REGISTRATIONS = 41
"""Registrations KIS allows one session, price and fill notice together (KIS portal notice
"API 호출 유량 안내", 2026-04-20)."""
CODE_PATTERN = re.compile(r"^\d{6}$")
"""A KRX short code."""


def capacity(with_fill_notice: bool, limit: int = MAX_REGISTRATIONS) -> int:
    """Price registrations left once the fill notice has its own."""
    return limit - 1 if with_fill_notice else limit


def chosen(wanted: Sequence[str], room: int, refused: Collection[str] = ()) -> list[str]:
    """The first ``room`` distinct valid codes of ``wanted`` (priority order), skipping codes
    the server refused in this session."""
    picked: list[str] = []
    for code in wanted:
        if len(picked) >= room:
            break
        if CODE_PATTERN.match(code) and code not in picked and code not in refused:
            picked.append(code)
    return picked


@dataclass(frozen=True)
class Changes:
    """What to send: releases first (they free room), then registrations in priority order."""

    release: list[str]
    register: list[str]


def changes(target: Sequence[str], held: Collection[str]) -> Changes:
    """From the codes ``held`` (registered or asked for) to ``target``."""
    wanted = set(target)
    return Changes(
        release=sorted(code for code in held if code not in wanted),
        register=[code for code in target if code not in held],
    )
