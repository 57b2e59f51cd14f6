"""KIS continuation paging: ``tr_cont`` headers and the CTX_AREA_FK100/NK100 pair.

FK100 is a stable key of the query (a changed query with an old context is refused); NK100 is
a keyset cursor, the sort key of the last row sent, so rows added or removed between pages
neither repeat nor vanish from the remaining pages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from services.kis_sim.protocol import KisRequest, Params, invalid

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of rows, its ``tr_cont`` header and the NK100 cursor to send back."""

    rows: list[T]
    tr_cont: str
    cursor: str


def continuation_cursor(
    request: KisRequest,
    params: Params,
    expected_key: str,
    cursor_pattern: re.Pattern[str],
    names: tuple[str, str] = ("CTX_AREA_FK100", "CTX_AREA_NK100"),
) -> str | None:
    """The cursor of a next-page request (``tr_cont: N``), None for a first page, or OPSQ2002."""
    fk_name, nk_name = names
    key, cursor = params.optional(fk_name), params.optional(nk_name)
    if request.header("tr_cont").upper() == "N":
        if not cursor_pattern.match(cursor):
            raise invalid(
                nk_name, "다음 조회에는 이전 응답의 ctx_area_nk100 을 그대로 보내야 합니다"
            )
        if key != expected_key:
            raise invalid(
                fk_name, "이전 응답의 ctx_area_fk100 과 다르거나 조회 조건이 바뀌었습니다"
            )
        return cursor
    if cursor:
        # Without tr_cont: N the context is meaningless; a client relying on it would loop.
        raise invalid(nk_name, "연속조회는 tr_cont: N 헤더와 함께 보내야 합니다")
    return None


def paginate(
    rows: Sequence[T],
    sort_key: Callable[[T], str],
    cursor: str | None,
    size: int,
    descending: bool = False,
) -> Page[T]:
    """The page after ``cursor`` (rows already sorted by ``sort_key`` in that direction)."""
    if cursor is None:
        rest = list(rows)
    elif descending:
        rest = [r for r in rows if sort_key(r) < cursor]
    else:
        rest = [r for r in rows if sort_key(r) > cursor]
    page, more = rest[:size], len(rest) > size
    # F/D on a first page, M/E after; F and M say more pages follow.
    tr_cont = ("F" if more else "D") if cursor is None else ("M" if more else "E")
    return Page(page, tr_cont, sort_key(page[-1]) if page else (cursor or ""))
