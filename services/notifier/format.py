"""Pure formatting: one notification event and a language in, Discord webhook payloads out.

The payloads may exceed Discord's limits (a long daily summary); :func:`limits.fit` splits them.
An event this module does not know, or one whose fields are not what it expects, is still
shown: its name as the title and every field listed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.notifier.limits import Payload
from services.notifier.texts import MISSING, Language, Texts, number

Event = Mapping[str, Any]

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
def _service_start(e: Event, t: Texts) -> Card:
    service = e.get("service") or MISSING
    card = Card(BLUE, t("service_start.title"), t("service_start.text", service=service))
    card.fields = [(t("f.service"), str(service)), (t("f.instance"), str(e.get("instance", "-")))]
    return card


def _service_stop(e: Event, t: Texts) -> Card:
    service = e.get("service") or MISSING
    card = Card(GREY, t("service_stop.title"), t("service_stop.text", service=service))
    card.fields = [(t("f.service"), str(service)), (t("f.instance"), str(e.get("instance", "-")))]
    return card


def _premarket_plan(e: Event, t: Texts) -> Card:
    picks = [p for p in e.get("picks") or [] if isinstance(p, Mapping)]
    text = t(
        "premarket_plan.text",
        session=e.get("session", MISSING),
        count=t("stocks", len(picks)),
        buy_amount=t.won(e.get("buy_amount")),
    )
    card = Card(BLUE, t("premarket_plan.title"), text)
    card.description = "\n".join(
        t("plan.pick", stock=t.stock(p), target=t.won(p.get("target"))) for p in picks
    )
    card.fields = [
        (t("f.cash"), t.won(e.get("cash"))),
        (t("f.buy_amount"), t.won(e.get("buy_amount"))),
        (t("f.held_picks"), t.codes(e.get("held_picks"))),
    ]
    return card


def _no_picks(e: Event, t: Texts) -> Card:
    card = Card(GREY, t("no_picks.title"), t("no_picks.text", session=e.get("session", MISSING)))
    card.fields = [
        (t("f.picks_given"), t("stocks", e.get("picks_given", MISSING))),
        (t("f.held_picks"), t.codes(e.get("held_picks"))),
    ]
    return card


def _picks_error(e: Event, t: Texts) -> Card:
    text = t("picks_error.text", session=e.get("session", MISSING))
    card = Card(RED, t("picks_error.title"), text)
    card.description = str(e.get("message") or "")
    return card


def _buy_attempt(e: Event, t: Texts) -> Card:
    price, qty = number(e.get("price")), number(e.get("qty"))
    text = t("buy_attempt.text", stock=t.stock(e), price=t.won(e.get("price")))
    card = Card(BLUE, t("buy_attempt.title"), text)
    card.fields = [(t("f.price"), t.won(e.get("price"))), (t("f.qty"), t.shares(e.get("qty")))]
    if price is not None and qty is not None:
        card.fields.append((t("f.estimate"), t.won(price * qty)))
    return card


def _sell_attempt(e: Event, t: Texts) -> Card:
    reason = t.word("reason", e.get("reason"))
    colour = {"take_profit": GREEN, "stop_loss": RED}.get(str(e.get("reason")), BLUE)
    text = t("sell_attempt.text", stock=t.stock(e), reason=reason)
    card = Card(colour, t("sell_attempt.title", reason=reason), text)
    card.fields = [
        (t("f.price"), t.won(e.get("price"))),
        (t("f.qty"), t.shares(e.get("qty"))),
        (t("f.reason"), reason),
    ]
    return card


def _order_card(
    e: Event, t: Texts, colour: int, kind: str, qty: str | None = None, **values: object
) -> Card:
    """The common shape of the executor's order events."""
    side = t.word("side", e.get("side"))
    qty = qty or t.shares(e.get("quantity"))
    title = _title(t(f"{kind}.title", side=side))
    text = t(
        f"{kind}.text",
        stock=t.stock(e),
        side=side,
        qty=qty,
        message=e.get("message") or MISSING,
        **values,
    )
    card = Card(colour, title, text, footer=str(e.get("order_id") or ""))
    card.fields = [(t("f.qty"), qty)]
    if e.get("reason") not in (None, "", "entry"):
        card.fields.append((t("f.reason"), t.word("reason", e.get("reason"))))
    if e.get("broker_order_no"):
        # KIS shows order numbers without their leading zeros (0000117057 is order 117057).
        card.fields.append((t("f.broker_no"), str(e["broker_order_no"]).lstrip("0") or "0"))
    return card


def _order_accepted(e: Event, t: Texts) -> Card:
    card = _order_card(e, t, BLUE, "order_accepted")
    if e.get("reconciled"):
        card.description = t("order_accepted.reconciled")
    return card


def _order_filled(e: Event, t: Texts) -> Card:
    side = t.word("side", e.get("side"))
    reason = t.word("reason", e.get("reason"))
    filled = e.get("filled_quantity", e.get("quantity"))
    partial = str(e.get("status")) == "partially_filled"
    qty = t.shares(f"{filled}/{e.get('quantity', MISSING)}" if partial else filled)
    price = t.won(e.get("fill_price"))
    card = _order_card(e, t, GREEN, "order_filled", qty=qty, price=price)
    card.fields[1:1] = [(t("f.fill_price"), price), (t("f.amount"), t.won(e.get("amount")))]
    if partial:
        card.title = _title(t("order_filled.partial_title", side=side))
    if e.get("side") == "sell":
        card.title = t("order_filled.sell_title", reason=reason)
    if "realized_profit" in e:
        profit = number(e.get("realized_profit"))
        shown = f"{t.won(e.get('realized_profit'), signed=True)} ({t.rate(e.get('profit_rate'))})"
        card.text = t(
            "order_filled.profit_text",
            stock=t.stock(e),
            qty=t.shares(e.get("realized_quantity", filled)),
            price=t.won(e.get("sell_price", e.get("fill_price"))),
            reason=reason,
            profit=shown,
        )
        card.fields += [(t("f.buy_price"), t.won(e.get("buy_price"))), (t("f.profit"), shown)]
        losing = e.get("reason") == "stop_loss" or (profit is not None and profit < 0)
        card.colour = RED if losing else GREEN
    return card


def _order_problem(kind: str, colour: int) -> Callable[[Event, Texts], Card]:
    def render(e: Event, t: Texts) -> Card:
        card = _order_card(e, t, colour, kind)
        if kind != "order_rejected" and e.get("message"):
            card.description = str(e["message"])
        if e.get("error_code"):
            card.fields.append((t("f.error_code"), str(e["error_code"])))
        return card

    return render


def _closed_day(e: Event, t: Texts) -> Card:
    day, upcoming = e.get("day", MISSING), e.get("next_session", MISSING)
    card = Card(GREY, t("closed_day.title"), t("closed_day.text", day=day, next_session=upcoming))
    card.fields = [(t("f.next_session"), str(upcoming))]
    return card


def _daily_summary(e: Event, t: Texts) -> Card:
    profit = number(e.get("realized_profit"))
    shown_profit = t.won(e.get("realized_profit"), signed=True)
    colour = GREEN if profit and profit > 0 else RED if profit and profit < 0 else BLUE
    text = t("daily_summary.text", session=e.get("session", MISSING), profit=shown_profit)
    card = Card(colour, t("daily_summary.title"), text)
    trades = [
        t(
            "daily_summary.trade",
            stock=t.stock(r),
            qty=t.shares(r.get("quantity")),
            buy=t.won(r.get("buy_price")),
            sell=t.won(r.get("sell_price")),
            reason=t.word("reason", r.get("reason")),
            profit=t.won(r.get("profit"), signed=True),
            rate=t.rate(r.get("profit_rate")),
        )
        for r in e.get("realized") or []
        if isinstance(r, Mapping)
    ]
    positions = [
        t(
            "daily_summary.position",
            stock=t.stock(p),
            qty=t.shares(p.get("quantity")),
            price=t.won(p.get("average_price")),
            since=p.get("buy_session", MISSING),
        )
        for p in e.get("positions") or []
        if isinstance(p, Mapping)
    ]
    sections = [
        f"**{t('f.trades')}**",
        *(trades or [t("none")]),
        "",
        f"**{t('f.positions')}**",
        *(positions or [t("none")]),
    ]
    card.description = "\n".join(sections)
    orders = e.get("orders")
    orders = orders if isinstance(orders, Mapping) else {}
    counts = " · ".join(f"{t.word('status', s)} {t('count', n)}" for s, n in orders.items())
    card.fields = [
        (t("f.profit"), shown_profit),
        (t("f.balance"), t.won(e.get("cash"))),
        (t("f.total_value"), t.won(e.get("total_value"))),
        (t("f.orders"), counts or t("none")),
    ]
    return card


def _error(e: Event, t: Texts) -> Card:
    card = Card(RED, t("error.title"), t("error.text", message=e.get("message") or MISSING))
    card.fields = [
        (t("f.service"), str(e.get("service") or MISSING)),
        (t("f.phase"), str(e.get("phase") or MISSING)),
    ]
    return card


def generic(e: Event, t: Texts | None = None) -> Card:
    """Any event: its name as the title, every field listed."""
    name = str(e.get("event") or "notification")
    card = Card(BLUE, name, "")
    for key, value in e.items():
        if key == "event":
            continue
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        card.fields.append((str(key), shown or MISSING))
    return card


RENDERERS: dict[str, Callable[[Event, Texts], Card]] = {
    "service_start": _service_start,
    "service_stop": _service_stop,
    "premarket_plan": _premarket_plan,
    "no_picks": _no_picks,
    "picks_error": _picks_error,
    "buy_attempt": _buy_attempt,
    "sell_attempt": _sell_attempt,
    "order_accepted": _order_accepted,
    "order_filled": _order_filled,
    "order_rejected": _order_problem("order_rejected", RED),
    "order_unknown": _order_problem("order_unknown", ORANGE),
    "order_cancelled": _order_problem("order_cancelled", GREY),
    "order_error": _order_problem("order_error", RED),
    "closed_day": _closed_day,
    "daily_summary": _daily_summary,
    "error": _error,
}
"""The events with their own message; any other is shown by :func:`generic`."""


def card(event: Event, language: Language) -> Card:
    """The card of ``event``; a renderer that trips on odd fields falls back to :func:`generic`."""
    renderer = RENDERERS.get(str(event.get("event")), generic)
    try:
        return renderer(event, Texts(language))
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        # A producer sent fields we did not expect: a plain message beats a lost one.
        return generic(event)


def render(event: Event, language: Language, at: datetime | None = None) -> list[Payload]:
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
