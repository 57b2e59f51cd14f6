"""Query and path parameters checked once, with a 400 naming the parameter when they are wrong
(the validators of services/api/inputs.py call these)."""

from __future__ import annotations

import re
from datetime import date

from services.api.errors import ApiError
from shared.trading.orders import OrderStatus

DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
"""A session date as the API takes it: ``YYYY-MM-DD``."""
ORDER_ID_MAX_LENGTH = 100
"""Longest order id looked up (real ids are about 30 characters)."""
STATUSES = tuple(s.value for s in OrderStatus)
"""Every order status, in lifecycle order."""

_DATE = re.compile(DATE_PATTERN.strip("^$"))


def parse_date(value: str, name: str = "date") -> date:
    """``value`` as a date, or ApiError 400."""
    if not _DATE.fullmatch(value):  # fullmatch: "$" would let a trailing newline in
        raise ApiError(400, f"{name} must be YYYY-MM-DD, got {value[:40]!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ApiError(400, f"{name} {value!r} is not a calendar date") from None


def parse_status(value: str | None) -> OrderStatus | None:
    if value is None:
        return None
    if value not in STATUSES:
        raise ApiError(400, f"status must be one of {', '.join(STATUSES)}, got {value[:40]!r}")
    return OrderStatus(value)


BACKTEST_ID_PATTERN = r"^[0-9A-Za-z][0-9A-Za-z_-]{0,99}$"
"""A backtest's directory under ``DATA_DIR/backtests/``: letters, digits, ``-`` and ``_``, so an
id can never name a parent, a path or a hidden file."""

_BACKTEST_ID = re.compile(BACKTEST_ID_PATTERN.strip("^$"))


def parse_backtest_id(value: str) -> str:
    """``value`` as a backtest id, or ApiError 400 (``..``, a path, anything else refused)."""
    if not _BACKTEST_ID.fullmatch(value):
        raise ApiError(400, f"backtest id must be letters, digits, '-' or '_' (got {value[:40]!r})")
    return value
