"""Pure formatting: one notification event and a language in, Discord webhook payloads out.

Each formatter takes its typed event (``shared.events``), so a field it needs cannot be missing.
The payloads may exceed Discord's limits (a long daily summary); :func:`limits.fit` splits them.
A payload off the queue that does not fit the event contract (an unknown kind, a missing or
ill-typed field) is still shown, and logged: its name as the title and every field listed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, assert_never

from services.notifier.limits import Payload
from services.notifier.texts import MISSING, Language, Texts
from shared.events import (
    KIND_FIELD,
    BuyAttempt,
    ClosedDay,
    DailySummary,
    EntriesStopped,
    Event,
    EventError,
    NoPicks,
    OrderAccepted,
    OrderCancelled,
    OrderError,
    OrderEvent,
    OrderFilled,
    OrderProblem,
    OrderRejected,
    OrderUnknown,
    PicksUnreadable,
    PremarketPlan,
    SellAttempt,
    ServiceError,
    ServiceStart,
    ServiceStop,
    from_payload,
    payload_kind,
    to_payload,
)
from shared.kis.models import Side
from shared.orders import OrderStatus, Reason

log = logging.getLogger(__name__)
GREEN = 0x2ECC71
"""Fills, profit."""
RED = 0xE74C3C
"""Stop-loss, losses, rejections, errors."""
BLUE = 0x3498DB
"""Information: plans, attempts, accepted orders, service start."""
ORANGE = 0xE67E22
"""Needs a look: an order whose outcome is unknown."""
GREY = 0x95A5A6
"""Quiet: closed days, cancellations, service stop, nothing to buy."""


@dataclass
class Card:
    """One message before it becomes a payload: a text line plus an embed."""

    colour: int
    title: str
    text: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    description: str = ""
    footer: str = ""


def _title(text: str) -> str:
    return text[:1].upper() + text[1:]


# Events ------------------------------------------------------------------------------------------
def _service_start(e: ServiceStart, t: Texts) -> Card:
    service = e.service or MISSING
    card = Card(BLUE, t("service_start.title"), t("service_start.text", service=service))
    card.fields = [(t("f.service"), service), (t("f.instance"), e.instance or "-")]
    return card


def _service_stop(e: ServiceStop, t: Texts) -> Card:
    service = e.service or MISSING
    card = Card(GREY, t("service_stop.title"), t("service_stop.text", service=service))
    card.fields = [(t("f.service"), service), (t("f.instance"), e.instance or "-")]
    return card


def _premarket_plan(e: PremarketPlan, t: Texts) -> Card:
    text = t(
        "premarket_plan.text",
        session=e.session,
        count=t("stocks", len(e.picks)),
        buy_amount=t.won(e.buy_amount),
    )
    card = Card(BLUE, t("premarket_plan.title"), text)
    card.description = "\n".join(
        t("plan.pick", stock=t.stock(p.code, p.name), target=t.won(p.target)) for p in e.picks
    )
    card.fields = [
        (t("f.cash"), t.won(e.cash)),
        (t("f.buy_amount"), t.won(e.buy_amount)),
        (t("f.held_picks"), t.codes(e.held_picks)),
    ]
    return card


def _no_picks(e: NoPicks, t: Texts) -> Card:
    card = Card(GREY, t("no_picks.title"), t("no_picks.text", session=e.session))
    card.fields = [
        (t("f.picks_given"), t("stocks", e.picks_given)),
        (t("f.held_picks"), t.codes(e.held_picks)),
    ]
    return card


def _picks_error(e: PicksUnreadable, t: Texts) -> Card:
    card = Card(RED, t("picks_error.title"), t("picks_error.text", session=e.session))
    card.description = e.message
    return card


def _entries_stopped(e: EntriesStopped, t: Texts) -> Card:
    card = Card(RED, t("entries_stopped.title"), t("entries_stopped.text", session=e.session))
    card.description = e.message
    return card


def _buy_attempt(e: BuyAttempt, t: Texts) -> Card:
    text = t("buy_attempt.text", stock=t.stock(e.code, e.name), price=t.won(e.price))
    card = Card(BLUE, t("buy_attempt.title"), text)
    card.fields = [
        (t("f.price"), t.won(e.price)),
        (t("f.qty"), t.shares(e.quantity)),
        (t("f.estimate"), t.won(e.price * e.quantity)),
    ]
    return card


SELL_COLOURS = {Reason.TAKE_PROFIT: GREEN, Reason.STOP_LOSS: RED}
"""A sell attempt's colour by reason; any other reason is blue."""


def _sell_attempt(e: SellAttempt, t: Texts) -> Card:
    reason = t.word("reason", e.reason)
    text = t("sell_attempt.text", stock=t.stock(e.code, e.name), reason=reason)
    card = Card(SELL_COLOURS.get(e.reason, BLUE), t("sell_attempt.title", reason=reason), text)
    card.fields = [
        (t("f.price"), t.won(e.price)),
        (t("f.qty"), t.shares(e.quantity)),
        (t("f.reason"), reason),
    ]
    return card


def _order_card(
    e: OrderEvent,
    t: Texts,
    colour: int,
    kind: str,
    qty: str | None = None,
    message: str = "",
    **values: object,
) -> Card:
    """The common shape of the executor's order events."""
    side = t.word("side", e.side.label)
    qty = qty or t.shares(e.quantity)
    title = _title(t(f"{kind}.title", side=side))
    text = t(
        f"{kind}.text",
        stock=t.stock(e.code, e.name),
        side=side,
        qty=qty,
        message=message or MISSING,
        **values,
    )
    card = Card(colour, title, text, footer=e.order_id)
    card.fields = [(t("f.qty"), qty)]
    if e.reason is not Reason.ENTRY:
        card.fields.append((t("f.reason"), t.word("reason", e.reason)))
    if e.broker_order_no:
        # KIS shows order numbers without their leading zeros (0000117057 is order 117057).
        card.fields.append((t("f.broker_no"), e.broker_order_no.lstrip("0") or "0"))
    return card


def _order_accepted(e: OrderAccepted, t: Texts) -> Card:
    card = _order_card(e, t, BLUE, "order_accepted")
    if e.reconciled:
        card.description = t("order_accepted.reconciled")
    return card


def _order_filled(e: OrderFilled, t: Texts) -> Card:
    side = t.word("side", e.side.label)
    reason = t.word("reason", e.reason)
    partial = e.status is OrderStatus.PARTIALLY_FILLED
    qty = t.shares(f"{e.filled_quantity}/{e.quantity}" if partial else e.filled_quantity)
    price = t.won(e.fill_price)
    card = _order_card(e, t, GREEN, "order_filled", qty=qty, price=price)
    card.fields[1:1] = [(t("f.fill_price"), price), (t("f.amount"), t.won(e.amount))]
    if partial:
        card.title = _title(t("order_filled.partial_title", side=side))
    if e.side is Side.SELL:
        card.title = t("order_filled.sell_title", reason=reason)
    sale = e.sale
    if sale is not None:
        shown = f"{t.won(sale.profit, signed=True)} ({t.rate(sale.profit_rate)})"
        card.text = t(
            "order_filled.profit_text",
            stock=t.stock(e.code, e.name),
            qty=t.shares(sale.quantity),
            price=t.won(sale.sell_price),
            reason=reason,
            profit=shown,
        )
        card.fields += [(t("f.buy_price"), t.won(sale.buy_price)), (t("f.profit"), shown)]
        losing = e.reason is Reason.STOP_LOSS or sale.profit < 0
        card.colour = RED if losing else GREEN
    return card


def _order_problem(e: OrderProblem, t: Texts, colour: int) -> Card:
    """A rejection, an unknown outcome, a cancellation or an error: KIS's (or our) words."""
    card = _order_card(e, t, colour, e.kind.value, message=e.message)
    if not isinstance(e, OrderRejected) and e.message:
        # A rejection already quotes KIS's message in its text.
        card.description = e.message
    if e.error_code:
        card.fields.append((t("f.error_code"), e.error_code))
    return card


def _closed_day(e: ClosedDay, t: Texts) -> Card:
    text = t("closed_day.text", day=e.day, next_session=e.next_session)
    card = Card(GREY, t("closed_day.title"), text)
    card.fields = [(t("f.next_session"), e.next_session.isoformat())]
    return card


def _daily_summary(e: DailySummary, t: Texts) -> Card:
    profit = e.realized_profit
    shown_profit = t.won(profit, signed=True)
    colour = GREEN if profit > 0 else RED if profit < 0 else BLUE
    text = t("daily_summary.text", session=e.session, profit=shown_profit)
    card = Card(colour, t("daily_summary.title"), text)
    trades = [
        t(
            "daily_summary.trade",
            stock=t.stock(r.code, r.name),
            qty=t.shares(r.quantity),
            buy=t.won(r.buy_price),
            sell=t.won(r.sell_price),
            reason=t.word("reason", r.reason),
            profit=t.won(r.profit, signed=True),
            rate=t.rate(r.profit_rate),
        )
        for r in e.realized
    ]
    positions = [
        t(
            "daily_summary.position",
            stock=t.stock(p.code, p.name),
            qty=t.shares(p.quantity),
            price=t.won(p.average_price),
            since=p.buy_session,
        )
        for p in e.positions
    ]
    sections = [
        f"**{t('f.trades')}**",
        *(trades or [t("none")]),
        "",
        f"**{t('f.positions')}**",
        *(positions or [t("none")]),
    ]
    card.description = "\n".join(sections)
    counts = " · ".join(f"{t.word('status', s)} {t('count', n)}" for s, n in e.orders.items())
    card.fields = [
        (t("f.profit"), shown_profit),
        (t("f.profit_net"), t.won(e.realized_profit_net, signed=True)),
        (t("f.orderable_cash"), t.won(e.orderable_cash)),
        (t("f.cash_d2"), t.won(e.cash_d2)),
        (t("f.total_value"), t.won(e.total_value)),
        (t("f.orders"), counts or t("none")),
    ]
    return card


def _error(e: ServiceError, t: Texts) -> Card:
    card = Card(RED, t("error.title"), t("error.text", message=e.message or MISSING))
    card.fields = [(t("f.service"), e.service or MISSING), (t("f.phase"), e.phase or MISSING)]
    return card


def typed_card(event: Event, t: Texts) -> Card:
    """The card of a typed event; mypy checks that every kind of the contract has one."""
    match event:
        case ServiceStart():
            return _service_start(event, t)
        case ServiceStop():
            return _service_stop(event, t)
        case PremarketPlan():
            return _premarket_plan(event, t)
        case NoPicks():
            return _no_picks(event, t)
        case PicksUnreadable():
            return _picks_error(event, t)
        case EntriesStopped():
            return _entries_stopped(event, t)
        case BuyAttempt():
            return _buy_attempt(event, t)
        case SellAttempt():
            return _sell_attempt(event, t)
        case OrderAccepted():
            return _order_accepted(event, t)
        case OrderFilled():
            return _order_filled(event, t)
        case OrderRejected() | OrderError():
            return _order_problem(event, t, RED)
        case OrderUnknown():
            return _order_problem(event, t, ORANGE)
        case OrderCancelled():
            return _order_problem(event, t, GREY)
        case ClosedDay():
            return _closed_day(event, t)
        case DailySummary():
            return _daily_summary(event, t)
        case ServiceError():
            return _error(event, t)
        case _:
            assert_never(event)


def generic(payload: Mapping[str, Any]) -> Card:
    """Any payload: its kind as the title, every field listed."""
    name = str(payload.get(KIND_FIELD) or "notification")
    card = Card(BLUE, name, "")
    for key, value in payload.items():
        if key == KIND_FIELD:
            continue
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        card.fields.append((str(key), shown or MISSING))
    return card


def card(event: Event | Mapping[str, Any], language: Language) -> Card:
    """The card of a typed event, or of a payload off the queue (read with ``from_payload``).

    A payload that does not fit the contract is logged and shown by :func:`generic`: a plain
    message beats a lost one.
    """
    if isinstance(event, Mapping):
        try:
            typed = from_payload(event)
        except EventError as e:
            log.warning(
                "notification %s does not fit the event contract, sent as a plain message: %s",
                payload_kind(event),
                e,
            )
            return generic(event)
    else:
        typed = event
    try:
        return typed_card(typed, Texts(language))
    except Exception:
        # Only an event built in-process without the types it declares gets here.
        kind = getattr(typed, "kind", type(typed).__name__)
        log.exception("notification %s could not be formatted; sent as a plain message", kind)
        try:
            return generic(to_payload(typed))
        except EventError:
            return generic({KIND_FIELD: str(kind)})


def render(
    event: Event | Mapping[str, Any], language: Language, at: datetime | None = None
) -> list[Payload]:
    """The Discord payloads for ``event`` (before :func:`limits.fit`); ``at``: when it happened."""
    c = card(event, language)
    embed: Payload = {"title": c.title, "color": c.colour}
    if c.description:
        embed["description"] = c.description
    if c.fields:
        embed["fields"] = [{"name": n, "value": v, "inline": len(v) <= 40} for n, v in c.fields]
    if c.footer:
        embed["footer"] = {"text": c.footer}
    if at is not None:
        embed["timestamp"] = at.isoformat()
    content = f"[{c.title}] {c.text}".strip()
    # Texts from KIS or an exception could contain "@everyone": never let a message ping anyone.
    return [{"content": content, "embeds": [embed], "allowed_mentions": {"parse": []}}]


def as_text(payload: Payload) -> str:
    """A payload as plain lines, for the log when no webhook is configured."""
    lines = [str(payload.get("content") or "")]
    for embed in payload.get("embeds") or []:
        lines += [str(embed.get(k)) for k in ("title", "description") if embed.get(k)]
        lines += [f"{f.get('name')}: {f.get('value')}" for f in embed.get("fields") or []]
        if (embed.get("footer") or {}).get("text"):
            lines.append(str(embed["footer"]["text"]))
    return "\n".join(line for line in lines if line)
