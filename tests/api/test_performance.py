"""``GET /performance`` and ``/performance/trades.csv`` over the journal on the data volume,
and every bad input answered in words, never a 500 (docs/ARCHITECTURE.md, 'Track record')."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from shared.state.journal import Journal, month_file
from tests.api.day import SESSION
from tests.shared.test_journal import trade

SOLD = [date(2026, 2, 26), date(2026, 3, 2), date(2026, 3, 3)]
"""Sessions with a sale, up to the API's today (tests/api/day.py, 2026-03-03)."""


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    found = Journal(tmp_path, "sim")
    found.append(
        [
            trade(SOLD[0], "005930", 10_000, 10_500),
            trade(SOLD[1], "000660", 20_000, 19_400, 5),
            trade(SOLD[2], "005930", 10_200, 10_710, 8),
        ]
    )
    return found


@pytest.fixture
def api(make_app: Callable[..., Flask], journal: Journal) -> FlaskClient:
    return make_app(DATA_DIR=str(journal.folder.parent.parent)).test_client()


def test_the_record_of_a_range(api: FlaskClient, journal: Journal) -> None:
    answer = api.get("/performance?from=2026-03-01&to=2026-03-03").get_json()
    entries = journal.read(date(2026, 3, 1), date(2026, 3, 3)).entries
    assert len(entries) == 2
    assert answer["start"] == "2026-03-01"
    assert answer["today"] == SESSION.isoformat()
    assert answer["figures"]["trades"] == 2
    assert answer["figures"]["net"] == sum(e.net for e in entries)
    assert answer["figures"]["fees"] == sum(e.fees for e in entries)
    assert answer["figures"]["tax"] == sum(e.tax for e in entries)
    assert [d["period"] for d in answer["days"]] == ["2026-03-02", "2026-03-03"]
    assert [m["period"] for m in answer["months"]] == ["2026-03"]
    assert [c["code"] for c in answer["codes"]] == ["000660", "005930"]  # the loser first
    assert answer["notes"] == []
    everything = api.get("/performance").get_json()
    assert everything["figures"]["trades"] == 3
    assert [m["period"] for m in everything["months"]] == ["2026-02", "2026-03"]


def test_the_trades_as_csv(api: FlaskClient, journal: Journal) -> None:
    response = api.get("/performance/trades.csv?from=2026-03-02")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    expected = journal.read(date(2026, 3, 2)).entries
    assert [(r["code"], int(r["net"])) for r in rows] == [(e.code, e.net) for e in expected]


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("from=2026-3-01", "from must be YYYY-MM-DD"),
        ("to=2026-02-30", "to '2026-02-30' is not a calendar date"),
        ("from=2026-03-03&to=2026-03-01", "the range is reversed"),
        ("from=yesterday", "from must be YYYY-MM-DD"),
    ],
)
def test_a_bad_range_is_a_400_that_says_why(api: FlaskClient, query: str, says: str) -> None:
    for path in ("/performance", "/performance/trades.csv"):
        response = api.get(f"{path}?{query}")
        assert response.status_code == 400, response.get_data(as_text=True)
        assert says in response.get_json()["error"]


@pytest.mark.parametrize(
    ("query", "note"),
    [
        ("from=2025-01-01&to=2025-01-31", "no trade was closed from 2025-01-01 to 2025-01-31"),
        ("from=2027-01-01", "the range starts after today (2026-03-03)"),
    ],
)
def test_an_empty_or_future_range_is_an_empty_record_with_a_note(
    api: FlaskClient, query: str, note: str
) -> None:
    response = api.get(f"/performance?{query}")
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["figures"]["trades"] == 0
    assert answer["figures"]["win_rate_pct"] is None
    assert answer["days"] == []
    assert any(n.startswith(note) for n in answer["notes"]), answer["notes"]


def test_a_corrupt_line_is_named_and_counted(api: FlaskClient, journal: Journal) -> None:
    path = month_file(journal.folder, SOLD[2])
    with path.open("a", encoding="utf-8") as f:
        f.write('{"key": 1}\n\x00\xff garbage\n')
    response = api.get("/performance")
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["figures"]["trades"] == 3
    assert answer["corrupt_count"] == 2
    assert [(c["file"], c["line"]) for c in answer["corrupt"]] == [
        ("trades-2026-03.jsonl", 3),
        ("trades-2026-03.jsonl", 4),
    ]
    csv_rows = api.get("/performance/trades.csv").get_data(as_text=True).splitlines()
    assert len(csv_rows) == 4


def test_no_journal_yet_is_an_empty_record(make_app: Callable[..., Flask], tmp_path: Path) -> None:
    api = make_app(DATA_DIR=str(tmp_path / "nothing")).test_client()
    answer = api.get("/performance").get_json()
    assert answer["figures"]["trades"] == 0
    assert answer["notes"] == ["no trade was closed from the start to today"]


# The history page ------------------------------------------------------------------------------
def test_the_history_page_draws_the_closes_the_calendar_and_the_trades(
    api: FlaskClient, journal: Journal
) -> None:
    for day, value in ((SOLD[0], 10_000_000), (SOLD[1], 10_050_000), (SOLD[2], 9_990_000)):
        journal.record_close(day, value)
    page = api.get("/history").get_data(as_text=True)
    assert 'id="value-chart"' in page
    assert page.count('<tr class="trade"') == 3
    entries = journal.read().entries
    by_day = {e.exit_session: e.net for e in entries}
    for day, net in by_day.items():
        tone = "up" if net > 0 else "down"
        assert f'class="day {tone} s' in page
        assert f'data-day="{day}"' in page
    assert 'data-month="2026-02"' in page and 'data-month="2026-03"' in page
    # The averages in whole won, as every other figure on the page.
    [averages] = re.findall(r"<dt>Average win · loss</dt><dd>(.*?)</dd>", page)
    wins = [Decimal(e.net) for e in entries if e.net > 0]
    average_win = (sum(wins) / len(wins)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    assert re.sub(r"<[^>]+>", "", averages).startswith(f"+{int(average_win):,} · −")
    assert "." not in averages
    losing = [e for e in entries if e.net < 0]
    assert losing and all(e.code == "000660" for e in losing)
    only = api.get("/history?code=000660").get_data(as_text=True)
    assert only.count('<tr class="trade"') == 1
    assert 'data-code="000660" data-reason="stop_loss"' in only
    by_reason = api.get("/history?reason=take_profit").get_data(as_text=True)
    assert by_reason.count('<tr class="trade"') == 2


def test_the_history_page_answers_bad_input_in_words(api: FlaskClient, journal: Journal) -> None:
    assert api.get("/history?from=2026-03-03&to=2026-03-01").status_code == 400
    empty = api.get("/history?from=2025-01-01&to=2025-01-31")
    assert empty.status_code == 200
    text = empty.get_data(as_text=True)
    assert "no trade was closed from 2025-01-01 to 2025-01-31" in text
    assert 'id="value-empty"' in text
    path = month_file(journal.folder, SOLD[2])
    with path.open("a", encoding="utf-8") as f:
        f.write("{broken\n")
    assert 'id="corrupt"' in api.get("/history").get_data(as_text=True)


def test_the_status_page_shows_the_month_and_links_the_history(
    api: FlaskClient, journal: Journal, day: object
) -> None:
    page = api.get("/").get_data(as_text=True)
    month = journal.read(date(2026, 3, 1), date(2026, 3, 3)).entries
    assert 'id="history-link" href="/history"' in page
    assert f'id="month-trades">{len(month)}' in page
