"""The order's states as data: the map of allowed transitions is what the order book enforces
(over a real Redis, nothing written on a refusal) and what docs/ARCHITECTURE.md, 'States' shows:
its diagram is generated from the map, its tables name every status and every edge, and every
edge is taken by a named function that exists and is called."""

from __future__ import annotations

import importlib
import inspect
import re
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import redis

from shared.infra.clock import KST, SimulatedClock
from shared.infra.redis_keys import Keys
from shared.kis.models import Side
from shared.state.order_book import OrderBook
from shared.trading.orders import (
    ADOPTED_AS,
    FINAL,
    TRANSITIONS,
    IllegalTransition,
    OrderIntent,
    OrderRecord,
    OrderStatus,
    Reason,
    states_diagram,
)
from tests.conftest import ROOT

KEYS = Keys("kat:")
SESSION = date(2026, 3, 3)
CLOCK = SimulatedClock(datetime(2026, 3, 3, 10, tzinfo=KST), 1.0, time.time())
DOCUMENT = ROOT / "docs" / "ARCHITECTURE.md"
SCRIPT = ROOT / "scripts" / "order_states.py"
WRITERS = (
    "services.executor.placing",
    "services.executor.fills",
    "services.executor.notices",
    "services.executor.reconcile",
    "services.scheduler.closing",
)
"""The modules whose functions change order records' statuses."""
EDGES = {(source, target) for source, targets in TRANSITIONS.items() for target in targets}

S = OrderStatus


# The map ------------------------------------------------------------------------------------
def test_the_map_names_every_status_and_final_means_no_way_out() -> None:
    assert set(TRANSITIONS) == set(OrderStatus)
    assert {S.FILLED, S.REJECTED, S.CANCELLED} == FINAL
    for status in FINAL:
        assert not TRANSITIONS[status]
    # Every status is reachable from a created or adopted record.
    reached, frontier = set(), [S.PENDING, *ADOPTED_AS]
    while frontier:
        status = frontier.pop()
        if status not in reached:
            reached.add(status)
            frontier.extend(TRANSITIONS[status])
    assert reached == set(OrderStatus)


# The order book enforces it, over a real Redis ----------------------------------------------
@pytest.fixture
def book(redis_client: redis.Redis) -> OrderBook:
    return OrderBook(redis_client, KEYS, CLOCK)


def created(book: OrderBook, code: str = "005930") -> OrderRecord:
    record = book.create(OrderIntent(SESSION, code, "삼성전자", Side.BUY, Reason.ENTRY, 10, 70_000))
    assert record is not None
    return record


def stored(client: redis.Redis, order_id: str) -> bytes | None:
    raw = client.get(KEYS.order(order_id))
    assert raw is None or isinstance(raw, bytes)
    return raw


def test_a_transition_outside_the_map_is_refused_and_writes_nothing(
    redis_client: redis.Redis, book: OrderBook
) -> None:
    record = created(book)
    before = stored(redis_client, record.id)
    with pytest.raises(IllegalTransition, match="pending -> filled"):
        book.transition(record.id, S.PENDING, S.FILLED, filled_quantity=10)
    # Refused for every expected status, whatever the record holds now.
    with pytest.raises(IllegalTransition, match="rejected -> pending"):
        book.transition(record.id, [S.SUBMITTING, S.REJECTED], S.PENDING)
    with pytest.raises(IllegalTransition, match="pending -> unknown"):
        book.update(record.id, lambda current: (S.UNKNOWN, {"error_message": "x"}))
    assert stored(redis_client, record.id) == before
    assert book.broker_owner(SESSION, "0000000001") is None

    # A final record leaves nothing.
    assert book.transition(record.id, S.PENDING, S.CANCELLED, error_message="halted")
    final = stored(redis_client, record.id)
    for target in OrderStatus:
        with pytest.raises(IllegalTransition):
            book.update(record.id, lambda current, target=target: (target, {}))  # type: ignore[misc]
    assert stored(redis_client, record.id) == final


def test_fills_that_shrink_are_refused_and_write_nothing(
    redis_client: redis.Redis, book: OrderBook
) -> None:
    record = created(book)
    book.transition(record.id, S.PENDING, S.SUBMITTING)
    book.transition(record.id, S.SUBMITTING, S.ACCEPTED, broker_order_no="0000000007")
    five = {"filled_quantity": 5, "average_fill_price": Decimal(70_000)}
    assert book.transition(record.id, S.ACCEPTED, S.PARTIALLY_FILLED, **five)
    before = stored(redis_client, record.id)
    with pytest.raises(IllegalTransition, match="fills only grow"):
        book.transition(record.id, S.PARTIALLY_FILLED, S.PARTIALLY_FILLED, filled_quantity=3)
    assert stored(redis_client, record.id) == before


def test_only_a_state_kis_can_have_is_adopted(redis_client: redis.Redis, book: OrderBook) -> None:
    intent = OrderIntent(SESSION, "000660", "SK하이닉스", Side.BUY, Reason.ADOPTED, 3, 180_000)
    record = OrderRecord.new(intent, CLOCK.now(), time.time())
    with pytest.raises(IllegalTransition, match="adopted as pending"):
        book.adopt(record)
    assert stored(redis_client, record.id) is None
    assert book.of_day(SESSION) == []
    found = record.advanced(S.ACCEPTED, CLOCK.now(), time.time(), broker_order_no="0000000009")
    assert book.adopt(found) == found


# The document --------------------------------------------------------------------------------
def states_section() -> str:
    text = DOCUMENT.read_text(encoding="utf-8")
    start = text.index("### States\n")
    return text[start : text.index("\n##", start + 1)]


def table_rows(cells: int) -> list[list[str]]:
    """The rows of the section's tables that have ``cells`` cells, header and rule left out."""
    rows = []
    for line in states_section().splitlines():
        if not line.startswith("| `"):
            continue
        row = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(row) == cells:
            rows.append(row)
    return rows


def names(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.processes
def test_the_document_shows_the_diagram_the_map_makes() -> None:
    assert states_diagram() in states_section()
    checked = run_script("--check")
    assert checked.returncode == 0, checked.stderr


@pytest.mark.processes
def test_the_script_finds_and_rewrites_a_stale_diagram(tmp_path: Path) -> None:
    copy = tmp_path / "ARCHITECTURE.md"
    text = DOCUMENT.read_text(encoding="utf-8")
    copy.write_text(text.replace("    pending --> submitting\n", ""), encoding="utf-8")
    stale = run_script("--check", "--document", str(copy))
    assert stale.returncode == 1 and "run python scripts/order_states.py" in stale.stderr
    assert run_script("--document", str(copy)).returncode == 0
    assert copy.read_text(encoding="utf-8") == text


def test_the_status_table_agrees_with_the_map() -> None:
    rows = table_rows(3)
    statuses = [OrderStatus(names(row[0])[0]) for row in rows]
    assert sorted(statuses) == sorted(OrderStatus)
    final = {status for status, row in zip(statuses, rows, strict=True) if row[2] == "final"}
    assert final == FINAL


def test_the_transition_table_is_the_map() -> None:
    documented: set[tuple[OrderStatus, OrderStatus]] = set()
    for row in table_rows(4):
        sources, targets = names(row[0]), names(row[1])
        documented |= {(S(a), S(b)) for a in sources for b in targets}
    # Every edge, and nothing else (an edge taken for two reasons has two rows).
    assert documented == EDGES


def resolve(name: str) -> Callable[..., Any]:
    """``Class.method`` or ``module.function`` in one of WRITERS."""
    for module_name in WRITERS:
        module = importlib.import_module(module_name)
        parts = name.split(".")
        if parts[0] == module_name.rsplit(".", 1)[1]:
            parts = parts[1:]
        found: Any = module
        for part in parts:
            found = getattr(found, part, None)
        if callable(found):
            return found  # type: ignore[no-any-return]
    raise AssertionError(f"{name} is in none of {WRITERS}")


def test_every_edge_is_taken_by_a_named_function_that_writes_records_and_is_called() -> None:
    services = "\n".join(p.read_text() for p in (ROOT / "services").rglob("*.py"))
    for row in table_rows(4):
        takers = names(row[3])
        assert takers, row
        for name in takers:
            source = inspect.getsource(resolve(name))
            assert any(w in source for w in ("transition(", ".update(", ".cancel(")), name
            short = name.rsplit(".", 1)[1]
            calls = re.findall(rf"(?<!def ){short}\(", services)
            assert calls, f"{name} is never called"
