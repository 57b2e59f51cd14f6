"""The 60-session run's own arithmetic (benchmarks/track_record.py): the realised net P&L
recomputed from the simulator's fills, and the seeded market it plays."""

from __future__ import annotations

from datetime import date
from typing import Any

from benchmarks.track_record import PATH_TIMES, agreement, market, nets_from_fills, sessions_from
from shared.trading.market_calendar import KrxCalendar


def order(code: str, side: str, *fills: tuple[str, int, int, int, int]) -> dict[str, Any]:
    return {
        "code": code,
        "side": side,
        "fills": [
            {"filled_kst": at, "qty": qty, "price": price, "fee": fee, "tax": tax}
            for at, qty, price, fee, tax in fills
        ],
    }


def test_a_round_trip_counts_once_the_position_is_back_to_zero() -> None:
    orders = [
        order("000910", "buy", ("2026-03-03T09:00:00+09:00", 10, 10_000, 15, 0)),
        # Sold in two fills: counted after the second.
        order(
            "000910",
            "sell",
            ("2026-03-04T10:00:00+09:00", 4, 10_500, 6, 84),
            ("2026-03-04T10:01:00+09:00", 6, 10_600, 9, 127),
        ),
        order("000920", "buy", ("2026-03-04T09:00:00+09:00", 5, 20_000, 15, 0)),  # still held
        order("000930", "buy", ("2026-03-03T09:00:00+09:00", 3, 9_000, 4, 0)),
        order("000930", "sell", ("2026-03-03T11:00:00+09:00", 3, 8_700, 3, 52)),
    ]
    realised, held = nets_from_fills(orders)
    assert realised == {
        "000910": 4 * 10_500 + 6 * 10_600 - 6 - 84 - 9 - 127 - (10 * 10_000 + 15),
        "000930": 3 * 8_700 - 3 - 52 - (3 * 9_000 + 4),
    }
    assert held == {"000920"}


def test_agreement_says_each_code_and_the_total() -> None:
    lines = agreement({"000910": 5_159, "000930": -955}, {"000910": 5_159, "000930": -956})
    assert lines[0].endswith(": agree")
    assert lines[1].endswith(": DIFFER")
    assert lines[-1] == (
        "total realised net: /performance +4,204 won, simulator's fills +4,203 won: DIFFER"
    )


def test_the_market_is_seeded_and_spans_sixty_sessions() -> None:
    sessions = sessions_from(KrxCalendar(), date(2026, 3, 3), 60)
    assert (sessions[0], sessions[-1], len(sessions)) == (date(2026, 3, 3), date(2026, 5, 28), 60)
    assert date(2026, 5, 1) not in sessions  # Labour Day
    days = market(sessions, 1)
    assert days == market(sessions, 1)
    assert days != market(sessions, 2)
    for day in days:
        assert len(day.picks) == 3
        for code, (_, target) in day.picks.items():
            assert target == day.paths[code][0][1]  # bought at the open
        assert all([at for at, _ in path] == list(PATH_TIMES) for path in day.paths.values())
