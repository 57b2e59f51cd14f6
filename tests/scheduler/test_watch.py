"""Which codes ride the stream: the 40 of 60 nearest a decision, re-chosen as prices move,
without flapping between codes at about the same distance."""

from __future__ import annotations

from decimal import Decimal

from services.scheduler.watch import (
    Watch,
    choose_streamed,
    distance,
    near_decision,
    next_decision,
    watched_pick,
    watched_position,
)
from shared.trading.picks import Pick
from shared.trading.rules import Thresholds

RULES = Thresholds()
CAPACITY = 40  # KIS's 41 registrations less the fill notice's


def sixty() -> tuple[list, dict[str, int]]:
    """40 picks at target 10,000 and 20 positions bought at 10,000; prices spread so that the
    distance of code ``i`` to its next decision grows with ``i``, except a few set apart."""
    watched = [
        watched_pick(Pick(f"1{i:05d}", f"pick {i}", 10000), RULES.buy_band_ratio) for i in range(40)
    ]
    watched += [
        watched_position(f"2{i:05d}", f"position {i}", Decimal(10000), RULES) for i in range(20)
    ]
    prices = {}
    for i in range(40):
        prices[f"1{i:05d}"] = 10000 - 25 * (i + 1)  # 0.25 % .. 10 % under the target
    for i in range(20):
        prices[f"2{i:05d}"] = 10000 + 20 * i  # 0 .. +3.8 %: take profit above +5 %
    return watched, prices


def test_distances_follow_the_rules_exactly() -> None:
    pick = watched_pick(Pick("000100", "p", 10000), Decimal("1.05"))
    assert distance(pick, 10000, RULES) == 0.0  # at the target: buy now
    assert distance(pick, 10499, RULES) == 0.0
    # Issue 20: on the band's top (excluded) it said "0.0 % buy"; the price must fall a tick.
    assert distance(pick, 10500, RULES) == 10 / 10500
    assert distance(pick, 9500, RULES) == 500 / 9500
    assert distance(pick, 11000, RULES) == 510 / 11000
    assert distance(pick, None, RULES) is None
    held = watched_position("000200", "h", Decimal(10000), RULES)
    assert (held.low, held.high) == (Decimal(9700), Decimal(10500))
    assert distance(held, 10500, RULES) == 10 / 10500  # +5.00 % exactly: not sold, a tick more
    assert distance(held, 9700, RULES) == 10 / 9700  # -3.00 % exactly: not sold, a tick less
    assert distance(held, 10501, RULES) == 0.0  # sold
    assert distance(held, 9699, RULES) == 0.0
    assert distance(held, 10400, RULES) == 110 / 10400
    assert distance(held, 9800, RULES) == 110 / 9800
    assert next_decision(held, 10400) == "take_profit"
    assert next_decision(held, 9800) == "stop_loss"
    assert next_decision(pick, 9000) == "buy"
    assert pick.kind is Watch.PICK and held.kind is Watch.POSITION


def test_forty_of_sixty_codes_nearest_their_decision_ride_the_stream() -> None:
    watched, prices = sixty()
    del prices["100039"]  # no price yet: the most urgent of all
    prices["200019"] = 10501  # past take profit: distance 0
    chosen = choose_streamed(watched, prices, RULES, CAPACITY)
    assert len(chosen) == CAPACITY
    assert chosen[:2] == ["100039", "200019"]
    # Every chosen code is at least as near its decision as every code left to polling.
    gaps = {w.code: distance(w, prices.get(w.code), RULES) for w in watched}
    left = set(gaps) - set(chosen)
    assert len(left) == 20
    worst_chosen = max(g for c, g in gaps.items() if c in chosen and g is not None)
    assert all(gaps[c] is not None and gaps[c] >= worst_chosen for c in left)
    # Positions at +3.8 % (1.2 % from take profit) beat picks 5 % under their target.
    assert "200019" in chosen and "200018" in chosen and "100030" not in chosen


def test_the_choice_moves_with_prices_but_does_not_flap() -> None:
    watched, prices = sixty()
    chosen = choose_streamed(watched, prices, RULES, CAPACITY)
    assert "100035" not in chosen
    # A polled pick comes within 0.1 % of a chosen one's distance: not enough to swap them.
    last_chosen = [c for c in chosen if c.startswith("1")][-1]
    prices["100035"] = prices[last_chosen] + 5
    assert choose_streamed(watched, prices, RULES, CAPACITY, chosen) == chosen
    # Right at its target it is chosen, and the farthest of the chosen codes makes room.
    prices["100035"] = 10000
    again = choose_streamed(watched, prices, RULES, CAPACITY, chosen)
    assert again[0] == "100035"
    assert set(chosen) - set(again) == {last_chosen}
    # Back to a hair nearer than the last chosen pick: without hysteresis it would swap in;
    # with it, whichever of the two is on the stream stays there.
    prices["100035"] = prices[last_chosen] + 5
    assert "100035" in choose_streamed(watched, prices, RULES, CAPACITY)
    assert "100035" not in choose_streamed(watched, prices, RULES, CAPACITY, chosen)
    assert "100035" in choose_streamed(watched, prices, RULES, CAPACITY, again)


def test_near_a_decision_is_within_two_percent_but_not_there_yet() -> None:
    pick = watched_pick(Pick("000010", "pick", 10000), RULES.buy_band_ratio)
    held = watched_position("000020", "held", Decimal(10000), RULES)
    near = [pick, held]

    def codes(prices: dict[str, int]) -> list[str]:
        return [w.code for w in near_decision(near, prices, RULES)]

    assert codes({"000010": 9900, "000020": 10000}) == ["000010"]  # 1 % under; held 3 % away
    assert codes({"000010": 9810}) == ["000010"]  # 1.94 % under the target
    assert codes({"000010": 9800}) == []  # 2.04 % under
    assert codes({"000010": 10000}) == []  # in the band: the tick that brought it decided
    assert codes({}) == []  # no price yet: near nothing
    assert codes({"000020": 9850}) == ["000020"]  # -1.5 %: 1.5 % above the stop loss
    assert codes({"000020": 10320}) == ["000020"]  # +3.2 %: under 2 % from take profit
