"""One realistic event of each kind, with the fields their producers send."""

from __future__ import annotations

from typing import Any

ORDER = {
    "order_id": "20260302-005930-buy-entry",
    "session": "2026-03-02",
    "code": "005930",
    "name": "삼성전자",
    "side": "buy",
    "reason": "entry",
    "quantity": 14,
    "status": "accepted",
    "broker_order_no": "0000117057",
    "attempts": 1,
}
SELL = ORDER | {
    "order_id": "20260309-005930-sell-take_profit",
    "session": "2026-03-09",
    "side": "sell",
    "reason": "take_profit",
    "status": "filled",
}


def trade(i: int, reason: str = "take_profit", profit: int = 35_000) -> dict[str, Any]:
    return {
        "code": f"{i:06d}",
        "name": f"종목{i:04d}",
        "quantity": 10,
        "buy_price": "70000",
        "sell_price": "73500",
        "profit": profit,
        "profit_rate": "5.00",
        "reason": reason,
    }


EVENTS: dict[str, dict[str, Any]] = {
    "service_start": {"event": "service_start", "service": "scheduler", "instance": "host-1-ab"},
    "service_stop": {"event": "service_stop", "service": "scheduler", "instance": "host-1-ab"},
    "premarket_plan": {
        "event": "premarket_plan",
        "session": "2026-03-02",
        "cash": 10_000_000,
        "buy_amount": 1_000_000,
        "picks": [
            {"code": "005930", "name": "삼성전자", "target": 70_000},
            {"code": "000660", "name": "SK하이닉스", "target": 180_000},
        ],
        "held_picks": ["035720"],
    },
    "no_picks": {
        "event": "no_picks",
        "session": "2026-03-02",
        "picks_given": 2,
        "held_picks": ["005930", "000660"],
    },
    "picks_error": {
        "event": "picks_error",
        "session": "2026-03-02",
        "message": "picks.pkl: not a dict of code -> [name, target]",
    },
    "buy_attempt": {
        "event": "buy_attempt",
        "session": "2026-03-02",
        "code": "005930",
        "name": "삼성전자",
        "price": 70_500,
        "qty": 14,
    },
    "sell_attempt": {
        "event": "sell_attempt",
        "session": "2026-03-09",
        "code": "005930",
        "name": "삼성전자",
        "price": 67_900,
        "qty": 14,
        "reason": "stop_loss",
    },
    "order_accepted": {"event": "order_accepted", **ORDER},
    "order_filled": {
        "event": "order_filled",
        **SELL,
        "filled_quantity": 14,
        "fill_price": "73500",
        "amount": 1_029_000,
        "realized_quantity": 14,
        "buy_price": "70000",
        "sell_price": "73500",
        "realized_profit": 49_000,
        "profit_rate": "5.00",
    },
    "order_rejected": {
        "event": "order_rejected",
        **ORDER,
        "status": "rejected",
        "error_code": "APBK0952",
        "message": "주문가능금액을 초과 했습니다",
    },
    "order_unknown": {
        "event": "order_unknown",
        **ORDER,
        "status": "unknown",
        "error_code": "timeout",
        "message": "no answer from KIS within 10s",
    },
    "order_cancelled": {
        "event": "order_cancelled",
        **ORDER,
        "status": "cancelled",
        "error_code": "",
        "message": "session closed",
    },
    "order_error": {
        "event": "order_error",
        **ORDER,
        "status": "pending",
        "error_code": "EGW00201",
        "message": "초당 거래건수를 초과하였습니다.",
    },
    "closed_day": {"event": "closed_day", "day": "2026-03-01", "next_session": "2026-03-03"},
    "daily_summary": {
        "event": "daily_summary",
        "session": "2026-03-09",
        "realized": [trade(5930), trade(660, "stop_loss", -21_000), trade(35720, "expiry", 1_200)],
        "realized_profit": 15_200,
        "positions": [
            {
                "code": "051910",
                "name": "LG화학",
                "quantity": 3,
                "average_price": "350000",
                "buy_session": "2026-03-05",
            }
        ],
        "orders": {"filled": 4, "rejected": 1},
        "cash": 9_015_200,
        "total_value": 10_065_200,
    },
    "error": {
        "event": "error",
        "service": "scheduler",
        "phase": "intraday",
        "message": "KisTemporaryError: EGW00201",
    },
}

TITLES = {
    "service_start": ("서비스 시작", "Service started"),
    "service_stop": ("서비스 종료", "Service stopped"),
    "premarket_plan": ("장 시작 전 매수 계획", "Pre-market plan"),
    "no_picks": ("매수할 종목 없음", "Nothing to buy"),
    "picks_error": ("추천 종목 오류", "Picks error"),
    "buy_attempt": ("매수 시도", "Buy attempt"),
    "sell_attempt": ("매도 시도 · 손절", "Sell attempt · stop-loss"),
    "order_accepted": ("매수 주문 접수", "Buy order accepted"),
    "order_filled": ("매도 체결 · 익절", "Sell filled · take-profit"),
    "order_rejected": ("매수 주문 거부", "Buy order rejected"),
    "order_unknown": ("매수 주문 확인 필요", "Buy order outcome unknown"),
    "order_cancelled": ("매수 주문 취소", "Buy order cancelled"),
    "order_error": ("매수 주문 오류", "Buy order error"),
    "closed_day": ("휴장일", "Market closed"),
    "daily_summary": ("장 마감 결산", "Daily summary"),
    "error": ("오류 발생", "Error"),
}
"""Expected embed title per event: (Korean, English)."""
