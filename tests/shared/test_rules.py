"""The pure trading rules at every boundary docs/ARCHITECTURE.md, 'Phases of the day', names."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from shared.infra.clock import KST
from shared.trading.krx_ticks import first_tick_above, is_on_tick, last_tick_below
from shared.trading.market_calendar import KrxCalendar
from shared.trading.orders import Reason
from shared.trading.picks import Pick
from shared.trading.rules import (
    Phase,
    PricedPosition,
    Thresholds,
    buy_limit_price,
    buy_quantity,
    exit_reason,
    expiry_sells,
    in_buy_band,
    in_scope,
    intraday_sells,
    phase_at,
    plan_day,
    profit_rate,
)

TH = Thresholds()
CAL = KrxCalendar()


@pytest.mark.parametrize(
    ("price", "expected"),
    [(9999, False), (10000, True), (10499, True), (10500, False), (10501, False)],
)
def test_buy_band_is_target_inclusive_top_exclusive(price: int, expected: bool) -> None:
    assert in_buy_band(price, 10000, Decimal("1.05")) is expected


def test_buy_band_with_a_target_whose_top_is_not_whole() -> None:
    # 3155 * 1.05 = 3312.75: 3312 is inside, 3313 is not.
    assert in_buy_band(3312, 3155, Decimal("1.05"))
    assert not in_buy_band(3313, 3155, Decimal("1.05"))


def test_buy_quantity_is_the_amount_floor_divided_by_the_price() -> None:
    assert buy_quantity(10000, 10000, 2_000_000, TH.buy_band_ratio) == 200
    assert buy_quantity(10300, 10000, 2_000_000, TH.buy_band_ratio) == 194
    assert buy_quantity(10500, 10000, 2_000_000, TH.buy_band_ratio) == 0
    assert buy_quantity(10000, 10000, 9_999, TH.buy_band_ratio) == 0


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        (10500, None),  # exactly +5.00 %: hold
        (10501, Reason.TAKE_PROFIT),  # just above
        (9700, None),  # exactly -3.00 %: hold
        (9699, Reason.STOP_LOSS),  # just below
        (10000, None),
    ],
)
def test_exit_thresholds_are_strict(price: int, expected: Reason | None) -> None:
    assert exit_reason(Decimal(10000), price, TH) is expected


def test_profit_rate_uses_the_exact_average_price() -> None:
    assert profit_rate(Decimal("3333.3333"), 3500) == pytest.approx(
        Decimal("5.0000005"), abs=Decimal("1e-6")
    )
    assert profit_rate(Decimal(0), 3500) == 0


def test_plan_drops_held_picks_and_splits_cash() -> None:
    picks = [
        Pick("002680", "한타", 3155),
        Pick("177350", "베셀", 7630),
        Pick("096870", "엘디티", 4145),
    ]
    plan = plan_day(date(2026, 3, 3), picks, held={"177350", "005930"}, cash=10_000_001)
    assert [p.code for p in plan.picks] == ["002680", "096870"]
    assert plan.held_picks == ("177350",)
    assert plan.buy_amount == 5_000_000


def test_plan_with_no_picks_buys_nothing() -> None:
    plan = plan_day(date(2026, 3, 3), [], held=(), cash=10_000_000)
    assert plan.buy_amount == 0
    assert plan.picks == ()


def test_plan_with_every_pick_held_buys_nothing() -> None:
    plan = plan_day(date(2026, 3, 3), [Pick("002680", "한타", 3155)], held={"002680"}, cash=1_000)
    assert plan.buy_amount == 0


def at(hhmm: str, day: date = date(2026, 3, 3)) -> datetime:
    h, m = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, h, m, tzinfo=KST)


@pytest.mark.parametrize(
    ("hhmm", "phase"),
    [
        ("08:29", Phase.OVERNIGHT),
        ("08:30", Phase.PREMARKET),
        ("08:59", Phase.PREMARKET),
        ("09:00", Phase.INTRADAY),
        ("15:14", Phase.INTRADAY),
        ("15:15", Phase.PRECLOSE),
        ("15:19", Phase.PRECLOSE),
        ("15:20", Phase.POSTMARKET),
        ("20:00", Phase.POSTMARKET),
    ],
)
def test_phases_of_a_regular_session(hhmm: str, phase: Phase) -> None:
    assert phase_at(at(hhmm), CAL.session(date(2026, 3, 3)), TH) is phase


@pytest.mark.parametrize(
    ("hhmm", "phase"),
    [
        ("09:59", Phase.PREMARKET),
        ("10:00", Phase.INTRADAY),
        ("16:14", Phase.INTRADAY),
        ("16:15", Phase.PRECLOSE),
        ("16:20", Phase.POSTMARKET),
    ],
)
def test_the_csat_day_shifts_every_boundary(hhmm: str, phase: Phase) -> None:
    csat = date(2026, 11, 19)
    assert phase_at(at(hhmm, csat), CAL.session(csat), TH) is phase


def test_first_session_of_the_year_opens_at_ten() -> None:
    day = date(2026, 1, 2)
    assert phase_at(at("09:30", day), CAL.session(day), TH) is Phase.PREMARKET
    assert phase_at(at("10:00", day), CAL.session(day), TH) is Phase.INTRADAY


def test_a_holiday_is_closed() -> None:
    assert (
        phase_at(at("10:00", date(2026, 6, 3)), CAL.session(date(2026, 6, 3)), TH) is Phase.CLOSED
    )


def holding(code: str, price: int, bought: date | None = None, qty: int = 10) -> PricedPosition:
    return PricedPosition(code, f"n{code}", qty, Decimal(10000), price, bought)


def test_intraday_sells_only_past_the_thresholds() -> None:
    sells = intraday_sells(
        date(2026, 3, 3),
        [
            holding("000001", 10500),
            holding("000002", 10501),
            holding("000003", 9699),
            holding("000004", 9700),
            holding("000005", 20000, qty=0),
        ],
        TH,
    )
    assert [(s.code, s.reason) for s in sells] == [
        ("000002", Reason.TAKE_PROFIT),
        ("000003", Reason.STOP_LOSS),
    ]


def test_expiry_counts_krx_sessions_across_holidays() -> None:
    # Bought 2025-09-30; sessions after it: 10-01, 10-02, 10-10, 10-13, 10-14 (Chuseok and
    # Hangul Day closed). Sold at the pre-close of the fifth: 10-14, not before.
    bought = date(2025, 9, 30)
    h = [holding("000001", 10000, bought)]
    assert expiry_sells(date(2025, 10, 13), h, CAL, TH) == []
    assert [s.reason for s in expiry_sells(date(2025, 10, 14), h, CAL, TH)] == [Reason.EXPIRY]
    assert expiry_sells(date(2025, 10, 14), [holding("000002", 10000, None)], CAL, TH) == []


def test_sell_scope() -> None:
    assert in_scope(["000001", "000002"], {"000001": object()}, "bot") == ["000001"]
    assert in_scope(["000001", "000002"], {}, "all") == ["000001", "000002"]


def test_thresholds_follow_settings() -> None:
    from shared.infra.settings import load_settings

    th = Thresholds.from_settings(
        load_settings({"TAKE_PROFIT_PCT": "7.5", "BUY_CUTOFF_MINUTES": "20"})
    )
    assert th.take_profit_pct == Decimal("7.5")
    assert th.buy_cutoff == timedelta(minutes=20)


def test_the_rules_import_no_redis() -> None:
    """The rules are pure: importing them must not pull in a Redis client (or any I/O)."""
    code = "import sys, shared.trading.rules; sys.exit('redis' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


@pytest.mark.parametrize(
    ("target", "limit"),
    [
        (10_000, 10_490),  # 10,500 is the band's top, excluded; ticks of 10 won
        (70_000, 73_400),  # 73,500 excluded; ticks of 100 won
        (200_000, 209_500),  # 210,000 excluded; ticks of 500 won
        (47_700, 50_000),  # the top (50,085) is past a tick boundary: 50,000 is the last tick
        (1_900, 1_994),  # 1,995 excluded; ticks of 1 won
    ],
)
def test_the_buy_limit_is_the_bands_last_tick(target: int, limit: int) -> None:
    assert buy_limit_price(target, TH.buy_band_ratio) == limit
    assert in_buy_band(limit, target, TH.buy_band_ratio)


@pytest.mark.parametrize(
    ("bound", "first"),
    [
        (Decimal("10500"), 10_510),  # a take-profit price on a tick: the next one
        (Decimal("10500.01"), 10_510),
        (Decimal("4999.5"), 5_000),  # into the next bracket, whose first price is on its tick
        (Decimal("19995"), 20_000),
        (Decimal("220501.05"), 221_000),  # ticks of 500 won
        (Decimal("0.5"), 1),
    ],
)
def test_the_first_tick_above_a_bound(bound: Decimal, first: int) -> None:
    assert first_tick_above(bound) == first
    assert is_on_tick(first) and first > bound
    assert last_tick_below(Decimal(first)) <= bound  # no valid price in between
