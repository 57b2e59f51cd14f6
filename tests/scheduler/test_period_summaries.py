"""The weekly and monthly summaries (docs/ARCHITECTURE.md, 'Track record'): from the journal on
the data volume, after the period's last session only, each once across a restart and a wiped
Redis, queued as the notifier reads them (a real Redis, the contract checked)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import redis

from services.scheduler.notices import QueueNotifier
from services.scheduler.period_summaries import PeriodSummaries
from shared.infra.redis_keys import Keys
from shared.state.journal import Journal
from shared.state.once import OnceMarks
from shared.trading.costs import TradeCosts
from shared.trading.journal import JournalEntry, closed_trade
from shared.trading.market_calendar import KrxCalendar
from tests.notifier.samples import queued_payloads

KEYS = Keys()
COSTS = TradeCosts(Decimal("0.015"), Decimal("0.20"))
THURSDAY = date(2026, 4, 30)
"""The last session of its week (Friday 1 May is a holiday) and of April."""


def sale(code: str, bought: int, sold: int, day: date, ref: str) -> JournalEntry:
    return closed_trade(
        sell_ref=ref,
        through=10,
        order_id=f"{day:%Y%m%d}-{code}-sell",
        code=code,
        name=f"종목{code}",
        quantity=10,
        entry_session=date(2026, 4, 1),
        entry_price=Decimal(bought),
        exit_session=day,
        exit_price=Decimal(sold),
        reason="take_profit" if sold > bought else "stop_loss",
        sessions_held=3,
        costs=COSTS,
    )


def summaries(client: redis.Redis, data: Path) -> PeriodSummaries:
    """A fresh object, as a scheduler that (re)starts builds it."""
    return PeriodSummaries(
        Journal(data, "sim"),
        KrxCalendar(),
        OnceMarks(client, KEYS, data / "once"),
        QueueNotifier(client, KEYS),
    )


def test_the_week_and_the_month_are_summed_up_once_after_their_last_session(
    redis_client: redis.Redis, tmp_path: Path
) -> None:
    journal = Journal(tmp_path, "sim")
    week = [
        sale("000910", 10000, 10500, date(2026, 4, 28), "1"),
        sale("000920", 10000, 9700, date(2026, 4, 29), "2"),
        sale("000910", 10000, 10300, THURSDAY, "3"),
    ]
    earlier = sale("000930", 20000, 19000, date(2026, 4, 14), "4")
    journal.append([earlier, *week])
    for day, value in [
        (date(2026, 4, 24), 10_000_000),
        (date(2026, 4, 27), 10_050_000),
        (date(2026, 4, 28), 9_990_000),
        (date(2026, 4, 29), 10_020_000),
        (THURSDAY, 10_060_000),
    ]:
        journal.record_close(day, value)

    assert summaries(redis_client, tmp_path).after_close(date(2026, 4, 29)) == []
    sent = summaries(redis_client, tmp_path).after_close(THURSDAY)
    assert [s.kind.value for s in sent] == ["weekly_summary", "monthly_summary"]

    [weekly] = queued_payloads(redis_client, "weekly_summary")
    nets = [e.net for e in week]
    assert weekly["period"] == "2026-W18"
    assert (weekly["first_session"], weekly["last_session"]) == ("2026-04-27", "2026-04-30")
    assert weekly["sessions"] == 4
    assert (weekly["trades"], weekly["wins"], weekly["losses"]) == (3, 2, 1)
    assert weekly["realized_profit_net"] == sum(nets)
    assert weekly["realized_profit"] == sum(e.gross for e in week)
    assert weekly["fees"] == sum(e.fees for e in week)
    assert weekly["tax"] == sum(e.tax for e in week)
    assert weekly["win_rate_pct"] == "66.67"
    loss = -nets[1]
    assert Decimal(weekly["profit_factor"]) == round(Decimal(nets[0] + nets[2]) / loss, 2)
    assert weekly["best"]["code"] == "000910"
    assert weekly["best"]["net"] == nets[0] + nets[2]
    assert weekly["worst"] == {"code": "000920", "name": "종목000920", "net": nets[1]}
    # From the week before's last close (10,000,000): peak 10,050,000, trough 9,990,000.
    assert weekly["max_drawdown_won"] == 60_000
    assert weekly["max_drawdown_pct"] == "0.60"

    [monthly] = queued_payloads(redis_client, "monthly_summary")
    assert monthly["period"] == "2026-04"
    assert monthly["trades"] == 4
    assert monthly["realized_profit_net"] == sum(nets) + earlier.net
    assert monthly["worst"]["code"] == "000930"

    # A restart, then a Redis that lost its marks: the volume's marks still say it was told.
    assert summaries(redis_client, tmp_path).after_close(THURSDAY) == []
    for key in redis_client.scan_iter(match="kat:once:*"):
        redis_client.delete(key)
    assert summaries(redis_client, tmp_path).after_close(THURSDAY) == []
    assert len(queued_payloads(redis_client, "weekly_summary")) == 1
    assert len(queued_payloads(redis_client, "monthly_summary")) == 1


def test_a_week_without_a_trade_still_gets_its_summary(
    redis_client: redis.Redis, tmp_path: Path
) -> None:
    [sent] = summaries(redis_client, tmp_path).after_close(date(2026, 3, 6))
    assert sent.kind.value == "weekly_summary"
    [weekly] = queued_payloads(redis_client, "weekly_summary")
    assert weekly["period"] == "2026-W10"
    assert weekly["sessions"] == 4  # Monday 2 March makes up for Independence Movement Day
    assert weekly["first_session"] == "2026-03-03"
    assert (weekly["trades"], weekly["realized_profit_net"]) == (0, 0)
    assert weekly["win_rate_pct"] is None and weekly["best"] is None
    assert weekly["max_drawdown_won"] is None  # no close kept
