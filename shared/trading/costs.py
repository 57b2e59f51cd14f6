"""What a trade costs at KIS: the broker's fee on both sides, the transaction tax on sells.

See docs/ARCHITECTURE.md, 'Settlement (D+2)'. The engine uses these to show realised profit net
of costs beside the gross; the simulator charges the same rates in its ``kis`` profile.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from shared.trading.trades import Realized

KIS_FEE_PCT = Decimal("0.0140527")
"""BanKIS (non-face-to-face) KOSPI/KOSDAQ fee, % of the amount, both sides, exchange and
depository charges included. Source: 한국투자증권 수수료 안내 as summarised in
bullroit.net "한국투자증권 수수료 총정리" (2025): "코스피, 코스닥, 코넥스 ... 0.0140527%"."""
SELL_TAX_PCT = Decimal("0.20")
"""Securities transaction tax on sells from 2026-01-01, % of the amount: KOSPI 0.05 % +
0.15 % special rural tax, KOSDAQ 0.20 % (증권거래세법 시행령, 2025 tax revision; summarised in
alphaonair.com/securities-transaction-tax-rate-2026 and funbox.co.kr, 2026-01)."""


@dataclass(frozen=True)
class TradeCosts:
    """The rates, in percent of a fill's amount; each charge is cut below one won, as KIS does."""

    fee_pct: Decimal = KIS_FEE_PCT
    sell_tax_pct: Decimal = SELL_TAX_PCT

    def fee(self, amount: Decimal) -> int:
        return _won(amount * self.fee_pct / 100)

    def tax(self, amount: Decimal) -> int:
        return _won(amount * self.sell_tax_pct / 100)

    def of_round_trip(self, realized: Realized) -> int:
        """Fees of the buy and the sell, and the sell's tax, of the shares ``realized`` sold."""
        bought = realized.buy_price * realized.quantity
        sold = realized.sell_price * realized.quantity
        return self.fee(bought) + self.fee(sold) + self.tax(sold)

    def net_profit(self, realized: Realized) -> int:
        """Realised profit after fees and tax (``realized.profit`` is the gross)."""
        return realized.profit - self.of_round_trip(realized)


def _won(amount: Decimal) -> int:
    return int(amount.to_integral_value(ROUND_DOWN))
