"""One session played by the whole system: Redis, the KIS simulator replaying the session's
bars, the scheduler and the executor, each a process, on a fast simulated clock; what comes out
is the orders the simulator received.

See docs/ARCHITECTURE.md, 'Backtest', 'Replay'. The services get the backtest's thresholds, fees
and money limits as their settings, the session's picks as a dated file in ``PICKS_DIR``, and
prices on the stream (``QUOTE_SOURCE=stream``): the simulator sends every scripted point of a
replayed bar as a tick, and the scheduler decides on each at once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from shared.backtest.bar_source import DAILY_MINUTE, BarArrays
from shared.backtest.config import DEFAULT_REPLAY_SPEED, BacktestConfig
from shared.backtest.results import PlannedPick
from shared.infra.processes import SimulatedSystem
from shared.infra.redis_keys import Keys
from shared.infra.settings import MONEY_LIMIT_MAX_KRW, SIM_ACCOUNT
from shared.trading.market_calendar import Session
from shared.trading.rules import Phase

KEYS = Keys()

BEFORE_OPEN = timedelta(minutes=5)
"""The clock starts this long before the open, in the pre-market phase: the scheduler plans
the day on its first step (the 30 minutes before would only be waited through)."""
READY_SECONDS = 60.0
"""Real seconds the services have to beat, the scheduler in the pre-market phase; the clock is
held at its start until then (``SimulatedSystem.begin``)."""
AFTER_LAST_BAR = timedelta(minutes=2)
"""The day is played to its last bar and this much after (the last orders reach KIS)."""
SETTLE_SECONDS = 2.0
"""Real seconds to wait at the end for orders in flight to reach the simulator."""
SERVICES = ("executor", "scheduler")
"""The notifier is not started: what the user is told changes no order (events wait in Redis)."""
HTS_ID = "simhts01"
"""The stream's fill notices are registered under this HTS ID (the simulator's accept any)."""
SCALED_WAITS = {
    "KIS_CONNECT_TIMEOUT_SECONDS": "1",
    "KIS_READ_TIMEOUT_SECONDS": "5",
    "ORDER_STALE_SECONDS": "7",
    "ORDER_ABSENCE_GRACE_SECONDS": "1",
    "SCHEDULER_LOCK_SECONDS": "3",
}
"""Settings in real seconds, shorter for a clock a hundred times faster (as the chaos run's)."""


class LateStart(RuntimeError):
    """The services did not come up in time: the session was not played."""


def ready(system: SimulatedSystem) -> bool:
    """Whether the executor beats and the scheduler beats as the pre-market's leader."""
    seen = system.heartbeats()
    executor = any(b.get("service") == "executor" for b in seen)
    planned = any(
        b.get("service") == "scheduler" and b.get("phase") == Phase.PREMARKET.value for b in seen
    )
    return executor and planned


@dataclass(frozen=True)
class DayToReplay:
    """What one replayed session needs: the backtest's config (thresholds, fees, money limits),
    the starting cash, the session's picks and its bars (and the session before's, so the
    simulator's previous close and price limits are the stored ones)."""

    session: Session
    config: BacktestConfig
    cash: int
    picks: tuple[PlannedPick, ...]
    bars: Mapping[tuple[str, date], BarArrays]
    buy_limit_wait_seconds: float
    """Live's BUY_LIMIT_WAIT_SECONDS (real seconds): divided by the speed for the replay."""


def bar_rows(bars: Mapping[tuple[str, date], BarArrays]) -> list[dict[str, Any]]:
    """``POST /sim/bars`` rows of the minute bars (the CSV import's columns)."""
    rows = []
    for (code, day), b in sorted(bars.items()):
        for i in range(len(b)):
            minute = int(b.minute[i])
            if minute == DAILY_MINUTE:
                continue
            rows.append(
                {
                    "code": code,
                    "date": day.isoformat(),
                    "time": f"{minute // 60:02d}:{minute % 60:02d}",
                    "open": int(b.open[i]),
                    "high": int(b.high[i]),
                    "low": int(b.low[i]),
                    "close": int(b.close[i]),
                    "volume": int(b.volume[i]),
                }
            )
    return rows


def last_bar_moment(day: DayToReplay) -> datetime:
    """When the session's last minute bar ends (the intraday phase's end at the latest)."""
    intraday_end = day.session.closes - day.config.thresholds.buy_cutoff
    minutes = [
        int(b.minute[-1])
        for (_, d), b in day.bars.items()
        if d == day.session.day and len(b) and int(b.minute[-1]) != DAILY_MINUTE
    ]
    if not minutes:
        return intraday_end
    start_of_day = datetime.combine(day.session.day, datetime.min.time(), day.session.opens.tzinfo)
    return min(intraday_end, start_of_day + timedelta(minutes=max(minutes) + 1))


def settings_env(day: DayToReplay, speed: float) -> dict[str, str]:
    """The services' settings that the fast driver also runs with."""
    config, t = day.config, day.config.thresholds
    return {
        "TAKE_PROFIT_PCT": str(t.take_profit_pct),
        "STOP_LOSS_PCT": str(t.stop_loss_pct),
        "BUY_BAND_RATIO": str(t.buy_band_ratio),
        "EXPIRY_SESSIONS": str(t.expiry_sessions),
        "BUY_CUTOFF_MINUTES": str(int(t.buy_cutoff.total_seconds() // 60)),
        "PRECLOSE_CUTOFF_MINUTES": str(int(t.preclose_cutoff.total_seconds() // 60)),
        "FEE_PCT": str(config.fee_pct),
        "SELL_TAX_PCT": str(config.sell_tax_pct),
        "MAX_ORDER_KRW": str(config.max_order_krw),
        "MAX_ORDERS_PER_DAY": str(config.max_orders_per_day),
        "MAX_OPEN_POSITIONS": str(config.max_open_positions),
        # The fast driver does not apply the daily loss limit (docs: 'Where it differs').
        "DAILY_LOSS_LIMIT_KRW": str(MONEY_LIMIT_MAX_KRW),
        "BUY_LIMIT_WAIT_SECONDS": f"{day.buy_limit_wait_seconds / speed:.3f}",
    }


def write_picks(directory: Path, session: date, picks: Iterable[PlannedPick]) -> Path:
    """The session's picks as its dated file in ``directory`` (``PICKS_DIR``)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{session.isoformat()}.json"
    path.write_text(
        json.dumps({p.code: [p.name, p.target] for p in picks}, ensure_ascii=False),
        encoding="utf-8",
    )
    return path


def play_day(
    day: DayToReplay, folder: Path, speed: float = DEFAULT_REPLAY_SPEED
) -> list[dict[str, Any]]:
    """Play ``day`` with every process real; the simulator's orders (``GET /sim/orders``)."""
    folder.mkdir(parents=True, exist_ok=True)
    start = day.session.opens - BEFORE_OPEN
    system = SimulatedSystem(folder, start, speed, aof=False)
    try:
        system.start_sim(
            SIM_STORE="memory",
            SIM_PROFILE="kis",
            SIM_FEE_PCT=str(day.config.fee_pct),
            SIM_SELL_TAX_PCT=str(day.config.sell_tax_pct),
            SIM_RATE_LIMIT="50",
            SIM_TOKEN_THROTTLE_SECONDS="0",  # noqa: S106 - seconds, not a secret
            SIM_WS_TICK_SECONDS="0.01",
        )
        system.admin(
            "POST", "accounts", json={"account": SIM_ACCOUNT, "cash": day.cash, "holdings": []}
        )
        rows = bar_rows(day.bars)
        if rows:
            system.admin("POST", "bars", json={"bars": rows})
        picks_dir = folder / "picks"
        write_picks(picks_dir, day.session.day, day.picks)
        system.start_services(
            SERVICES,
            QUOTE_SOURCE="stream",
            KIS_WS_URL=system.sim_ws_url,
            KIS_HTS_ID=HTS_ID,
            KIS_RATE_LIMIT="50",
            KIS_RETRY_BACKOFF_SECONDS="0.05",
            KIS_TOKEN_ISSUE_INTERVAL_SECONDS="0",  # noqa: S106 - seconds, not a secret
            SCHEDULER_MIN_CYCLE_SECONDS="0.2",
            **SCALED_WAITS,
            **settings_env(day, speed),
            PICKS_DIR=str(picks_dir),
            DATA_DIR=str(folder / "data"),
            EXPORT_DIR=str(folder / "export"),
        )
        system.supervise()
        try:
            system.begin(lambda: ready(system), READY_SECONDS)
        except RuntimeError as e:
            raise LateStart(f"{e}: the machine is too busy") from None
        system.sleep_until(last_bar_moment(day) + AFTER_LAST_BAR)
        time.sleep(SETTLE_SECONDS)
        orders: list[dict[str, Any]] = system.admin("GET", "orders").json()["orders"]
    finally:
        system.stop()
    (folder / "kis-orders.json").write_text(json.dumps(orders, indent=1), encoding="utf-8")
    return orders
