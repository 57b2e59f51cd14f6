"""The numpy candidate search never skips a point where the rules act: on random bars, the fast
driver places exactly the orders of the plain walk that asks the rules at every point."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import date, time
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.backtest.bar_source import BarArrays
from shared.backtest.candidates import CandidateFinder
from shared.backtest.config import BacktestConfig
from shared.backtest.results import BacktestResult
from shared.backtest.session_path import SessionPath
from shared.backtest.walk import CodeWalk, DayRules, EveryBar
from shared.trading.bars import Bar, BarKind
from shared.trading.market_calendar import KrxCalendar
from shared.trading.picks import Pick
from shared.trading.rules import (
    Phase,
    PricedPosition,
    Thresholds,
    entry_buys,
    expiry_sells,
    intraday_sells,
    phase_at,
)
from tests.backtest.helpers import run, write_picks

SESSIONS = [date(2026, 3, d) for d in (3, 4, 5, 6, 9)]
BEFORE = date(2026, 2, 27)
CODES = ("000010", "000020", "000030")


def random_bars(seed: int, volatility: float) -> tuple[list[Bar], dict[date, dict[str, int]]]:
    """Minute bars (some minutes only, some sessions daily or missing) around 10,000 won, and
    each session's previous close by code."""
    rng = np.random.default_rng(seed)
    bars: list[Bar] = []
    closes: dict[date, dict[str, int]] = {}
    last = {code: int(rng.integers(8_000, 12_000)) for code in CODES}
    for code in CODES:
        bars.append(Bar(code, BEFORE, None, last[code], last[code], last[code], last[code], 1))
    for day in SESSIONS:
        closes[day] = dict(last)
        for code in CODES:
            kind = rng.choice(["minute", "minute", "minute", "daily", "none"])
            if kind == "none":
                continue
            count = int(rng.integers(3, 60))
            # Minutes from before the open to after the close, so every phase is met.
            starts = rng.choice(np.arange(8 * 60 + 50, 15 * 60 + 40), count, replace=False)
            if rng.random() < 0.7:  # most sessions have a bar in the pre-close (15:15-15:19)
                starts = np.append(starts, rng.integers(15 * 60 + 15, 15 * 60 + 20))
            starts = np.unique(starts)
            price = last[code]
            day_bars = []
            for minute in starts:
                step = rng.normal(0.0, volatility, size=4)
                path = [max(1, int(price * (1 + s))) for s in np.cumsum(step)]
                o, c = path[0], path[-1]
                high = max(path) + int(rng.integers(0, 3)) * int(price * volatility)
                low = max(1, min(path) - int(rng.integers(0, 3)) * int(price * volatility))
                day_bars.append(
                    Bar(code, day, time(int(minute) // 60, int(minute) % 60), o, high, low, c, 5)
                )
                price = c
            if kind == "daily":
                o, c = day_bars[0].open, day_bars[-1].close
                high = max(b.high for b in day_bars)
                low = min(b.low for b in day_bars)
                bars.append(Bar(code, day, None, o, high, low, c, 100))
            else:
                bars.extend(day_bars)
            last[code] = price
    return bars, closes


def both_ways(config: BacktestConfig, bars: list[Bar], picks: Path) -> BacktestResult:
    fast = run(config, bars, picks, finder=CandidateFinder())
    plain = run(config, bars, picks, finder=EveryBar())
    assert fast == plain
    return fast


@pytest.mark.slow
@settings(max_examples=120, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    volatility=st.sampled_from([0.002, 0.01, 0.03]),
    take_profit=st.sampled_from(["0.5", "2", "5", "7.25"]),
    stop_loss=st.sampled_from(["-0.5", "-2", "-3", "-6.1"]),
    band=st.sampled_from(["1.001", "1.02", "1.05", "1.3"]),
    expiry=st.integers(1, 3),
    cash=st.sampled_from([5_000, 300_000, 10_000_000]),
    offsets=st.lists(st.integers(-300, 300), min_size=len(SESSIONS), max_size=len(SESSIONS)),
    bars_kind=st.sampled_from([BarKind.MINUTE, BarKind.DAY]),
)
def test_the_fast_search_places_the_orders_of_the_plain_walk(
    seed: int,
    volatility: float,
    take_profit: str,
    stop_loss: str,
    band: str,
    expiry: int,
    cash: int,
    offsets: list[int],
    bars_kind: BarKind,
) -> None:
    bars, closes = random_bars(seed, volatility)
    thresholds = Thresholds(
        take_profit_pct=Decimal(take_profit),
        stop_loss_pct=Decimal(stop_loss),
        buy_band_ratio=Decimal(band),
        expiry_sessions=expiry,
    )
    config = BacktestConfig(
        SESSIONS[0], SESSIONS[-1], cash=cash, bars=bars_kind, thresholds=thresholds
    )
    # Targets around the previous close: some sessions open in the band, some reach it later.
    picks = {
        day: {code: (code, max(1, closes[day][code] + offset)) for code in CODES[:2]}
        for day, offset in zip(SESSIONS, offsets, strict=True)
    }
    with tempfile.TemporaryDirectory() as tmp:
        both_ways(config, bars, write_picks(Path(tmp), picks))


def test_the_random_bars_make_the_rules_act(tmp_path: Path) -> None:
    """The property above is not vacuous: such bars buy, take profits, stop losses, expire."""
    reasons = set()
    for seed in range(12):
        bars, closes = random_bars(seed, 0.01 if seed % 2 else 0.001)
        picks = {day: {code: (code, closes[day][code]) for code in CODES} for day in SESSIONS}
        config = BacktestConfig(SESSIONS[0], SESSIONS[-1], thresholds=Thresholds(expiry_sessions=1))
        result = both_ways(config, bars, write_picks(tmp_path / str(seed), picks))
        reasons |= {o.reason.value for o in result.orders}
    assert reasons == {"entry", "take_profit", "stop_loss", "expiry"}


# The search itself, at the prices where the rules' comparisons turn ---------------------------
DAY = date(2026, 3, 3)
RULES = DayRules(KrxCalendar().session(DAY), KrxCalendar(), Thresholds())  # type: ignore[arg-type]


def acting_bars(walk: CodeWalk) -> list[int]:
    """Bars with a point where the rules act for ``walk``'s pick or position (asked directly)."""
    rules, day = walk.rules, walk.rules.day
    acting = []
    for i in range(len(walk.path)):
        for point in walk.path.points(i):
            phase = phase_at(point.moment, rules.session, rules.thresholds)
            prices = {walk.path.code: point.price}
            priced = [replace(walk.position, price=point.price)] if walk.position else []
            band = rules.thresholds.buy_band_ratio
            if (
                phase is Phase.INTRADAY
                and (
                    (walk.pick and entry_buys(day, [walk.pick], prices, walk.buy_amount, band))
                    or intraday_sells(day, priced, rules.thresholds)
                )
            ) or (
                phase is Phase.PRECLOSE
                and expiry_sells(day, priced, rules.calendar, rules.thresholds)
            ):
                acting.append(i)
                break
    return acting


@st.composite
def walks(draw: st.DrawFn) -> CodeWalk:
    """A pick or a position, and bars whose prices sit on or next to its thresholds."""
    thresholds = Thresholds(
        take_profit_pct=Decimal(draw(st.sampled_from(["0.5", "3", "5", "7.25"]))),
        stop_loss_pct=Decimal(draw(st.sampled_from(["-0.5", "-3", "-6.1"]))),
        buy_band_ratio=Decimal(draw(st.sampled_from(["1.001", "1.01", "1.05", "1.3"]))),
        expiry_sessions=draw(st.integers(1, 2)),
    )
    rules = replace(RULES, thresholds=thresholds)
    target = draw(st.integers(1_000, 200_000))
    average = Decimal(draw(st.integers(1_000, 200_000)))
    band_top = Decimal(target) * thresholds.buy_band_ratio
    edges = [
        Decimal(target),
        band_top,
        average * (100 + thresholds.take_profit_pct) / 100,
        average * (100 + thresholds.stop_loss_pct) / 100,
    ]
    count = draw(st.integers(1, 8))
    minutes = sorted(
        draw(st.sets(st.integers(8 * 60 + 58, 15 * 60 + 22), min_size=count, max_size=count))
    )
    rows = []
    for minute in minutes:
        points = [
            max(1, int(draw(st.sampled_from(edges))) + draw(st.integers(-2, 2))) for _ in range(4)
        ]
        rows.append(
            (
                minute,
                points[0],
                max(points) + draw(st.integers(0, 1)),
                max(1, min(points) - draw(st.integers(0, 1))),
                points[3],
                1,
            )
        )
    path = SessionPath.of_minutes("000010", DAY, BarArrays.of_rows(rows))
    if draw(st.booleans()):
        amount = draw(st.sampled_from([target - 1, target, int(band_top), 10**9]))
        return CodeWalk(
            path, rules, CandidateFinder(), pick=Pick("000010", "", target), buy_amount=amount
        )
    bought = draw(st.sampled_from([DAY, date(2026, 2, 27), date(2026, 2, 20)]))
    position = PricedPosition("000010", "", 10, average, int(average), bought)
    return CodeWalk(path, rules, CandidateFinder(), position=position)


@pytest.mark.slow
@settings(max_examples=600, deadline=None)
@given(walk=walks())
def test_no_bar_where_the_rules_act_is_skipped(walk: CodeWalk) -> None:
    acting = acting_bars(walk)
    finder = CandidateFinder()
    for start in range(len(walk.path) + 1):
        first = next((i for i in acting if i >= start), None)
        found = finder.next_bar(walk, start)
        if first is not None:
            assert found is not None and start <= found <= first, (start, found, acting)
