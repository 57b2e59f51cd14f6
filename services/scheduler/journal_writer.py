"""Writing the trade journal: from the ledger's realised trades, or rebuilt from KIS after a loss.

See docs/ARCHITECTURE.md, 'Track record'. Each sell is known by its KIS order number, which
outlives our Redis state; the journal remembers how many of its shares it holds, and only shares
beyond those are written. So the ledger's trades written each cycle, written again at
post-market, and a sell adopted after Redis was wiped (another order id, the same KIS number)
are each journaled once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from shared.kis.models import Execution, Side
from shared.state.journal import Journal
from shared.state.order_book import OrderBook
from shared.state.positions import PositionLedger
from shared.trading.costs import TradeCosts
from shared.trading.journal import FROM_KIS, JournalEntry, closed_trade
from shared.trading.market_calendar import KrxCalendar
from shared.trading.orders import Reason
from shared.trading.rules import held_sessions
from shared.trading.trades import Realized

log = logging.getLogger(__name__)


class JournalWriter:
    """Keeps ``DATA_DIR/journal`` up to date with the sessions' closed trades."""

    def __init__(
        self,
        journal: Journal,
        ledger: PositionLedger,
        book: OrderBook,
        calendar: KrxCalendar,
        costs: TradeCosts,
    ) -> None:
        self._journal = journal
        self._ledger = ledger
        self._book = book
        self._calendar = calendar
        self._costs = costs
        self._rows_written: dict[date, int] = {}

    def from_ledger(self, session: date, *, force: bool = False) -> list[JournalEntry]:
        """Journal the session's realised trades not journaled yet; the entries added.

        Cheap when nothing was sold since the last call (one list read), unless ``force``.
        A trade without a ledger position behind it (a sell adopted after a loss: no buy price)
        is left to :meth:`from_kis`.
        """
        realized = self._ledger.realized(session)
        if not force and self._rows_written.get(session) == len(realized):
            return []
        with self._journal.lock():
            added = self._from_rows(session, realized)
        self._rows_written[session] = len(realized)
        for entry in added:
            log.info(
                "journaled %s: %d x %s sold at %s, net %+d won",
                entry.order_id,
                entry.quantity,
                entry.code,
                entry.exit_price,
                entry.net,
            )
        return added

    def _from_rows(self, session: date, realized: list[Realized]) -> list[JournalEntry]:
        done = self._journal.journaled_through(session)
        sold: dict[str, int] = {}
        entries = []
        refs: dict[str, str | None] = {}
        for row in realized:
            if row.order_id not in refs:
                refs[row.order_id] = self._sell_ref(row.order_id)
            ref = refs[row.order_id]
            if ref is None:
                continue  # its record is gone (expired): which KIS order it was is unknown
            before = sold.get(ref, 0)
            through = before + row.quantity
            sold[ref] = through
            if row.buy_session is None or row.buy_price <= 0:
                continue
            quantity = through - max(before, done.get(ref, 0))
            if quantity <= 0:
                continue
            entries.append(
                closed_trade(
                    sell_ref=ref,
                    through=through,
                    order_id=row.order_id,
                    code=row.code,
                    name=row.name,
                    quantity=quantity,
                    entry_session=row.buy_session,
                    entry_price=row.buy_price,
                    exit_session=session,
                    exit_price=row.sell_price,
                    reason=row.reason.value,
                    sessions_held=held_sessions(self._calendar, row.buy_session, session),
                    costs=self._costs,
                )
            )
            done[ref] = through
        return self._journal.append(entries)

    def from_kis(
        self, session: date, executions: Iterable[Execution], export_folder: Path
    ) -> list[JournalEntry]:
        """Journal the session's sells KIS executed that the journal lacks (our state was lost
        before their trades were journaled); the entries added.

        The sold shares' price and session come from the session's buys at KIS for a code
        bought that session, and from the last ledger export (``positions.json``) for one held
        from before, both averaged when both hold it. A sell whose buy neither knows is logged
        and not journaled: a made-up buy price would be a made-up profit.
        """
        executions = [e for e in executions if e.order_date == session and not e.original_order_no]
        with self._journal.lock():
            added = self._from_executions(session, executions, export_folder)
        for entry in added:
            log.info(
                "journaled %d x %s sold by KIS order %s from KIS's executions (our record of "
                "it was lost), net %+d won",
                entry.quantity,
                entry.code,
                entry.sell_ref,
                entry.net,
            )
        return added

    def _from_executions(
        self, session: date, executions: list[Execution], export_folder: Path
    ) -> list[JournalEntry]:
        done = self._journal.journaled_through(session)
        exported = _exported(export_folder)
        bought_today = _bought(executions, session)
        entries = []
        for sell in executions:
            if sell.side is not Side.SELL or sell.filled_quantity <= 0:
                continue
            missing = sell.filled_quantity - done.get(sell.order_no, 0)
            if missing <= 0:
                continue
            bought = _merged(exported.get(sell.code), bought_today.get(sell.code))
            if bought is None:
                log.warning(
                    "KIS sold %d x %s (order %s) on %s; no buy of it is known (neither that "
                    "session's executions nor the exported ledger): not journaled",
                    sell.filled_quantity,
                    sell.code,
                    sell.order_no,
                    session,
                )
                continue
            owner = self._book.broker_owner(session, sell.order_no)
            record = self._book.get(owner) if owner else None
            reason = record.intent.reason.value if record else Reason.ADOPTED.value
            entries.append(
                closed_trade(
                    sell_ref=sell.order_no,
                    through=sell.filled_quantity,
                    order_id=owner or "",
                    code=sell.code,
                    name=sell.name,
                    quantity=missing,
                    entry_session=bought[1].session,
                    entry_price=bought[0],
                    exit_session=session,
                    exit_price=sell.average_fill_price,
                    reason=reason,
                    sessions_held=held_sessions(self._calendar, bought[1].session, session),
                    costs=self._costs,
                    source=FROM_KIS,
                )
            )
        return self._journal.append(entries)

    def _sell_ref(self, order_id: str) -> str | None:
        """KIS's order number of our sell (our id if it never got one); None without a record."""
        record = self._book.get(order_id)
        if record is None:
            return None
        return record.broker_order_no or order_id


@dataclass(frozen=True)
class _Held:
    quantity: int
    price: Decimal
    session: date


def _exported(folder: Path) -> dict[str, _Held]:
    """The last export's positions by code; nothing when there is none or it is unreadable."""
    try:
        raw = json.loads((folder / "positions.json").read_text(encoding="utf-8"))
        return {
            p["code"]: _Held(
                int(p["quantity"]),
                Decimal(p["average_price"]),
                date.fromisoformat(p["buy_session"]),
            )
            for p in raw["positions"]
        }
    except (OSError, ValueError, KeyError, TypeError, ArithmeticError):
        return {}


def _bought(executions: Iterable[Execution], session: date) -> dict[str, _Held]:
    quantity: dict[str, int] = {}
    amount: dict[str, Decimal] = {}
    for e in executions:
        if e.side is Side.BUY and e.filled_quantity > 0:
            quantity[e.code] = quantity.get(e.code, 0) + e.filled_quantity
            amount[e.code] = amount.get(e.code, Decimal(0)) + (
                e.average_fill_price * e.filled_quantity
            )
    return {
        code: _Held(n, (amount[code] / n).quantize(Decimal("0.0001")), session)
        for code, n in quantity.items()
    }


def _merged(exported: _Held | None, today: _Held | None) -> tuple[Decimal, _Held] | None:
    """The average price and the earliest session of what was held and what was bought."""
    held = [h for h in (exported, today) if h is not None and h.quantity > 0]
    if not held:
        return None
    shares = sum(h.quantity for h in held)
    price = sum((h.price * h.quantity for h in held), Decimal(0)) / shares
    first = min(held, key=lambda h: h.session)
    return price.quantize(Decimal("0.0001")), first
