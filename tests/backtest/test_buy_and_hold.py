"""Buy-and-hold of the same picks, on a case computed by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from shared.backtest.buy_and_hold import affordable, buy_and_hold
from shared.backtest.results import SessionPrice
from shared.trading.costs import TradeCosts

D0, D1, D2, D3 = (date(2026, 3, d) for d in (3, 4, 5, 6))
COSTS = TradeCosts(Decimal("0.1"), Decimal("0.2"))
"""Round rates, so the arithmetic below is easy to follow: 0.1 % fee, 0.2 % tax."""


def test_the_picks_bought_at_the_open_and_sold_at_the_expiry_close() -> None:
    prices = {
        "000010": {
            D0: SessionPrice(10_000, 10_500),
            D1: SessionPrice(10_600, 11_000),
            D2: SessionPrice(11_000, 12_000),
        },
        # No price on D2 (halted): sold at the next close there is, D3's.
        "000020": {
            D0: SessionPrice(20_000, 19_000),
            D1: SessionPrice(19_000, 19_500),
            D3: SessionPrice(18_500, 18_000),
        },
    }
    picks = [["000010", "000020"], ["000010"], [], []]
    found = buy_and_hold(1_000_000, [D0, D1, D2, D3], picks, prices, 2, COSTS)
    # D0: 500,000 won a pick. 000010: 50 shares would cost 500,000 + a 500 fee, too much;
    # 49 cost 490,000 + 490. 000020: 24 shares, 480,000 + 480. Cash left: 29,030.
    # D0 close: 29,030 + 49 x 10,500 + 24 x 19,000 = 999,530.
    # D1: 000010 is held, so no buy; close: 29,030 + 539,000 + 468,000 = 1,036,030.
    # D2: 000010 sold at 12,000 (held 2 sessions): 588,000 - 588 fee - 1,176 tax = 586,236;
    #     cash 615,266, 000020 at its last close 19,500: 1,083,266.
    # D3: 000020 sold at 18,000: 432,000 - 432 - 864 = 430,704; cash 1,045,970.
    assert found.values == (999_530, 1_036_030, 1_083_266, 1_045_970)
    assert found.final_value == 1_045_970
    assert found.return_pct == Decimal("4.60")
    assert found.max_drawdown_pct == Decimal("3.44")  # 1,083,266 -> 1,045,970
    assert (found.buys, found.sells) == (2, 2)
    assert found.costs == 490 + 480 + 588 + 1_176 + 432 + 864
    assert found.by_code == {"000010": 586_236 - 490_490, "000020": 430_704 - 480_480}


def test_a_pick_without_a_price_is_not_bought_and_what_is_held_counts_at_its_last_close() -> None:
    prices = {
        "000010": {D0: SessionPrice(10_000, 10_000), D1: SessionPrice(10_000, 12_000)},
        "000030": {D1: SessionPrice(5_000, 5_000)},
    }
    found = buy_and_hold(100_000, [D0, D1], [["000010", "000030"], []], prices, 5, COSTS)
    # D0: 50,000 won each; 000030 has no price: not bought. 000010: 4 shares, 40,040 with fee.
    assert found.buys == 1 and found.sells == 0
    assert found.values == (100_000 - 40, 100_000 - 40_040 + 48_000)
    assert found.by_code == {"000010": 48_000 - 40_040}


def test_nothing_to_buy() -> None:
    found = buy_and_hold(100_000, [D0, D1], [[], []], {}, 5, COSTS)
    assert found.values == (100_000, 100_000)
    assert found.return_pct == Decimal("0.00") and found.by_code == {}
    empty = buy_and_hold(100_000, [], [], {}, 5, COSTS)
    assert empty.final_value == 100_000 and empty.values == ()


def test_affordable_leaves_room_for_the_fee() -> None:
    assert affordable(500_000, 10_000, COSTS) == 49
    assert affordable(500_500, 10_000, COSTS) == 50
    assert affordable(9_999, 10_000, COSTS) == 0
    assert affordable(100, 0, COSTS) == 0
