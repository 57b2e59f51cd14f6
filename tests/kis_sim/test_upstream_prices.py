"""A dry run's ledger market (``Market(live=True)``): prices only as read from upstream, never
the walk (docs/ARCHITECTURE.md, 'Dry run'; services/kis_sim/upstream.py)."""

from __future__ import annotations

from datetime import datetime

from services.kis_sim.market import Market
from shared.infra.clock import KST
from shared.trading.krx_ticks import lower_limit, upper_limit
from shared.trading.market_calendar import KrxCalendar

TUESDAY = datetime(2026, 3, 3, 10, 0, tzinfo=KST)


def live_market() -> Market:
    return Market(42, KrxCalendar(), None, live=True)


def test_a_code_not_read_is_unknown_and_never_walks() -> None:
    market = live_market()
    assert not market.is_listed("005930")
    assert market.quote("005930", TUESDAY).price == 0
    walking = Market(42, KrxCalendar(), None)
    assert walking.is_listed("005930") and walking.quote("005930", TUESDAY).price > 0


def test_a_read_price_holds_until_the_next_and_the_limits_are_kis_ones() -> None:
    market = live_market()
    market.record("005930", TUESDAY, 71_000, base=70_000)
    assert market.is_listed("005930")
    quote = market.quote("005930", TUESDAY.replace(minute=30))
    assert (quote.price, quote.base) == (71_000, 70_000)
    assert (quote.upper, quote.lower) == (upper_limit(70_000), lower_limit(70_000))
    later = TUESDAY.replace(hour=11)
    market.record("005930", later, 72_000, base=70_000)
    assert market.price("005930", TUESDAY.replace(minute=59)) == 71_000
    assert market.price("005930", later) == 72_000
    # A resting buy at 71,500 would have traded at the first read at or under it.
    crossing = market.first_crossing("005930", "buy", 71_500, TUESDAY, later)
    assert crossing == TUESDAY


def test_the_same_price_read_again_adds_no_point_and_old_days_go() -> None:
    market = live_market()
    market.record("005930", TUESDAY, 71_000, base=70_000)
    market.record("005930", TUESDAY.replace(minute=1), 71_000, base=70_000)
    path = market.path("005930")
    assert path is not None and len(path.absolute) == 2  # the base and one read
    wednesday = datetime(2026, 3, 4, 9, 30, tzinfo=KST)
    market.record("005930", wednesday, 73_000, base=72_500)
    path = market.path("005930")
    assert path is not None
    assert [p for _, p in path.absolute] == [72_500, 73_000]
