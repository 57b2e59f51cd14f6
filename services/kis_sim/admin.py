"""The ``/sim/`` admin operations (not KIS): inspect and steer the simulator, JSON in and out."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from services.kis_sim.faults import parse_fault
from services.kis_sim.paths import CODE_PATTERN, PathError, parse_paths
from services.kis_sim.simulator import Simulator
from services.kis_sim.stream_hub import MAX_SILENT_SECONDS
from services.kis_sim.views import price_output
from shared.broker.accounts import Holding
from shared.history.csv_import import COLUMNS, CsvBars, CsvError, parse_bars_csv, read_bars_csv

ACCOUNT_PATTERN = re.compile(r"^\d{8}-\d{2}$")


class AdminError(ValueError):
    """A bad admin payload (HTTP 400 with the message)."""


def health(sim: Simulator) -> dict[str, object]:
    """Liveness, the rule set, the clock and where prices come from (``upstream``: a dry
    run's ledger)."""
    return {
        "ok": True,
        "rules": sim.config.rules,
        "now": sim.now().isoformat(),
        "price_feed": sim.config.price_feed,
    }


def stats(sim: Simulator) -> dict[str, object]:
    """Counters, plus the armed faults."""
    with sim.lock:
        feed = sim.feed
        upstream = (
            {"upstream_reads": feed.reads, "upstream_failures": feed.failures} if feed else {}
        )
        return {**sim.stats.as_json(), "faults_armed": sim.faults.armed(), **upstream}


def orders(sim: Simulator) -> dict[str, object]:
    """Every order received (accounts masked), with its real arrival time ``received_epoch``, its
    fills and how many planned fill parts are still to come (``partial_fill``)."""
    with sim.lock:
        rows = [
            {
                "odno": o.odno,
                "account": f"******{o.account[6:]}",
                "code": o.code,
                "side": o.side,
                "qty": o.qty,
                "price": o.price,
                "cancel_of": "" if o.revision else o.origin,
                "revision_of": o.origin if o.revision else "",
                "filled": sum(f.qty for f in o.fills),
                "fills": [
                    {
                        "qty": f.qty,
                        "price": f.price,
                        "filled_kst": f.filled_kst.isoformat(),
                        "fee": f.fee,
                        "tax": f.tax,
                    }
                    for f in o.fills
                ],
                "scheduled": len(o.scheduled),
                "placed_kst": o.placed_kst.isoformat(),
                "received_epoch": o.received_epoch,
            }
            for o in sim.ledger.all_orders()
        ]
    return {"orders": rows}


def set_prices(sim: Simulator, data: object) -> dict[str, object]:
    """Set or replace scripted paths (``[]`` or null drops one; ``names`` sets names)."""
    try:
        scripted = parse_paths(data)
    except PathError as e:
        raise AdminError(str(e)) from None
    with sim.lock:
        changed = sim.market.apply(scripted)
    sim.hub.prices_changed()
    return {"ok": True, "codes": changed}


def replay_bars(sim: Simulator, data: object) -> dict[str, object]:
    """Replay stored bars: ``{"bars": [{"code", "date", "time", "open", "high", "low", "close",
    "volume"}, ...]}`` (the CSV import's columns; ``time`` null or absent for a daily bar) or
    ``{"file": "bars.csv"}`` (a file in that format, read by this process), and optionally
    ``{"halted": {"005930": ["2026-03-04"]}}``. Each minute bar becomes the code's scripted
    points of its day (:mod:`services.kis_sim.replay`); the chart TRs answer the same bars back.
    Checked whole first: a bad row refuses the payload and nothing changes."""
    if not isinstance(data, dict) or not set(data) <= {"bars", "file", "halted"}:
        raise AdminError('body must be {"bars": [...]} or {"file": "..."}, with "halted"')
    checked = _replay_source(sim, data)
    halted = _halted(data.get("halted") or {})
    for code, day in checked.no_trades:
        halted.setdefault(code, []).append(day)
    with sim.lock:
        codes = sim.market.replay([*checked.minute, *checked.daily], halted)
    sim.hub.prices_changed()
    return {
        "ok": True,
        "codes": codes,
        "minute_bars": len(checked.minute),
        "daily_bars": len(checked.daily),
        "halted": sum(len(days) for days in halted.values()),
    }


def price(sim: Simulator, code: str) -> dict[str, object]:
    """The quote of one code as inquire-price would show it now."""
    if not CODE_PATTERN.match(code):
        raise AdminError(f"{code!r} is not a 6-digit code")
    now = sim.now()
    with sim.lock:
        quote = sim.market.quote(code, now)
        return {
            "code": code,
            "name": sim.market.name(code),
            "price": quote.price,
            "scripted": sim.market.is_scripted(code),
            "now": now.isoformat(),
            "output": price_output(quote),
        }


def put_account(sim: Simulator, data: object) -> dict[str, object]:
    """Create or replace an account: ``{"account", "cash", "holdings": [...]}``."""
    if not isinstance(data, dict):
        raise AdminError("body must be a JSON object")
    number = data.get("account")
    if not isinstance(number, str) or not ACCOUNT_PATTERN.match(number):
        raise AdminError("account must look like 12345678-01")
    cash = data.get("cash", sim.config.initial_cash)
    if isinstance(cash, bool) or not isinstance(cash, int) or cash < 0:
        raise AdminError("cash must be a whole number of won >= 0")
    raw_holdings = data.get("holdings") or []
    if not isinstance(raw_holdings, list):
        raise AdminError("holdings must be a list")
    holdings = [_holding(sim, item) for item in raw_holdings]
    if len({h.code for h in holdings}) != len(holdings):
        raise AdminError("holdings list a code twice")
    with sim.lock:
        sim.ledger.replace(number, cash, holdings)
        sim.save()
    return {"ok": True, "account": number, "cash": cash, "holdings": len(holdings)}


def arm_fault(sim: Simulator, data: object) -> dict[str, object]:
    """Arm a fault for the next ``count`` matching KIS requests."""
    try:
        fault = parse_fault(data)
    except ValueError as e:
        raise AdminError(str(e)) from None
    with sim.lock:
        sim.faults.arm(fault)
        return {"ok": True, "faults": sim.faults.armed()}


def clear_faults(sim: Simulator) -> dict[str, object]:
    """Disarm every fault."""
    with sim.lock:
        sim.faults.clear()
    return {"ok": True, "faults": []}


def expire_tokens(sim: Simulator) -> dict[str, object]:
    """Expire every issued token: the next use answers EGW00123."""
    with sim.lock:
        count = sim.tokens.expire_all()
    return {"ok": True, "expired": count}


def stream(sim: Simulator) -> dict[str, object]:
    """The WebSocket side: open sessions, registrations held, the switches and counters."""
    with sim.lock:
        return sim.hub.as_json()


def stream_fault(sim: Simulator, data: object) -> dict[str, object]:
    """``{"kind": "drop"}`` cuts every open socket without a close frame; ``{"kind": "silent",
    "seconds": N}`` sends nothing (no data, no answers, no PINGPONG) for N real seconds."""
    if not isinstance(data, dict) or data.get("kind") not in ("drop", "silent"):
        raise AdminError('body must be {"kind": "drop"} or {"kind": "silent", "seconds": N}')
    seconds = data.get("seconds", 0)
    if data["kind"] == "silent" and (
        isinstance(seconds, bool)
        or not isinstance(seconds, int | float)
        or not 0 < seconds <= MAX_SILENT_SECONDS
    ):
        raise AdminError(f"seconds must be a number in (0, {MAX_SILENT_SECONDS:g}]")
    with sim.lock:
        sim.hub.fault("drop" if data["kind"] == "drop" else "silent", float(seconds))
        return sim.hub.as_json()


def clear_stream_fault(sim: Simulator) -> dict[str, object]:
    """End a silence."""
    with sim.lock:
        sim.hub.clear()
        return sim.hub.as_json()


def reset(sim: Simulator) -> dict[str, object]:
    """Forget everything."""
    sim.reset()
    return {"ok": True}


def _holding(sim: Simulator, item: object) -> Holding:
    if not isinstance(item, dict):
        raise AdminError("each holding must be an object {code, name, qty, avg_price}")
    code = item.get("code")
    if not isinstance(code, str) or not CODE_PATTERN.match(code):
        raise AdminError(f"holding code {code!r} must be 6 digits")
    qty = item.get("qty")
    if isinstance(qty, bool) or not isinstance(qty, int) or qty <= 0:
        raise AdminError(f"{code}: qty must be a whole number > 0")
    try:
        average = Decimal(str(item.get("avg_price")))
    except InvalidOperation:
        raise AdminError(f"{code}: avg_price must be a number") from None
    if not average.is_finite() or average <= 0:
        raise AdminError(f"{code}: avg_price must be > 0")
    name = item.get("name") or sim.market.name(code)
    if not isinstance(name, str):
        raise AdminError(f"{code}: name must be a string")
    # Cost is kept in whole won; qty × avg_price rounds half up.
    cost = int((average * qty).quantize(Decimal(1), rounding="ROUND_HALF_UP"))
    return Holding(code, name, qty, cost)


def _replay_source(sim: Simulator, data: Mapping[str, object]) -> CsvBars:
    if ("bars" in data) == ("file" in data):
        if "halted" in data and "bars" not in data:
            return CsvBars("halted", (), (), ())
        raise AdminError('give either "bars" or "file"')
    if "file" in data:
        name = data["file"]
        if not isinstance(name, str) or not name:
            raise AdminError('"file" must be the path of a bars CSV file')
        try:
            return read_bars_csv(Path(name), sim.calendar)
        except OSError as e:
            raise AdminError(f"cannot read {name}: {e.strerror}") from None
        except CsvError as e:
            raise AdminError(str(e)) from None
    rows = data["bars"]
    if not isinstance(rows, list) or not rows:
        raise AdminError('"bars" must be a non-empty list of bar objects')
    lines = [",".join(COLUMNS)]
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or not set(row) <= set(COLUMNS):
            raise AdminError(f"bars[{i}]: must be an object with keys among {', '.join(COLUMNS)}")
        cells = ["" if row.get(name) is None else str(row[name]) for name in COLUMNS]
        if any("," in cell or "\n" in cell for cell in cells):
            raise AdminError(f"bars[{i}]: values must not hold commas or newlines")
        lines.append(",".join(cells))
    try:
        return parse_bars_csv("\n".join(lines).encode(), "bars", sim.calendar)
    except CsvError as e:
        # The checker numbers lines; the payload's rows are bars[line - 2].
        shown = re.sub(r"line (\d+):", lambda m: f"bars[{int(m.group(1)) - 2}]:", str(e))
        raise AdminError(shown) from None


def _halted(value: object) -> dict[str, list[date]]:
    if not isinstance(value, dict):
        raise AdminError('"halted" must map codes to lists of YYYY-MM-DD days')
    halted: dict[str, list[date]] = {}
    for code, days in value.items():
        if not CODE_PATTERN.match(str(code)) or not isinstance(days, list):
            raise AdminError(f'"halted": {code!r} must be a 6-digit code with a list of days')
        try:
            halted[code] = [date.fromisoformat(str(day)) for day in days]
        except ValueError:
            raise AdminError(f'"halted": {code}: days must be YYYY-MM-DD') from None
    return halted
