"""The replay driver: sampled sessions played twice, by the fast driver and by the whole system
replaying the same bars, and their orders compared.

See docs/ARCHITECTURE.md, 'Backtest', 'Replay'. Each session starts from the same flat account
(the config's cash, no position) in both drivers: the system cannot be told when a seeded
position was bought (its expiry) without writing our own Redis records by hand, so neither
driver carries positions into a sampled session. The fast driver runs that one session with
``slippage_ticks=0``, as the simulator fills a market order at the price without slippage.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from shared.backtest.bar_source import BarSource
from shared.backtest.config import DEFAULT_REPLAY_SPEED, BacktestConfig
from shared.backtest.driver import run_backtest, trading_sessions
from shared.backtest.market_data import BacktestInputError
from shared.backtest.picks_source import PicksSource
from shared.replay.compare import (
    Agreement,
    PlacedOrder,
    compare_orders,
    fast_orders,
    replayed_orders,
)
from shared.replay.system_day import DayToReplay, LateStart, play_day


def sample_days(days: Sequence[date], n: int) -> list[date]:
    """``n`` of ``days`` spread evenly from the first to the last (all when ``n`` covers them)."""
    if n >= len(days):
        return list(days)
    if n == 1:
        return [days[len(days) // 2]]
    return [days[round(i * (len(days) - 1) / (n - 1))] for i in range(n)]


def days_to_replay(
    config: BacktestConfig,
    picks: PicksSource,
    sample: int | None = None,
    named: Sequence[date] = (),
) -> list[date]:
    """The sessions to replay: ``named`` (each must be a session of the range with picks), or
    ``sample`` of the range's sessions that have picks, spread evenly."""
    sessions = [s.day for s in trading_sessions(config.calendar(), config.start, config.end)]
    with_picks = [d for d in sessions if picks.codes([d])]
    if named:
        for day in named:
            if day not in with_picks:
                raise BacktestInputError(
                    f"--sessions: {day} is not a session from {config.start} to {config.end}"
                    " with picks"
                )
        return sorted(named)
    if not with_picks:
        raise BacktestInputError(f"no session from {config.start} to {config.end} has picks")
    return sample_days(with_picks, sample or 5)


@dataclass(frozen=True)
class PreparedDay:
    """A session played by the fast driver, and what the system needs to play it."""

    day: date
    fast: list[PlacedOrder]
    to_replay: DayToReplay | None
    """None when the session has no picks to buy (both drivers then place nothing)."""


def prepare_day(
    config: BacktestConfig,
    picks: PicksSource,
    bars: BarSource,
    day: date,
    buy_limit_wait_seconds: float = 2.0,
) -> PreparedDay:
    """Play ``day`` with the fast driver from the config's cash, without slippage; the session's
    plan (picks, and the bars of the session and the one before) for the system."""
    one = dataclasses.replace(config, start=day, end=day, slippage_ticks=0)
    fast = run_backtest(one, picks, bars)
    calendar = one.calendar()
    session = calendar.session(day)
    assert session is not None  # days_to_replay gives sessions only
    plan = next(p for p in fast.plans if p.session == day)
    codes = [p.code for p in plan.picks]
    if not codes:
        return PreparedDay(day, fast_orders(fast, day), None)
    before = calendar.previous_session(day).day
    to_replay = DayToReplay(
        session,
        one,
        one.cash,
        plan.picks,
        bars.minute_bars(codes, before, day),
        buy_limit_wait_seconds,
    )
    return PreparedDay(day, fast_orders(fast, day), to_replay)


def play_prepared(prepared: PreparedDay, folder: Path, speed: float) -> Agreement:
    """Play the prepared session with the whole system and compare the two drivers' orders."""
    try:
        orders = play_day(prepared.to_replay, folder, speed) if prepared.to_replay else []
    except LateStart as e:
        return dataclasses.replace(compare_orders(prepared.day, prepared.fast, []), problem=str(e))
    return compare_orders(prepared.day, prepared.fast, replayed_orders(orders))


def replay(
    config: BacktestConfig,
    picks: PicksSource,
    bars: BarSource,
    days: Sequence[date],
    folder: Path,
    speed: float = DEFAULT_REPLAY_SPEED,
    parallel: int = 1,
    buy_limit_wait_seconds: float = 2.0,
    on_done: Callable[[Agreement], None] | None = None,
) -> list[Agreement]:
    """Replay ``days``, ``parallel`` at a time (each is mostly waiting on its clock); each
    session's processes log under ``folder/<day>/``. ``on_done`` hears of each as it ends."""

    reading = threading.Lock()  # a bar store's connection is not for two threads at once

    def one(day: date) -> Agreement:
        with reading:
            prepared = prepare_day(config, picks, bars, day, buy_limit_wait_seconds)
        agreement = play_prepared(prepared, folder / day.isoformat(), speed)
        if on_done is not None:
            on_done(agreement)
        return agreement

    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        return list(pool.map(one, days))
