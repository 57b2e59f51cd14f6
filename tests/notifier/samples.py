"""One realistic event of each kind, typed as producers build them, and their queue payloads."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import redis

from shared.infra.clock import KST
from shared.kis.models import Side
from shared.messaging.events import (
    BuyAttempt,
    ClosedDay,
    CodeNet,
    DailySummary,
    EntriesStopped,
    Event,
    EventKind,
    HeldPosition,
    KisBack,
    KisOutage,
    LimitTripped,
    MonthlySummary,
    NoPicks,
    OrderAccepted,
    OrderCancelled,
    OrderError,
    OrderFilled,
    OrderRejected,
    OrderUnknown,
    OrderWaiting,
    PicksUnreadable,
    PlannedPick,
    PremarketPlan,
    SellAttempt,
    ServiceError,
    ServiceStart,
    ServiceStop,
    WeeklySummary,
    from_payload,
    to_payload,
)
from shared.messaging.queues import queued_notifications
from shared.trading.auctions import Auction
from shared.trading.orders import OrderStatus, Reason
from shared.trading.trades import Realized

ORDER: dict[str, Any] = {
    "order_id": "20260302-005930-buy-entry",
    "session": date(2026, 3, 2),
    "code": "005930",
    "name": "삼성전자",
    "side": Side.BUY,
    "reason": Reason.ENTRY,
    "quantity": 14,
    "status": OrderStatus.ACCEPTED,
    "broker_order_no": "0000117057",
    "attempts": 1,
}
"""The fields every order event carries (a buy, accepted)."""
SELL: dict[str, Any] = ORDER | {
    "order_id": "20260309-005930-sell-take_profit",
    "session": date(2026, 3, 9),
    "side": Side.SELL,
    "reason": Reason.TAKE_PROFIT,
    "status": OrderStatus.FILLED,
}
"""The same fields for a sell that filled."""


def trade(i: int, reason: str = "take_profit", profit: int = 35_000) -> Realized:
    return Realized(
        order_id=f"20260309-{i:06d}-sell-{reason}",
        code=f"{i:06d}",
        name=f"종목{i:04d}",
        quantity=10,
        buy_price=Decimal(70000),
        sell_price=Decimal(73500),
        profit=profit,
        reason=Reason(reason),
    )


EVENTS: dict[str, Event] = {
    "service_start": ServiceStart(service="scheduler", instance="host-1-ab"),
    "service_stop": ServiceStop(service="scheduler", instance="host-1-ab"),
    "premarket_plan": PremarketPlan(
        session=date(2026, 3, 2),
        cash=10_000_000,
        buy_amount=1_000_000,
        picks=(
            PlannedPick(code="005930", name="삼성전자", target=70_000),
            PlannedPick(code="000660", name="SK하이닉스", target=180_000),
        ),
        held_picks=("035720",),
    ),
    "no_picks": NoPicks(session=date(2026, 3, 2), picks_given=2, held_picks=("005930", "000660")),
    "picks_error": PicksUnreadable(
        session=date(2026, 3, 2), message="picks.pkl: not a dict of code -> [name, target]"
    ),
    "entries_stopped": EntriesStopped(
        session=date(2026, 3, 3),
        message="the state of 2026-03-03 vanished from Redis while trading",
    ),
    "limit_tripped": LimitTripped(
        session=date(2026, 3, 3),
        limit="max_orders_per_day",
        value=2,
        message="the limit max_orders_per_day=2 is reached: buy 20260303-005930-buy-entry not sent",
    ),
    "buy_attempt": BuyAttempt(
        session=date(2026, 3, 2),
        code="005930",
        name="삼성전자",
        price=70_500,
        quantity=14,
        target=70_000,
    ),
    "sell_attempt": SellAttempt(
        session=date(2026, 3, 9),
        code="005930",
        name="삼성전자",
        price=67_900,
        quantity=14,
        reason=Reason.STOP_LOSS,
    ),
    "order_accepted": OrderAccepted(**ORDER),
    "order_waiting": OrderWaiting(
        **SELL | {"reason": Reason.STOP_LOSS, "status": OrderStatus.ACCEPTED},
        auction=Auction.VI,
    ),
    "order_filled": OrderFilled(
        **SELL,
        filled_quantity=14,
        fill_price=Decimal(73500),
        amount=1_029_000,
        realized_quantity=14,
        buy_price=Decimal(70000),
        sell_price=Decimal(73500),
        realized_profit=49_000,
        profit_rate=Decimal("5.00"),
    ),
    "order_rejected": OrderRejected(
        **ORDER | {"status": OrderStatus.REJECTED},
        error_code="APBK0952",
        message="주문가능금액을 초과 했습니다",
    ),
    "order_unknown": OrderUnknown(
        **ORDER | {"status": OrderStatus.UNKNOWN},
        error_code="timeout",
        message="no answer from KIS within 10s",
    ),
    "order_cancelled": OrderCancelled(
        **ORDER | {"status": OrderStatus.CANCELLED}, error_code="", message="session closed"
    ),
    "order_error": OrderError(
        **ORDER | {"status": OrderStatus.PENDING},
        error_code="EGW00201",
        message="초당 거래건수를 초과하였습니다.",
    ),
    "closed_day": ClosedDay(day=date(2026, 3, 1), next_session=date(2026, 3, 3)),
    "daily_summary": DailySummary(
        session=date(2026, 3, 9),
        realized=(trade(5930), trade(660, "stop_loss", -21_000), trade(35720, "expiry", 1_200)),
        realized_profit=15_200,
        realized_profit_net=9_850,
        positions=(
            HeldPosition(
                code="051910",
                name="LG화학",
                quantity=3,
                average_price=Decimal(350000),
                buy_session=date(2026, 3, 5),
            ),
        ),
        orders={OrderStatus.FILLED: 4, OrderStatus.REJECTED: 1},
        orderable_cash=9_015_200,
        cash_d2=9_015_200,
        total_value=10_065_200,
        reconciliation="finished",
    ),
    "weekly_summary": WeeklySummary(
        period="2026-W18",
        first_session=date(2026, 4, 27),
        last_session=date(2026, 4, 30),
        sessions=4,
        trades=3,
        wins=2,
        losses=1,
        realized_profit=12_000,
        realized_profit_net=9_500,
        fees=1_500,
        tax=1_000,
        win_rate_pct=Decimal("66.67"),
        profit_factor=Decimal("2.10"),
        best=CodeNet("005930", "삼성전자", 8_000),
        worst=CodeNet("000660", "SK하이닉스", -3_000),
        max_drawdown_won=25_000,
        max_drawdown_pct=Decimal("0.25"),
    ),
    "monthly_summary": MonthlySummary(
        period="2026-04",
        first_session=date(2026, 4, 1),
        last_session=date(2026, 4, 30),
        sessions=22,
        trades=2,
        wins=0,
        losses=2,
        realized_profit=-30_000,
        realized_profit_net=-34_100,
        fees=2_100,
        tax=2_000,
        win_rate_pct=Decimal("0.00"),
        profit_factor=Decimal("0.00"),
        best=CodeNet("035420", "NAVER", -4_100),
        worst=CodeNet("000660", "SK하이닉스", -30_000),
        max_drawdown_won=61_000,
        max_drawdown_pct=Decimal("0.61"),
    ),
    "error": ServiceError(
        service="scheduler", phase="intraday", message="KisTemporaryError: EGW00201"
    ),
    "kis_outage": KisOutage(
        since_kst=datetime(2026, 3, 3, 10, 31, 5, tzinfo=KST),
        detail="GET /uapi/domestic-stock/v1/quotations/inquire-price FHKST01010100: "
        "KIS unreachable (ConnectionError)",
    ),
    "kis_back": KisBack(
        since_kst=datetime(2026, 3, 3, 10, 31, 5, tzinfo=KST),
        until_kst=datetime(2026, 3, 3, 10, 35, 50, tzinfo=KST),
    ),
}
"""One event of every kind, keyed by kind."""
assert set(EVENTS) == {k.value for k in EventKind}

EXECUTOR_PAYLOADS: dict[str, dict[str, Any]] = {
    "order_accepted_reconciled": {
        "event": "order_accepted",
        "order_id": "20260302-005930-buy-entry",
        "session": "2026-03-02",
        "code": "005930",
        "name": "삼성전자",
        "side": "buy",
        "reason": "entry",
        "quantity": 14,
        "status": "filled",
        "broker_order_no": "0000117057",
        "attempts": 1,
        "reconciled": True,
    },
    "order_filled_sell": {
        "event": "order_filled",
        "order_id": "20260309-005930-sell-take_profit",
        "session": "2026-03-09",
        "code": "005930",
        "name": "삼성전자",
        "side": "sell",
        "reason": "take_profit",
        "quantity": 14,
        "status": "filled",
        "broker_order_no": "0000117057",
        "attempts": 1,
        "filled_quantity": 14,
        "fill_price": "73500",
        "amount": 1_029_000,
        "realized_quantity": 14,
        "buy_price": "70000",
        "sell_price": "73500",
        "realized_profit": 49_000,
        "profit_rate": "5.00",
    },
}
"""Payloads in the exact shape the executor sends them (``shared.messaging.events.order_*``)."""

TITLES = {
    "service_start": ("서비스 시작", "Service started"),
    "service_stop": ("서비스 종료", "Service stopped"),
    "premarket_plan": ("장 시작 전 매수 계획", "Pre-market plan"),
    "no_picks": ("매수할 종목 없음", "Nothing to buy"),
    "picks_error": ("추천 종목 오류", "Picks error"),
    "entries_stopped": ("신규 매수 중단", "New buys stopped"),
    "limit_tripped": ("한도 도달", "Limit reached"),
    "buy_attempt": ("매수 시도", "Buy attempt"),
    "sell_attempt": ("매도 시도 · 손절", "Sell attempt · stop-loss"),
    "order_accepted": ("매수 주문 접수", "Buy order accepted"),
    "order_waiting": (
        "매도 주문 접수 · 변동성 완화장치(VI) 단일가 매매 대기",
        "Sell order accepted · waiting for the volatility interruption's auction",
    ),
    "order_filled": ("매도 체결 · 익절", "Sell filled · take-profit"),
    "order_rejected": ("매수 주문 거부", "Buy order rejected"),
    "order_unknown": ("매수 주문 확인 필요", "Buy order outcome unknown"),
    "order_cancelled": ("매수 주문 취소", "Buy order cancelled"),
    "order_error": ("매수 주문 오류", "Buy order error"),
    "closed_day": ("휴장일", "Market closed"),
    "daily_summary": ("장 마감 결산", "Daily summary"),
    "weekly_summary": ("주간 결산", "Weekly summary"),
    "monthly_summary": ("월간 결산", "Monthly summary"),
    "error": ("오류 발생", "Error"),
    "kis_outage": ("KIS 응답 없음", "KIS not answering"),
    "kis_back": ("KIS 응답 재개", "KIS answers again"),
}
"""Expected embed title per event: (Korean, English)."""


def payload(name: str) -> dict[str, Any]:
    """The queue payload of ``EVENTS[name]``."""
    return to_payload(EVENTS[name])


def queued_payloads(client: redis.Redis, kind: str | None = None) -> list[dict[str, Any]]:
    """The event list's payloads (of ``kind``), oldest first, each checked against the
    event contract: it reads back into its registered typed event and encodes to the same."""
    found = []
    for event in queued_notifications(client):
        raw: dict[str, Any] = dict(event)
        assert to_payload(from_payload(raw)) == raw, raw
        if kind is None or raw["event"] == kind:
            found.append(raw)
    return found
