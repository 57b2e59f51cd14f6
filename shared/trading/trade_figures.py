"""The figures of closed trades, whoever closed them: the backtest's run or the live journal.

See docs/ARCHITECTURE.md, 'Backtest' (the report) and 'Track record'. Pure: computed with
:mod:`shared.trading.metrics` from anything shaped like a :class:`ClosedTradeLike`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from shared.trading import metrics


class ClosedTradeLike(Protocol):
    """What the figures read of a closed trade (the backtest's ``ClosedTrade``, a journal entry)."""

    @property
    def entry_price(self) -> int | Decimal: ...
    @property
    def quantity(self) -> int: ...
    @property
    def reason(self) -> str: ...

    """The exit reason's value (a :class:`Reason` is one)."""

    @property
    def sessions_held(self) -> int: ...
    @property
    def gross(self) -> int: ...
    @property
    def fees(self) -> int: ...
    @property
    def tax(self) -> int: ...
    @property
    def net(self) -> int: ...


@dataclass(frozen=True)
class TradeFigures:
    """The closed trades, each counted after its fees and tax (``net``)."""

    trades: int
    wins: int
    """Trades whose net is above 0."""
    losses: int
    """Trades whose net is below 0."""
    win_rate_pct: Decimal | None
    gross_profit: int
    """The winning trades' net, summed."""
    gross_loss: int
    """The losing trades' net, summed, as a positive number."""
    profit_factor: Decimal | None
    """gross_profit / gross_loss; None when no trade lost."""
    expectancy: Decimal | None
    """The average net of a trade, in won."""
    expectancy_pct: Decimal | None
    """The average of each trade's net in percent of what its shares cost."""
    average_hold: Decimal | None
    """Sessions from the buy to the sell, on average (0: sold the session it was bought)."""
    gross: int
    fees: int
    tax: int
    net: int
    exits: dict[str, int]
    """How many trades each exit reason closed (take_profit, stop_loss, expiry)."""


def trade_figures(trades: Sequence[ClosedTradeLike]) -> TradeFigures:
    """The figures of ``trades``, each counted after its fees and tax."""
    nets = [t.net for t in trades]
    return TradeFigures(
        trades=len(trades),
        wins=sum(1 for n in nets if n > 0),
        losses=sum(1 for n in nets if n < 0),
        win_rate_pct=metrics.win_rate_pct(nets),
        gross_profit=metrics.gross_profit(nets),
        gross_loss=metrics.gross_loss(nets),
        profit_factor=metrics.profit_factor(nets),
        expectancy=metrics.expectancy(nets),
        expectancy_pct=metrics.expectancy_pct(
            nets, [int(t.entry_price * t.quantity) for t in trades]
        ),
        average_hold=metrics.average([t.sessions_held for t in trades]),
        gross=sum(t.gross for t in trades),
        fees=sum(t.fees for t in trades),
        tax=sum(t.tax for t in trades),
        net=sum(nets),
        exits=dict(sorted(Counter(str(t.reason) for t in trades).items())),
    )
