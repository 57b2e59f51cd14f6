"""The fast driver on hand-made bars: each expected order worked out by hand from the rules.

Defaults unless a test says otherwise: TAKE_PROFIT_PCT 5, STOP_LOSS_PCT -3, BUY_BAND_RATIO 1.05,
EXPIRY_SESSIONS 5, buy cut-off 15 min and pre-close cut-off 10 min before the close, KIS's fee
0.0140527 % both sides and the 0.20 % sell tax, D+2, one tick of slippage on sells. A target of
10,000 makes the band [10,000, 10,500) and the limit 10,490 (the band's last tick).
"""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from pathlib import Path

from shared.backtest.config import BacktestConfig
from shared.backtest.results import OrderOutcome, ProblemKind
from shared.kis.models import Side
from shared.trading.bars import BarKind
from shared.trading.costs import TradeCosts
from shared.trading.orders import Reason
from shared.trading.trades import Realized
from tests.backtest.helpers import at, fee, flat, minutes, run, tax, write_picks

TUE = date(2026, 3, 3)
WED = date(2026, 3, 4)
THU = date(2026, 3, 5)
CODE = "005930"
PICK = {CODE: ("삼성전자", 10_000)}


def test_a_buy_at_the_band_then_a_take_profit_and_the_cash_at_d_plus_2(tmp_path: Path) -> None:
    bars = minutes(
        CODE,
        TUE,
        [
            ("09:00", 9_900, 9_950, 9_850, 9_900),  # under the target: no buy
            ("09:01", 9_950, 10_100, 9_900, 10_050),  # the high, 10,100, is in the band
            ("09:02", 10_050, 10_600, 10_000, 10_600),  # +4.95 %: held
            ("09:03", 10_600, 10_700, 10_550, 10_650),  # the high, +5.94 %: take profit
            ("09:04", 10_650, 11_000, 10_600, 10_900),
        ],
    )
    config = BacktestConfig(TUE, THU)
    result = run(config, bars, write_picks(tmp_path, {TUE: PICK}))

    buy, sell = result.orders
    # buy_amount = 10,000,000 // 1 pick; 10,000,000 // 10,100 = 990 shares by the rules. KIS
    # checks the cash at the limit: 953 x 10,490 = 9,996,970 + fee 1,404 fits, 954 would not.
    assert (buy.id, buy.moment, buy.side, buy.reason) == (
        "20260303-005930-buy-entry",
        at(TUE, "09:01:30"),
        Side.BUY,
        Reason.ENTRY,
    )
    assert (buy.quantity, buy.sent_quantity, buy.limit_price, buy.price_seen) == (
        990,
        953,
        10_490,
        10_100,
    )
    assert buy.status is OrderOutcome.FILLED and "KIS allows 953 of 990" in buy.note
    # 10,700 is +5.94 % (> 5); 10,600 at 09:02 was +4.95 %. Filled a tick lower: 10,690.
    assert (sell.moment, sell.reason, sell.quantity, sell.price_seen, sell.limit_price) == (
        at(TUE, "09:03:30"),
        Reason.TAKE_PROFIT,
        953,
        10_700,
        None,
    )
    assert [(f.side, f.quantity, f.price) for f in result.fills] == [
        (Side.BUY, 953, 10_100),
        (Side.SELL, 953, 10_690),
    ]

    bought, sold = 953 * 10_100, 953 * 10_690
    assert (result.fills[0].fee, result.fills[1].fee, result.fills[1].tax) == (
        fee(bought),
        fee(sold),
        tax(sold),
    )
    (trade,) = result.trades
    gross = (10_690 - 10_100) * 953
    net = gross - fee(bought) - fee(sold) - tax(sold)
    assert (trade.gross, trade.fees, trade.tax, trade.net) == (
        gross,
        fee(bought) + fee(sold),
        tax(sold),
        net,
    )
    assert (trade.sessions_held, trade.exit_moment) == (0, at(TUE, "09:03:30"))
    realized = Realized("", CODE, "", 953, Decimal(10_100), Decimal(10_690), gross, "take_profit")
    assert TradeCosts().net_profit(realized) == net  # the engine's own net P&L agrees

    # The deposit moves at D+2 (Thursday); orderable cash counted the trade at once.
    tue, wed, thu = result.equity
    cash_in = sold - fee(sold) - tax(sold) - bought - fee(bought)
    assert (tue.deposit, tue.pending, tue.holdings) == (10_000_000, cash_in, 0)
    assert (wed.deposit, wed.pending) == (10_000_000, cash_in)
    assert (thu.deposit, thu.pending, thu.value) == (10_000_000 + cash_in, 0, 10_000_000 + net)


def test_a_stop_loss_sells_at_the_low_a_tick_lower(tmp_path: Path) -> None:
    bars = minutes(
        CODE,
        TUE,
        [
            ("09:00", 10_100, 10_100, 10_100, 10_100),  # bought at the open
            ("09:01", 10_000, 10_000, 9_800, 9_800),  # 9,800 is -2.97 %: held
            ("09:02", 9_800, 9_800, 9_790, 9_790),  # the low, 9,790, is -3.07 %
        ],
    )
    result = run(BacktestConfig(TUE, TUE), bars, write_picks(tmp_path, {TUE: PICK}))
    assert [(o.moment, o.reason) for o in result.orders] == [
        (at(TUE, "09:00:00"), Reason.ENTRY),
        (at(TUE, "09:02:15"), Reason.STOP_LOSS),
    ]
    assert result.fills[-1].price == 9_780


def test_a_bar_touching_both_thresholds_sells_at_the_stop_loss(tmp_path: Path) -> None:
    bars = minutes(
        CODE,
        TUE,
        [
            ("09:00", 10_100, 10_100, 10_100, 10_100),
            # 10,700 would be +5.94 % and 9,700 is -3.96 %: the low comes first in the path.
            ("09:01", 10_200, 10_700, 9_700, 10_200),
        ],
    )
    result = run(BacktestConfig(TUE, TUE), bars, write_picks(tmp_path, {TUE: PICK}))
    sell = result.orders[-1]
    assert (sell.moment, sell.reason, sell.price_seen) == (
        at(TUE, "09:01:15"),
        Reason.STOP_LOSS,
        9_700,
    )
    assert result.fills[-1].price == 9_690


def test_a_position_is_judged_from_the_point_after_its_buy(tmp_path: Path) -> None:
    # The open (10,900) is over the band and would be +7.9 % over the buy; the buy comes at
    # the low (10,100) and the take profit at the high after it.
    bars = minutes(CODE, TUE, [("09:00", 10_900, 10_950, 10_100, 10_300)])
    result = run(BacktestConfig(TUE, TUE), bars, write_picks(tmp_path, {TUE: PICK}))
    assert [(o.moment, o.reason, o.price_seen) for o in result.orders] == [
        (at(TUE, "09:00:15"), Reason.ENTRY, 10_100),
        (at(TUE, "09:00:30"), Reason.TAKE_PROFIT, 10_950),
    ]


def test_five_sessions_expire_at_the_pre_close_across_the_lunar_new_year(tmp_path: Path) -> None:
    # Bought on Friday 2026-02-13; KRX is closed 16-18 February. Sessions after the buy:
    # 19 (1), 20 (2), 23 (3), 24 (4), 25 (5): sold at the pre-close's first point on the 25th.
    friday = date(2026, 2, 13)
    days = [friday, *(date(2026, 2, d) for d in (19, 20, 23, 24, 25, 26))]
    bars = [bar for day in days for bar in flat(CODE, day, 10_100)]
    config = BacktestConfig(friday, date(2026, 2, 26))
    result = run(config, bars, write_picks(tmp_path, {friday: PICK}))
    buy, sell = result.orders
    assert buy.moment == at(friday, "09:00:00")
    assert (sell.moment, sell.reason, sell.quantity) == (
        at(date(2026, 2, 25), "15:15:00"),
        Reason.EXPIRY,
        buy.sent_quantity,
    )
    assert result.fills[-1].price == 10_090
    assert result.trades[0].sessions_held == 5
    assert [p.positions for p in result.equity] == [1, 1, 1, 1, 1, 0, 0]


def test_the_csat_day_moves_the_phases_an_hour_later(tmp_path: Path) -> None:
    # 2025-11-13 (수능) trades 10:00-16:30: a bar at 09:30 is before the open; the band is
    # reached at 16:00, intraday that day (15:15 would be the pre-close on a regular day).
    csat = date(2025, 11, 13)
    bars = [
        *minutes(CODE, csat, [("09:30", 10_100, 10_100, 10_100, 10_100)]),
        *flat(CODE, csat, 9_900, "10:00", "16:00"),
        *minutes(CODE, csat, [("16:00", 10_100, 10_100, 10_100, 10_100)]),
    ]
    result = run(BacktestConfig(csat, csat), bars, write_picks(tmp_path, {csat: PICK}))
    assert [(o.moment, o.reason) for o in result.orders] == [(at(csat, "16:00:00"), Reason.ENTRY)]


def test_a_special_session_from_the_settings_trades_at_its_own_hours(tmp_path: Path) -> None:
    # KRX_SPECIAL_SESSIONS=2026-03-07=09:00-12:00 (a Saturday): intraday until 11:45.
    saturday = date(2026, 3, 7)
    other = "000660"
    bars = [
        *flat(CODE, saturday, 9_900, "09:00", "11:30"),
        *minutes(CODE, saturday, [("11:30", 10_100, 10_100, 10_100, 10_100)]),
        *flat(other, saturday, 19_900, "09:00", "11:46"),
        *minutes(other, saturday, [("11:46", 20_100, 20_100, 20_100, 20_100)]),
    ]
    picks = {saturday: {**PICK, other: ("SK하이닉스", 20_000)}}
    config = BacktestConfig(
        saturday, saturday, special_sessions={saturday: (time(9, 0), time(12, 0))}
    )
    result = run(config, bars, write_picks(tmp_path, picks))
    # 005930 enters at 11:30; 000660 reaches its band at 11:46, in the pre-close: no buy.
    assert [(o.code, o.moment) for o in result.orders] == [(CODE, at(saturday, "11:30:00"))]
    assert result.sessions == (saturday,)


def test_the_orderable_cash_is_split_evenly_over_the_picks(tmp_path: Path) -> None:
    a, b, c = "000010", "000020", "000030"
    picks = {TUE: {a: ("가", 10_000), b: ("나", 20_000), c: ("다", 5_000)}}
    bars = [
        *minutes(a, TUE, [("09:00", 10_400, 10_400, 10_400, 10_400)]),
        *minutes(b, TUE, [("09:00", 19_000, 19_000, 19_000, 19_000)]),
        *minutes(b, TUE, [("09:01", 20_000, 20_000, 20_000, 20_000)]),
        *minutes(c, TUE, [("09:02", 5_000, 5_000, 5_000, 5_000)]),
    ]
    result = run(BacktestConfig(TUE, TUE, cash=1_000_000), bars, write_picks(tmp_path, picks))
    # buy_amount = 1,000,000 // 3 = 333,333 each.
    # a: 333,333 // 10,400 = 32; KIS allows 1,000,000 at 10,490 for 95: 32 sent.
    # b: 333,333 // 20,000 = 16; cash left 1,000,000 - 332,800 - fee 46 = 667,154: 16 sent.
    # c: 333,333 // 5,000 = 66 at limit 5,240 (last tick under 5,250); cash left
    #    667,154 - 320,000 - fee 44 = 347,110: 347,110 // 5,240 = 66; 66 x 5,240 + fee fits.
    assert [(o.code, o.quantity, o.sent_quantity) for o in result.orders] == [
        (a, 32, 32),
        (b, 16, 16),
        (c, 66, 66),
    ]
    spent = [32 * 10_400, 16 * 20_000, 66 * 5_000]
    assert result.equity[0].pending == -sum(amount + fee(amount) for amount in spent)


def test_a_buy_is_reduced_to_the_cash_left_at_its_limit_and_tried_once(tmp_path: Path) -> None:
    a, b, c = "000010", "000020", "000030"
    # Two picks: 500,000 each. a takes 499,270; b's 25 shares at its limit 20,950 need 523,823
    # but 500,730 is left: KIS allows 23 (481,850 + fee 67).
    picks = {TUE: {a: ("가", 10_000), b: ("나", 20_000)}}
    bars = [
        *minutes(a, TUE, [("09:00", 10_400, 10_400, 10_400, 10_400)]),
        *minutes(b, TUE, [("09:01", 20_000, 20_000, 20_000, 20_000)]),
    ]
    result = run(BacktestConfig(TUE, TUE, cash=1_000_000), bars, write_picks(tmp_path, picks))
    assert [(o.code, o.quantity, o.sent_quantity, o.limit_price) for o in result.orders] == [
        (a, 48, 48, 10_490),
        (b, 25, 23, 20_950),
    ]
    assert "KIS allows 23 of 25 shares at 20,950 won (orderable cash 500,730 won)" in (
        result.orders[1].note
    )

    # With MAX_ORDER_KRW 300,000: a is cut to 300,000 // 10,490 = 28 shares; one more pick
    # that nothing is left for is cancelled, and not tried again when its price comes back.
    picks = {WED: {a: ("가", 10_000), c: ("다", 10_000)}}
    bars = [
        *minutes(a, WED, [("09:00", 10_400, 10_400, 10_400, 10_400)]),
        *minutes(c, WED, [("09:01", 10_000, 10_000, 10_000, 10_000)]),
        *minutes(c, WED, [("09:02", 10_100, 10_100, 10_100, 10_100)]),
    ]
    config = BacktestConfig(WED, WED, cash=300_000, max_order_krw=300_000)
    result = run(config, bars, write_picks(tmp_path / "capped", picks))
    first, second = result.orders
    assert (first.quantity, first.sent_quantity) == (14, 14)  # 150,000 // 10,400
    assert (second.code, second.quantity, second.sent_quantity, second.status) == (
        c,
        15,
        14,
        OrderOutcome.FILLED,
    )
    config = BacktestConfig(WED, WED, cash=10_000_000, max_order_krw=300_000)
    result = run(config, bars, write_picks(tmp_path / "capped", picks))
    assert [(o.quantity, o.sent_quantity) for o in result.orders] == [(480, 28), (500, 28)]
    assert "exceed the 300,000 won per order: reduced to 28" in result.orders[0].note


def test_a_limit_buy_never_fills_above_its_limit_on_prices_off_the_ticks(tmp_path: Path) -> None:
    # Adjusted history has prices off KRX's ticks: 10,495 is in the band [10,000, 10,500) but
    # above the limit, 10,490, the most a limit buy pays. 1,049,500 won buys 100 shares by the
    # rules, and KIS allows 100 at 10,490 (1,049,000 + fee 147); at 10,495 the fee would not fit.
    bars = minutes(CODE, TUE, [("09:00", 10_495, 10_495, 10_495, 10_495)])
    config = BacktestConfig(TUE, TUE, cash=1_049_500)
    result = run(config, bars, write_picks(tmp_path, {TUE: PICK}))
    (fill,) = result.fills
    assert (fill.side, fill.quantity, fill.price, fill.fee) == (Side.BUY, 100, 10_490, 147)
    assert result.equity[0].pending == -(1_049_000 + fee(1_049_000))


def test_a_buy_kis_allows_no_share_of_is_cancelled_and_not_tried_again(tmp_path: Path) -> None:
    # 10,400 won buys one share at 10,000 by the rules, but KIS checks the cash at the limit,
    # 10,490: not one share. The price comes back at 09:01; one entry per pick and session.
    bars = minutes(
        CODE,
        TUE,
        [("09:00", 10_000, 10_000, 10_000, 10_000), ("09:01", 10_000, 10_000, 10_000, 10_000)],
    )
    config = BacktestConfig(TUE, TUE, cash=10_400)
    result = run(config, bars, write_picks(tmp_path, {TUE: PICK}))
    (order,) = result.orders
    assert (order.quantity, order.sent_quantity, order.status) == (1, 0, OrderOutcome.CANCELLED)
    assert order.note == "KIS allows no share at 10,490 won with the cash left (10,400 won)"
    assert result.fills == () and result.equity[0].value == 10_400


def test_a_held_pick_is_dropped_and_a_full_book_refuses_the_next(tmp_path: Path) -> None:
    a, b = "000010", "000020"
    picks = {
        TUE: {a: ("가", 10_000), b: ("나", 10_000)},
        WED: {a: ("가", 10_000), b: ("나", 10_000)},
    }
    bars = [
        *minutes(a, TUE, [("09:00", 10_000, 10_000, 10_000, 10_000)]),
        *minutes(b, TUE, [("09:00", 9_000, 9_000, 9_000, 9_000)]),
        *minutes(a, WED, [("09:00", 10_000, 10_000, 10_000, 10_000)]),
        *minutes(b, WED, [("09:01", 10_000, 10_000, 10_000, 10_000)]),
        *minutes(b, WED, [("09:02", 10_050, 10_050, 10_050, 10_050)]),
    ]
    config = BacktestConfig(TUE, WED, cash=200_000, max_open_positions=1)
    result = run(config, bars, write_picks(tmp_path, picks))
    # Tuesday: a bought (100,000 // 10,000 = 10). Wednesday: a is held, so dropped from the
    # plan; b gets all the orderable cash, 200,000 - 100,014 = 99,986 // 10,000 = 9 shares,
    # but MAX_OPEN_POSITIONS=1 refuses it; b is not tried again at 09:02.
    assert [(o.session, o.code, o.quantity, o.status) for o in result.orders] == [
        (TUE, a, 10, OrderOutcome.FILLED),
        (WED, b, 9, OrderOutcome.REFUSED),
    ]
    assert "max_open_positions=1" in result.orders[1].note


def test_a_position_held_through_a_halted_day_names_it_in_its_trade(tmp_path: Path) -> None:
    bars = [*flat(CODE, TUE, 10_100), *flat(CODE, THU, 10_700)]
    config = BacktestConfig(TUE, THU)
    result = run(
        config,
        bars,
        write_picks(tmp_path, {TUE: PICK}),
        halted=[(CODE, WED, BarKind.MINUTE)],
    )
    (trade,) = result.trades
    assert (trade.exit_session, trade.reason, trade.problems) == (
        THU,
        Reason.TAKE_PROFIT,
        (ProblemKind.HALTED,),
    )
    # Held on the halted day, valued at its last close.
    assert result.equity[1].holdings == trade.quantity * 10_100
