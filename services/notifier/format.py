"""Pure formatting: one notification event and a language in, Discord webhook payloads out.

Each formatter takes its typed event (``shared.messaging.events``), so a field it needs cannot be
missing. The payloads may exceed Discord's limits (a long daily summary); :func:`limits.fit` splits
them. A payload off the queue that does not fit the event contract (an unknown kind, a missing or
ill-typed field) is still shown, and logged: its name as the title and every field listed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, assert_never

from services.notifier.limits import Payload
from services.notifier.texts import MISSING, Language, Texts
from shared.infra.clock import KST
from shared.kis.models import Side
from shared.messaging.events import (
    KIND_FIELD,
    BuyAttempt,
    ClosedDay,
    CodeNet,
    DailySummary,
    EntriesStopped,
    Event,
    EventError,
    KisBack,
    KisOutage,
    LimitTripped,
    MonthlySummary,
    NoPicks,
    OrderAccepted,
    OrderCancelled,
    OrderError,
    OrderEvent,
    OrderFilled,
    OrderProblem,
    OrderRejected,
    OrderUnknown,
    OrderWaiting,
    PeriodSummary,
    PicksUnreadable,
    PremarketPlan,
    SellAttempt,
    ServiceError,
    ServiceStart,
    ServiceStop,
    WeeklySummary,
    from_payload,
    payload_kind,
    to_payload,
)
from shared.trading.orders import OrderStatus, Reason

log = logging.getLogger(__name__)
GREEN = 0x2ECC71
"""Buy fills, KIS answering again."""
RED = 0xE74C3C
"""Rejections, errors; and a gain (the Korean market's colours: red up, blue down)."""
BLUE = 0x3498DB
"""Information: plans, attempts, accepted orders, service start; and a loss (blue down)."""
UP = RED
"""A profit, a take-profit: red, as Korean quotes show a rise."""
DOWN = BLUE
"""A loss, a stop-loss: blue, as Korean quotes show a fall."""
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


def pnl_colour(won: int) -> int:
    """Red for a gain, blue for a loss, grey for neither (the Korean market's colours)."""
    return UP if won > 0 else DOWN if won < 0 else GREY


def _title(text: str) -> str:
    return text[:1].upper() + text[1:]


# Events ------------------------------------------------------------------------------------------
def _service_start(event: ServiceStart, texts: Texts) -> Card:
    service = event.service or MISSING
    card = Card(BLUE, texts("service_start.title"), texts("service_start.text", service=service))
    card.fields = [(texts("f.service"), service), (texts("f.instance"), event.instance or "-")]
    return card


def _service_stop(event: ServiceStop, texts: Texts) -> Card:
    service = event.service or MISSING
    card = Card(GREY, texts("service_stop.title"), texts("service_stop.text", service=service))
    card.fields = [(texts("f.service"), service), (texts("f.instance"), event.instance or "-")]
    return card


def _premarket_plan(event: PremarketPlan, texts: Texts) -> Card:
    text = texts(
        "premarket_plan.text",
        session=event.session,
        count=texts("stocks", len(event.picks)),
        buy_amount=texts.won(event.buy_amount),
    )
    card = Card(BLUE, texts("premarket_plan.title"), text)
    card.description = "\n".join(
        texts("plan.pick", stock=texts.stock(p.code, p.name), target=texts.won(p.target))
        for p in event.picks
    )
    card.fields = [
        (texts("f.cash"), texts.won(event.cash)),
        (texts("f.buy_amount"), texts.won(event.buy_amount)),
        (texts("f.held_picks"), texts.codes(event.held_picks)),
    ]
    return card


def _no_picks(event: NoPicks, texts: Texts) -> Card:
    card = Card(GREY, texts("no_picks.title"), texts("no_picks.text", session=event.session))
    card.fields = [
        (texts("f.picks_given"), texts("stocks", event.picks_given)),
        (texts("f.held_picks"), texts.codes(event.held_picks)),
    ]
    return card


def _picks_error(event: PicksUnreadable, texts: Texts) -> Card:
    card = Card(RED, texts("picks_error.title"), texts("picks_error.text", session=event.session))
    card.description = event.message
    return card


def _entries_stopped(event: EntriesStopped, texts: Texts) -> Card:
    card = Card(
        RED, texts("entries_stopped.title"), texts("entries_stopped.text", session=event.session)
    )
    card.description = event.message
    return card


def _limit_tripped(event: LimitTripped, texts: Texts) -> Card:
    text = texts(
        "limit_tripped.text", session=event.session, limit=event.limit, value=f"{event.value:,}"
    )
    card = Card(RED, texts("limit_tripped.title"), text)
    card.description = event.message
    return card


def _buy_attempt(event: BuyAttempt, texts: Texts) -> Card:
    stock, price = texts.stock(event.code, event.name), texts.won(event.price)
    if event.target is None:
        text = texts("buy_attempt.untargeted", stock=stock, price=price)
    else:
        target = texts.won(event.target)
        text = texts("buy_attempt.text", stock=stock, target=target, price=price)
    card = Card(BLUE, texts("buy_attempt.title"), text)
    card.fields = [(texts("f.target"), texts.won(event.target))] if event.target else []
    card.fields += [
        (texts("f.price"), texts.won(event.price)),
        (texts("f.qty"), texts.shares(event.quantity)),
        (texts("f.estimate"), texts.won(event.price * event.quantity)),
    ]
    return card


SELL_COLOURS = {Reason.TAKE_PROFIT: UP, Reason.STOP_LOSS: DOWN}
"""A sell attempt's colour by reason (red up, blue down); any other reason is grey."""


def _sell_attempt(event: SellAttempt, texts: Texts) -> Card:
    reason = texts.word("reason", event.reason)
    text = texts("sell_attempt.text", stock=texts.stock(event.code, event.name), reason=reason)
    card = Card(
        SELL_COLOURS.get(event.reason, GREY), texts("sell_attempt.title", reason=reason), text
    )
    card.fields = [
        (texts("f.price"), texts.won(event.price)),
        (texts("f.qty"), texts.shares(event.quantity)),
        (texts("f.reason"), reason),
    ]
    return card


def _order_card(
    event: OrderEvent,
    texts: Texts,
    colour: int,
    kind: str,
    qty: str | None = None,
    message: str = "",
    **values: object,
) -> Card:
    """The common shape of the executor's order events."""
    side = texts.word("side", event.side.label)
    qty = qty or texts.shares(event.quantity)
    title = _title(texts(f"{kind}.title", side=side, **values))
    text = texts(
        f"{kind}.text",
        stock=texts.stock(event.code, event.name),
        side=side,
        qty=qty,
        message=message or MISSING,
        **values,
    )
    card = Card(colour, title, text, footer=event.order_id)
    card.fields = [(texts("f.qty"), qty)]
    if event.reason is not Reason.ENTRY:
        card.fields.append((texts("f.reason"), texts.word("reason", event.reason)))
    if event.broker_order_no:
        # KIS shows order numbers without their leading zeros (0000117057 is order 117057).
        card.fields.append((texts("f.broker_no"), event.broker_order_no.lstrip("0") or "0"))
    return card


def _order_accepted(event: OrderAccepted, texts: Texts) -> Card:
    card = _order_card(event, texts, BLUE, "order_accepted")
    if event.reconciled:
        card.description = texts("order_accepted.reconciled")
    return card


def _order_waiting(event: OrderWaiting, texts: Texts) -> Card:
    auction = texts.word("auction", event.auction)
    return _order_card(event, texts, BLUE, "order_waiting", auction=auction)


def _order_filled(event: OrderFilled, texts: Texts) -> Card:
    side = texts.word("side", event.side.label)
    reason = texts.word("reason", event.reason)
    partial = event.status is OrderStatus.PARTIALLY_FILLED
    qty = texts.shares(
        f"{event.filled_quantity}/{event.quantity}" if partial else event.filled_quantity
    )
    price = texts.won(event.fill_price)
    card = _order_card(event, texts, GREEN, "order_filled", qty=qty, price=price)
    card.fields[1:1] = [
        (texts("f.fill_price"), price),
        (texts("f.amount"), texts.won(event.amount)),
    ]
    if partial:
        card.title = _title(texts("order_filled.partial_title", side=side))
    if event.side is Side.SELL:
        card.title = texts("order_filled.sell_title", reason=reason)
    sale = event.sale
    if sale is not None:
        shown = f"{texts.won(sale.profit, signed=True)} ({texts.rate(sale.profit_rate)})"
        card.text = texts(
            "order_filled.profit_text",
            stock=texts.stock(event.code, event.name),
            qty=texts.shares(sale.quantity),
            price=texts.won(sale.sell_price),
            reason=reason,
            profit=shown,
        )
        card.fields += [
            (texts("f.buy_price"), texts.won(sale.buy_price)),
            (texts("f.profit"), shown),
        ]
        card.colour = pnl_colour(sale.profit)
    return card


def _order_problem(event: OrderProblem, texts: Texts, colour: int) -> Card:
    """A rejection, an unknown outcome, a cancellation or an error: KIS's (or our) words."""
    card = _order_card(event, texts, colour, event.kind.value, message=event.message)
    if not isinstance(event, OrderRejected) and event.message:
        # A rejection already quotes KIS's message in its text.
        card.description = event.message
    if event.error_code:
        card.fields.append((texts("f.error_code"), event.error_code))
    return card


def _closed_day(event: ClosedDay, texts: Texts) -> Card:
    text = texts("closed_day.text", day=event.day, next_session=event.next_session)
    card = Card(GREY, texts("closed_day.title"), text)
    card.fields = [(texts("f.next_session"), event.next_session.isoformat())]
    return card


def _daily_summary(event: DailySummary, texts: Texts) -> Card:
    profit = event.realized_profit
    shown_profit = texts.won(profit, signed=True)
    colour = pnl_colour(profit)
    text = texts("daily_summary.text", session=event.session, profit=shown_profit)
    card = Card(colour, texts("daily_summary.title"), text)
    trades = [
        texts(
            "daily_summary.trade",
            stock=texts.stock(r.code, r.name),
            qty=texts.shares(r.quantity),
            buy=texts.won(r.buy_price),
            sell=texts.won(r.sell_price),
            reason=texts.word("reason", r.reason),
            profit=texts.won(r.profit, signed=True),
            rate=texts.rate(r.profit_rate),
        )
        for r in event.realized
    ]
    positions = [
        texts(
            "daily_summary.position",
            stock=texts.stock(p.code, p.name),
            qty=texts.shares(p.quantity),
            price=texts.won(p.average_price),
            since=p.buy_session,
        )
        for p in event.positions
    ]
    sections = [
        f"**{texts('f.trades')}**",
        *(trades or [texts("none")]),
        "",
        f"**{texts('f.positions')}**",
        *(positions or [texts("none")]),
    ]
    card.description = "\n".join(sections)
    counts = " · ".join(
        f"{texts.word('status', status)} {texts('count', n)}" for status, n in event.orders.items()
    )
    card.fields = [
        (texts("f.profit"), shown_profit),
        (texts("f.profit_net"), texts.won(event.realized_profit_net, signed=True)),
        (texts("f.orderable_cash"), texts.won(event.orderable_cash)),
        (texts("f.cash_d2"), texts.won(event.cash_d2)),
        (texts("f.total_value"), texts.won(event.total_value)),
        (texts("f.orders"), counts or texts("none")),
    ]
    return card


def _period_summary(event: PeriodSummary, texts: Texts) -> Card:
    """A week's or a month's track record; coloured by its net P&L (red up, blue down)."""
    kind = event.kind.value
    net = texts.won(event.realized_profit_net, signed=True)
    span = texts(
        "period.span",
        first=event.first_session,
        last=event.last_session,
        sessions=texts("sessions", event.sessions),
    )
    drawdown = MISSING
    if event.max_drawdown_won is not None:
        drawdown = texts.won(-event.max_drawdown_won, signed=event.max_drawdown_won > 0)
        if event.max_drawdown_won and event.max_drawdown_pct is not None:
            drawdown += f" ({-event.max_drawdown_pct:.2f}%)"
    if event.trades == 0:
        text = texts(f"{kind}.empty", period=event.period)
        card = Card(GREY, texts(f"{kind}.title"), text, description=span)
        card.fields = [(texts("f.max_drawdown"), drawdown)]
        return card
    text = texts(f"{kind}.text", period=event.period, net=net)
    card = Card(pnl_colour(event.realized_profit_net), texts(f"{kind}.title"), text)
    card.description = span
    if event.profit_factor is not None:
        factor = f"{event.profit_factor:.2f}"
    else:
        factor = texts("period.no_loss") if event.wins else MISSING
    card.fields = [
        (texts("f.profit_net"), net),
        (texts("f.profit"), texts.won(event.realized_profit, signed=True)),
        (
            texts("f.costs"),
            texts("period.costs", fees=texts.won(event.fees), tax=texts.won(event.tax)),
        ),
        (
            texts("f.trade_count"),
            texts("period.trades", trades=event.trades, wins=event.wins, losses=event.losses),
        ),
        (
            texts("f.win_rate"),
            MISSING if event.win_rate_pct is None else f"{event.win_rate_pct:.2f}%",
        ),
        (texts("f.profit_factor"), factor),
        (texts("f.best"), _code_net(event.best, texts)),
        (texts("f.worst"), _code_net(event.worst, texts)),
        (texts("f.max_drawdown"), drawdown),
    ]
    return card


def _code_net(found: CodeNet | None, texts: Texts) -> str:
    if found is None:
        return MISSING
    return f"{texts.stock(found.code, found.name)} {texts.won(found.net, signed=True)}"


def _error(event: ServiceError, texts: Texts) -> Card:
    card = Card(RED, texts("error.title"), texts("error.text", message=event.message or MISSING))
    card.fields = [
        (texts("f.service"), event.service or MISSING),
        (texts("f.phase"), event.phase or MISSING),
    ]
    return card


def _kis_outage(event: KisOutage, texts: Texts) -> Card:
    card = Card(RED, texts("kis_outage.title"), texts("kis_outage.text", since=_hms(event)))
    card.description = event.detail
    return card


def _kis_back(event: KisBack, texts: Texts) -> Card:
    minutes = max(0, round((event.until_kst - event.since_kst).total_seconds() / 60))
    text = texts("kis_back.text", since=_hms(event), minutes=minutes)
    return Card(GREEN, texts("kis_back.title"), text)


def _hms(event: KisOutage | KisBack) -> str:
    """The outage's start, KST wall time (real, not the simulated clock)."""
    return f"{event.since_kst.astimezone(KST):%H:%M:%S}"


def typed_card(event: Event, texts: Texts) -> Card:
    """The card of a typed event; mypy checks that every kind of the contract has one."""
    match event:
        case ServiceStart():
            return _service_start(event, texts)
        case ServiceStop():
            return _service_stop(event, texts)
        case PremarketPlan():
            return _premarket_plan(event, texts)
        case NoPicks():
            return _no_picks(event, texts)
        case PicksUnreadable():
            return _picks_error(event, texts)
        case EntriesStopped():
            return _entries_stopped(event, texts)
        case LimitTripped():
            return _limit_tripped(event, texts)
        case BuyAttempt():
            return _buy_attempt(event, texts)
        case SellAttempt():
            return _sell_attempt(event, texts)
        case OrderAccepted():
            return _order_accepted(event, texts)
        case OrderWaiting():
            return _order_waiting(event, texts)
        case OrderFilled():
            return _order_filled(event, texts)
        case OrderRejected() | OrderError():
            return _order_problem(event, texts, RED)
        case OrderUnknown():
            return _order_problem(event, texts, ORANGE)
        case OrderCancelled():
            return _order_problem(event, texts, GREY)
        case ClosedDay():
            return _closed_day(event, texts)
        case DailySummary():
            return _daily_summary(event, texts)
        case WeeklySummary() | MonthlySummary():
            return _period_summary(event, texts)
        case ServiceError():
            return _error(event, texts)
        case KisOutage():
            return _kis_outage(event, texts)
        case KisBack():
            return _kis_back(event, texts)
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
        except EventError as error:
            log.warning(
                "notification %s does not fit the event contract, sent as a plain message: %s",
                payload_kind(event),
                error,
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
    event: Event | Mapping[str, Any],
    language: Language,
    queued_epoch: float | None = None,
    label: str | None = None,
) -> list[Payload]:
    """The Discord payloads for ``event`` (before :func:`limits.fit`); ``queued_epoch``: when it
    was queued, in real Unix seconds (the embed's timestamp, which Discord shows in the reader's
    time zone); ``label`` (a dry run's ``DRY RUN``) opens the message and its title."""
    made = card(event, language)
    opening = f"[{label}] " if label else ""
    embed: Payload = {"title": f"{opening}{made.title}", "color": made.colour}
    if made.description:
        embed["description"] = made.description
    if made.fields:
        embed["fields"] = [
            {"name": name, "value": value, "inline": len(value) <= 40}
            for name, value in made.fields
        ]
    if made.footer:
        embed["footer"] = {"text": made.footer}
    if queued_epoch is not None:
        embed["timestamp"] = datetime.fromtimestamp(queued_epoch, UTC).isoformat()
    content = f"{opening}[{made.title}] {made.text}".strip()
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
