"""What one backtest runs with: the range, the cash, the bars, and the live settings it obeys.

See docs/ARCHITECTURE.md, 'Backtest'. The thresholds, the calendar's special days, the fee and
tax rates and the money limits come from the same settings as live (``TAKE_PROFIT_PCT``,
``KRX_SPECIAL_SESSIONS``, ``FEE_PCT``, ``MAX_ORDER_KRW``, ...); the account follows KIS's money
rules as the simulator's ``kis`` profile does (D+2 settlement). The config is written into the
report as it was used, so a result says what produced it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal

from shared.infra.settings import Settings
from shared.trading.bars import BarKind
from shared.trading.costs import TradeCosts
from shared.trading.market_calendar import KrxCalendar
from shared.trading.rules import Thresholds

DEFAULT_CASH = 10_000_000
"""Won in the account at the start (the simulator's default)."""
SETTLEMENT_DAYS = 2
"""KRX settles on D+2 (the simulator's ``kis`` profile)."""
DEFAULT_SLIPPAGE_TICKS = 1
"""Ticks a market order (every sell) fills below the price it was decided at."""
DEFAULT_REPLAY_SPEED = 40.0
"""Clock speed of a replayed session (``kat backtest --replay``): 6 h 15 min of intraday phase
in about 10 minutes, and the executor's orders in a row (0.1 s of real time each) inside one
15-s point of a bar (docs/ARCHITECTURE.md, 'Replay', 'The fill price')."""


@dataclass(frozen=True)
class BacktestConfig:
    """The settings of one run; every field is in the report."""

    start: date
    end: date
    cash: int = DEFAULT_CASH
    bars: BarKind = BarKind.MINUTE
    """Minute bars (the daily bar only where a session has none), or daily bars only."""
    picks: str = ""
    """Where the picks came from, as the user gave it (``--picks-dir``, ``--universe``)."""
    thresholds: Thresholds = field(default_factory=Thresholds)
    fee_pct: Decimal = TradeCosts().fee_pct
    sell_tax_pct: Decimal = TradeCosts().sell_tax_pct
    settlement_days: int = SETTLEMENT_DAYS
    slippage_ticks: int = DEFAULT_SLIPPAGE_TICKS
    max_order_krw: int = 50_000_000
    max_orders_per_day: int = 200
    max_open_positions: int = 30
    extra_closed: tuple[date, ...] = ()
    special_sessions: dict[date, tuple[time, time]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError(f"--from {self.start} is after --to {self.end}")
        if self.cash <= 0:
            raise ValueError(f"--cash must be a positive number of won, got {self.cash}")
        if self.slippage_ticks < 0:
            raise ValueError(f"slippage must be 0 ticks or more, got {self.slippage_ticks}")

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        start: date,
        end: date,
        *,
        cash: int = DEFAULT_CASH,
        bars: BarKind = BarKind.MINUTE,
        picks: str = "",
        slippage_ticks: int = DEFAULT_SLIPPAGE_TICKS,
    ) -> BacktestConfig:
        """The run with live's thresholds, calendar, rates and money limits from ``settings``."""
        return cls(
            start=start,
            end=end,
            cash=cash,
            bars=bars,
            picks=picks,
            thresholds=Thresholds.from_settings(settings),
            fee_pct=settings.fee_pct,
            sell_tax_pct=settings.sell_tax_pct,
            slippage_ticks=slippage_ticks,
            max_order_krw=settings.max_order_krw,
            max_orders_per_day=settings.max_orders_per_day,
            max_open_positions=settings.max_open_positions,
            extra_closed=tuple(settings.krx_extra_closed),
            special_sessions=dict(settings.krx_special_sessions),
        )

    @property
    def costs(self) -> TradeCosts:
        return TradeCosts(self.fee_pct, self.sell_tax_pct)

    def calendar(self) -> KrxCalendar:
        """The KRX calendar with this run's closed days and special sessions."""
        return KrxCalendar(self.extra_closed, self.special_sessions)
