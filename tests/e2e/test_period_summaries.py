"""The last session of a week and a month, traded by the processes with KIS's fees and tax: its
post-market queues the daily, the weekly and the monthly summary, in that order, once, with the
figures the simulator's own fills give (docs/ARCHITECTURE.md, 'Track record')."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from services.notifier.format import as_text, render
from tests.e2e.conftest import Market
from tests.e2e.test_track_record import PICKS, PRICES, round_trips, run_session

pytestmark = [pytest.mark.slow, pytest.mark.processes]

THURSDAY = date(2026, 4, 30)
"""Friday 1 May 2026 is Labour Day: this Thursday ends the week and the month."""


def test_the_weeks_last_session_sums_up_the_week_and_the_month(
    open_market: Callable[..., Market], tmp_path: Path
) -> None:
    market = run_session(open_market, THURSDAY, tmp_path / "data", prices=PRICES, picks=PICKS)
    market.wait(lambda: market.events("monthly_summary"), timeout=180, what="the monthly summary")
    kinds = [e["event"] for e in market.events() if e["event"].endswith("_summary")]
    assert kinds == ["daily_summary", "weekly_summary", "monthly_summary"]

    orders = market.sim_orders()
    expected = round_trips(
        [o for o in orders if o["side"] == "buy"], [o for o in orders if o["side"] == "sell"]
    )
    assert set(expected) == {"000910", "000920"}  # the third pick is kept overnight
    [weekly] = market.events("weekly_summary")
    assert (weekly["period"], weekly["last_session"], weekly["sessions"]) == (
        "2026-W18",
        "2026-04-30",
        4,
    )
    assert (weekly["trades"], weekly["wins"], weekly["losses"]) == (2, 1, 1)
    assert weekly["realized_profit_net"] == sum(expected.values())
    assert weekly["best"]["code"] == "000910"
    assert weekly["best"]["net"] == expected["000910"]
    assert weekly["worst"]["net"] == expected["000920"]
    fills = [f for o in orders for f in o["fills"]]
    sold = [f for o in orders if o["side"] == "sell" for f in o["fills"]]
    assert weekly["tax"] == sum(f["tax"] for f in sold)
    # The buys of the code still held paid their fee, which no closed trade carries yet.
    kept_fees = sum(f["fee"] for o in orders if o["code"] == "000930" for f in o["fills"])
    assert weekly["fees"] == sum(f["fee"] for f in fills) - kept_fees
    [monthly] = market.events("monthly_summary")
    assert (monthly["period"], monthly["sessions"], monthly["trades"]) == ("2026-04", 22, 2)
    assert monthly["realized_profit_net"] == weekly["realized_profit_net"]

    shown = as_text(render(weekly, "ko")[0])
    assert f"{weekly['realized_profit_net']:+,}원" in shown
    assert "주간 결산" in shown
