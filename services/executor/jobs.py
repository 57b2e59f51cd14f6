"""The executor's RQ jobs, found by their import path (``shared.messaging.queues.PLACE_ORDER`` and
co.).

Each takes plain JSON-able arguments and gets its dependencies from the process's context, so
the same functions run in the worker and anywhere a test calls them. No job uses RQ's Retry: a
job that dies is settled by reconciliation, never re-run blindly.
"""

from __future__ import annotations

import logging
from datetime import date

from services.executor.context import get_context
from services.executor.notices import FillNotices
from services.executor.placing import Placer
from services.executor.reconcile import Reconciler
from shared.kis.stream_frames import fill_notice_from_payload

log = logging.getLogger(__name__)


def place_order(order_id: str) -> str:
    """Send order ``order_id`` to KIS if it is still ``pending``; its status afterwards.

    A second run for the same order, or a run for an order already sent or settled, sends
    nothing. While paused the order stays ``pending`` (queued again after resume); while halted
    it is cancelled.
    """
    status = Placer(get_context()).place(order_id)
    return status.value if status is not None else "missing"


def reconcile_orders(session_iso: str) -> dict[str, int]:
    """Settle the orders of session ``session_iso`` (YYYY-MM-DD) against KIS; what changed."""
    session = date.fromisoformat(session_iso)
    return Reconciler(get_context()).reconcile_session(session).as_dict()


def apply_fill_notice(payload: dict[str, object]) -> str:
    """Mark a realtime fill notice (``shared.messaging.queues.enqueue_fill_notice``) on its order
    record and the ledger; ``applied``, ``counted``, ``unmatched`` or ``ignored``."""
    return FillNotices(get_context()).apply(fill_notice_from_payload(payload))
