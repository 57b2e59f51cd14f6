"""The trade journal on disk: appended once per key, read by range, corrupt lines named and
skipped, and the track record's figures computed from it (docs/ARCHITECTURE.md, 'Track
record')."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from shared.state.journal import Journal, month_file
from shared.state.track_record import track_record
from shared.trading.costs import TradeCosts
from shared.trading.journal import CorruptEntry, JournalEntry, closed_trade
from shared.trading.performance import performance, trades_csv

COSTS = TradeCosts()


def trade(
    sold: date,
    code: str,
    buy: int,
    sell: int,
    quantity: int = 10,
    *,
    ref: str = "",
    through: int | None = None,
    bought: date | None = None,
) -> JournalEntry:
    return closed_trade(
        sell_ref=ref or f"{code}-{sold}",
        through=quantity if through is None else through,
        order_id=f"{sold:%Y%m%d}-{code}-sell-take_profit",
        code=code,
        name=f"name {code}",
        quantity=quantity,
        entry_session=bought or sold,
        entry_price=Decimal(buy),
        exit_session=sold,
        exit_price=Decimal(sell),
        reason="take_profit" if sell > buy else "stop_loss",
        sessions_held=0 if bought is None else 1,
        costs=COSTS,
    )


def test_an_entry_carries_kis_costs_and_reads_back_the_same() -> None:
    entry = trade(date(2026, 3, 3), "005930", 10_000, 10_500, 7)
    bought, sold = Decimal(70_000), Decimal(73_500)
    assert entry.gross == 3_500
    assert entry.fees == COSTS.fee(bought) + COSTS.fee(sold)
    assert entry.tax == COSTS.tax(sold)
    assert entry.net == entry.gross - entry.fees - entry.tax
    assert JournalEntry.from_json(json.loads(json.dumps(entry.to_json()))) == entry


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"net": 1}, "net 1 is not gross - fees - tax"),
        ({"quantity": 0}, "quantity 0"),
        ({"quantity": "7"}, "quantity is not a whole number"),
        ({"entry_price": "abc"}, "entry_price is not a decimal"),
        ({"exit_session": "2026-02-30"}, "exit_session is not a date"),
        ({"extra": 1}, "unknown ['extra']"),
    ],
)
def test_an_entry_that_does_not_fit_is_refused_with_its_reason(
    change: dict[str, object], says: str
) -> None:
    data = {**trade(date(2026, 3, 3), "005930", 10_000, 10_500).to_json(), **change}
    with pytest.raises(CorruptEntry, match=says.replace("[", r"\[").replace("]", r"\]")):
        JournalEntry.from_json(data)


def test_the_same_trade_is_appended_once(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "sim")
    first = trade(date(2026, 3, 3), "005930", 10_000, 10_500)
    second = trade(date(2026, 4, 1), "000660", 20_000, 19_000)
    assert journal.append([first, second]) == [first, second]
    assert journal.append([first, second]) == []
    assert Journal(tmp_path, "sim").append([second]) == []  # another process, the same files
    read = journal.read()
    assert read.entries == (first, second)
    assert read.corrupt == ()
    assert month_file(journal.folder, date(2026, 3, 3)).name == "trades-2026-03.jsonl"
    assert journal.journaled_through(date(2026, 3, 3)) == {first.sell_ref: 10}


def test_a_range_keeps_the_sells_of_its_sessions(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "sim")
    days = [date(2026, 2, 27), date(2026, 3, 3), date(2026, 3, 31), date(2026, 4, 1)]
    journal.append(trade(d, "005930", 10_000, 10_100) for d in days)
    assert [e.exit_session for e in journal.read(date(2026, 3, 3), date(2026, 3, 31)).entries] == [
        date(2026, 3, 3),
        date(2026, 3, 31),
    ]
    assert journal.read(date(2027, 1, 1), date(2027, 2, 1)).entries == ()


def test_a_corrupt_line_is_named_skipped_and_counted(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "sim")
    good = trade(date(2026, 3, 3), "005930", 10_000, 10_500)
    journal.append([good])
    path = month_file(journal.folder, good.exit_session)
    with path.open("a") as f:
        f.write('{"key": "torn line of a crash"')  # no newline: a write cut short
    later = trade(date(2026, 3, 4), "000660", 20_000, 21_000)
    journal.append([later])  # starts on a line of its own
    with path.open("a") as f:
        f.write('{"key": "an object, not a trade"}\n')
    read = journal.read()
    assert read.entries == (good, later)
    assert [(c.file, c.line) for c in read.corrupt] == [
        ("trades-2026-03.jsonl", 2),
        ("trades-2026-03.jsonl", 4),
    ]
    assert "not JSON" in read.corrupt[0].why
    assert "missing" in read.corrupt[1].why
    answer = track_record(journal, None, None, date(2026, 3, 5))
    assert answer["corrupt_count"] == 2
    assert answer["figures"]["trades"] == 2
    assert any("could not be read" in note for note in answer["notes"])


def test_figures_by_period_and_code_add_up(tmp_path: Path) -> None:
    entries = [
        trade(date(2026, 3, 2), "005930", 10_000, 10_500),
        trade(date(2026, 3, 2), "000660", 20_000, 19_400),
        trade(date(2026, 3, 9), "005930", 10_000, 9_700),
        trade(date(2026, 4, 1), "035720", 5_000, 5_250, 40),
    ]
    record = performance(entries)
    nets = [e.net for e in entries]
    assert record.figures.trades == 4
    assert record.figures.net == sum(nets)
    assert record.figures.wins == 2
    assert str(record.figures.win_rate_pct) == "50.00"
    wins = [n for n in nets if n > 0]
    losses = [n for n in nets if n < 0]
    assert record.figures.profit_factor == (Decimal(sum(wins)) / -sum(losses)).quantize(
        Decimal("0.01")
    )
    assert record.average_win == (Decimal(sum(wins)) / 2).quantize(Decimal("0.01"))
    assert [p.period for p in record.days] == ["2026-03-02", "2026-03-09", "2026-04-01"]
    assert [p.period for p in record.weeks] == ["2026-W10", "2026-W11", "2026-W14"]
    assert [(p.period, p.net) for p in record.months] == [
        ("2026-03", sum(nets[:3])),
        ("2026-04", nets[3]),
    ]
    for periods in (record.days, record.weeks, record.months):
        assert sum(p.net for p in periods) == sum(nets)
        assert sum(p.gross - p.fees - p.tax for p in periods) == sum(nets)
    assert record.codes[0].net == min(c.net for c in record.codes)  # the costliest first
    # The realised curve: +a-b on 03-02, then -c: its fall is from the first day's total.
    day_one = nets[0] + nets[1]
    assert record.realized_drawdown.won == max(0, max(0, day_one) - (day_one + nets[2]))
    csv_rows = trades_csv(entries).splitlines()
    assert csv_rows[0].startswith("exit_session,code,name,quantity")
    assert len(csv_rows) == 5
    rows = list(csv.DictReader(io.StringIO(trades_csv(entries))))
    assert [int(r["net"]) for r in rows] == nets


def test_an_empty_or_future_range_says_why(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "sim")
    journal.append([trade(date(2026, 3, 3), "005930", 10_000, 10_500)])
    today = date(2026, 3, 5)
    empty = track_record(journal, date(2026, 1, 1), date(2026, 1, 31), today)
    assert empty["figures"]["trades"] == 0
    assert empty["figures"]["win_rate_pct"] is None
    assert empty["notes"] == ["no trade was closed from 2026-01-01 to 2026-01-31"]
    future = track_record(journal, date(2027, 1, 1), None, today)
    assert future["notes"][0].startswith("the range starts after today (2026-03-05)")
    assert future["account_drawdown"] is None


def test_the_account_drawdown_is_of_the_closes(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "sim")
    values = [(date(2026, 3, 2), 1_000_000), (date(2026, 3, 3), 1_100_000)]
    values += [(date(2026, 3, 4), 990_000), (date(2026, 3, 5), 1_050_000)]
    for day, value in values:
        assert journal.record_close(day, value)
    assert not journal.record_close(date(2026, 3, 5), 1)  # once a session
    answer = track_record(journal, None, None, date(2026, 3, 6))
    assert answer["account_drawdown"] == {
        "won": 110_000,
        "pct": "10.00",
        "peak": "2026-03-03",
        "trough": "2026-03-04",
    }
