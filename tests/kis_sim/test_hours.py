"""Orders only inside the session; quotes and balance any time."""

from __future__ import annotations

import pytest

from tests.kis_sim.conftest import KisFactory, rejection

PAPER_CLOSED = ("40580000", "모의투자 장종료 입니다.")
PAPER_PRE_OPEN = ("40570000", "모의투자 장시작전 입니다.")
REAL_NOT_TRADING_DAY = ("APBK0919", "장운영일자가 주문일과 상이합니다")
REAL_OUTSIDE_HOURS = ("APBK0918", "장운영시간이 아닙니다.(주문불가)")


@pytest.mark.parametrize(
    ("rules", "start", "expected"),
    [
        ("paper", "2026-03-03T08:00:00+09:00", PAPER_PRE_OPEN),
        ("paper", "2026-03-03T15:30:00+09:00", PAPER_CLOSED),
        ("paper", "2026-06-03T10:00:00+09:00", PAPER_CLOSED),
        ("real", "2026-03-03T08:00:00+09:00", REAL_OUTSIDE_HOURS),
        ("real", "2026-06-03T10:00:00+09:00", REAL_NOT_TRADING_DAY),
    ],
    ids=["paper-pre-open", "paper-at-close", "paper-holiday", "real-pre-open", "real-holiday"],
)
def test_orders_outside_the_session_are_rejected(
    kis: KisFactory, rules: str, start: str, expected: tuple[str, str]
) -> None:
    client = kis(prefix="V" if rules == "paper" else "T", SIM_RULES=rules, CLOCK_START=start)
    assert rejection(client.order("buy", "005930", 1)) == (200, *expected)
    assert client.quote("005930")["stck_prpr"] != "0"
    assert client.balance().json()["rt_cd"] == "0"
    assert client.execution_rows(INQR_STRT_DT="20260101", INQR_END_DT="20261231") == []
