"""The message catalogue in Korean and English, and how numbers read in each language.

Korean keeps the tone of the user's original script (``[오류 발생]``, ``목표가 달성 ... 매수를
시도합니다``); English says the same plainly. Placeholders are filled by :mod:`format`.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Literal

Language = Literal["ko", "en"]

MISSING = "-"
"""Shown for a field the event did not carry."""

KO: dict[str, str] = {
    # Units and words
    "won": "{}원",
    "shares": "{}주",
    "count": "{}건",
    "stocks": "{}종목",
    "none": "없음",
    "stock": "{name}({code})",
    "side.buy": "매수",
    "side.sell": "매도",
    "reason.entry": "신규 매수",
    "reason.take_profit": "익절",
    "reason.stop_loss": "손절",
    "reason.expiry": "보유기간 만료",
    "reason.manual": "수동",
    "reason.adopted": "KIS 체결 복구",
    "status.pending": "대기",
    "status.submitting": "전송 중",
    "status.accepted": "접수",
    "status.partially_filled": "부분 체결",
    "status.filled": "체결",
    "status.rejected": "거부",
    "status.unknown": "확인 필요",
    "status.cancelled": "취소",
    # Events: title and the one-line text of the message
    "service_start.title": "서비스 시작",
    "service_start.text": "===국내 주식 자동매매 {service} 서비스를 시작합니다===",
    "service_stop.title": "서비스 종료",
    "service_stop.text": "{service} 서비스를 종료합니다.",
    "premarket_plan.title": "장 시작 전 매수 계획",
    "premarket_plan.text": "{session} 매수 대상 {count}, 종목당 {buy_amount}씩 매수합니다.",
    "no_picks.title": "매수할 종목 없음",
    "no_picks.text": "{session} 오늘은 매수할 종목이 없습니다.",
    "picks_error.title": "추천 종목 오류",
    "picks_error.text": "{session} 추천 종목을 읽을 수 없어 오늘은 매수하지 않습니다.",
    "entries_stopped.title": "신규 매수 중단",
    "entries_stopped.text": (
        "{session} 시스템 상태가 유실되어 오늘은 더 매수하지 않습니다. 매도는 계속합니다."
    ),
    "limit_tripped.title": "한도 도달",
    "limit_tripped.text": "{session} {limit} 한도({value})에 도달했습니다.",
    "buy_attempt.title": "매수 시도",
    "buy_attempt.text": "{stock} 목표가 {target} 달성 (현재가 {price}) 매수를 시도합니다.",
    "buy_attempt.untargeted": "{stock} 현재가 {price}, 매수를 시도합니다.",
    "sell_attempt.title": "매도 시도 · {reason}",
    "sell_attempt.text": "{stock} {reason}: 전량 매도를 시도합니다.",
    "order_accepted.title": "{side} 주문 접수",
    "order_accepted.text": "{stock} {qty} {side} 주문이 접수되었습니다.",
    "order_accepted.reconciled": "체결 내역 대조로 확인된 주문입니다.",
    "order_waiting.title": "{side} 주문 접수 · {auction} 대기",
    "order_waiting.text": (
        "{stock} {qty} {side} 주문이 접수되었고 {auction}을 기다립니다: 그동안 체결되지 않고, "
        "끝날 때 단일가로 체결됩니다."
    ),
    "auction.opening": "시가 단일가 매매",
    "auction.closing": "종가 단일가 매매",
    "auction.volatility_interruption": "변동성 완화장치(VI) 단일가 매매",
    "order_filled.title": "{side} 체결",
    "order_filled.partial_title": "{side} 부분 체결",
    "order_filled.sell_title": "매도 체결 · {reason}",
    "order_filled.text": "{stock} {qty} {price}에 {side} 체결되었습니다.",
    "order_filled.profit_text": "{stock} {qty} {price}에 매도 체결 ({reason}), 실현 손익 {profit}",
    "order_rejected.title": "{side} 주문 거부",
    "order_rejected.text": "{stock} {side} 주문이 거부되었습니다: {message}",
    "order_unknown.title": "{side} 주문 확인 필요",
    "order_unknown.text": "{stock} {side} 주문 결과를 알 수 없어 체결 내역으로 확인합니다.",
    "order_cancelled.title": "{side} 주문 취소",
    "order_cancelled.text": "{stock} {side} 주문이 취소되었습니다.",
    "order_error.title": "{side} 주문 오류",
    "order_error.text": "{stock} {side} 주문 중 오류가 발생했습니다.",
    "closed_day.title": "휴장일",
    "closed_day.text": "오늘({day})은 휴장일입니다. 다음 거래일은 {next_session}입니다.",
    "daily_summary.title": "장 마감 결산",
    "daily_summary.text": "{session} 장 마감: 실현 손익 {profit}",
    "daily_summary.trade": "• {stock} {qty} {buy} → {sell} · {reason} · {profit} ({rate})",
    "daily_summary.position": "• {stock} {qty} · 평균 {price} · 매수일 {since}",
    "weekly_summary.title": "주간 결산",
    "weekly_summary.text": "{period} 주간 실현 손익 {net} (수수료·세금 차감)",
    "weekly_summary.empty": "{period} 이번 주는 매도한 거래가 없습니다.",
    "monthly_summary.title": "월간 결산",
    "monthly_summary.text": "{period} 월간 실현 손익 {net} (수수료·세금 차감)",
    "monthly_summary.empty": "{period} 이번 달은 매도한 거래가 없습니다.",
    "period.span": "{first} ~ {last} · 거래일 {sessions}",
    "period.costs": "수수료 {fees} · 세금 {tax}",
    "period.trades": "{trades}건 (수익 {wins} · 손실 {losses})",
    "period.no_loss": "손실 거래 없음",
    "sessions": "{}일",
    "error.title": "오류 발생",
    "error.text": "{message}",
    "kis_outage.title": "KIS 응답 없음",
    "kis_outage.text": "{since}부터 KIS가 응답하지 않습니다. 시세 조회와 주문이 멈춰 있습니다.",
    "kis_back.title": "KIS 응답 재개",
    "kis_back.text": "KIS가 다시 응답합니다 ({since}부터 {minutes}분간 응답 없음).",
    "unconfirmed.text": (
        "⚠️ Discord가 직전 메시지의 게시 여부를 알려주지 않았습니다 ({detail}). 중복을 막기 위해 "
        "다시 보내지 않았으니, 빠졌다면 이 메시지를 참고하세요: {summary}"
    ),
    "plan.pick": "• {stock} 목표가 {target}",
    # Field names
    "f.cash": "주문 가능 현금",
    "f.buy_amount": "종목당 매수 금액",
    "f.held_picks": "보유 중이라 제외",
    "f.picks_given": "받은 추천 종목",
    "f.price": "현재가",
    "f.target": "목표가",
    "f.qty": "수량",
    "f.estimate": "예상 금액",
    "f.reason": "사유",
    "f.fill_price": "체결가",
    "f.amount": "체결 금액",
    "f.buy_price": "매수가",
    "f.profit": "실현 손익",
    "f.broker_no": "KIS 주문번호",
    "f.error_code": "KIS 응답 코드",
    "f.message": "내용",
    "f.service": "서비스",
    "f.instance": "인스턴스",
    "f.phase": "단계",
    "f.balance": "현금",
    "f.profit_net": "실현 손익 (수수료·세금 차감)",
    "f.orderable_cash": "주문 가능 현금",
    "f.cash_d2": "D+2 예수금 (결제 후 현금)",
    "f.total_value": "총 평가 금액",
    "f.orders": "주문 현황",
    "f.trades": "매도 내역",
    "f.positions": "보유 종목",
    "f.next_session": "다음 거래일",
    "f.costs": "비용",
    "f.trade_count": "거래",
    "f.win_rate": "승률",
    "f.profit_factor": "손익비 (Profit factor)",
    "f.best": "최고 종목",
    "f.worst": "최저 종목",
    "f.max_drawdown": "최대 낙폭 (종가 기준 평가 금액)",
}

EN: dict[str, str] = {
    "won": "{} won",
    "shares": "{} shares",
    "count": "{}",
    "stocks": "{} stocks",
    "none": "none",
    "stock": "{name} ({code})",
    "side.buy": "buy",
    "side.sell": "sell",
    "reason.entry": "entry",
    "reason.take_profit": "take-profit",
    "reason.stop_loss": "stop-loss",
    "reason.expiry": "holding period expired",
    "reason.manual": "manual",
    "reason.adopted": "recovered from KIS",
    "status.pending": "pending",
    "status.submitting": "submitting",
    "status.accepted": "accepted",
    "status.partially_filled": "partially filled",
    "status.filled": "filled",
    "status.rejected": "rejected",
    "status.unknown": "unknown",
    "status.cancelled": "cancelled",
    "service_start.title": "Service started",
    "service_start.text": "=== KRX auto-trader: {service} service started ===",
    "service_stop.title": "Service stopped",
    "service_stop.text": "{service} service stopped.",
    "premarket_plan.title": "Pre-market plan",
    "premarket_plan.text": "{session}: {count} to buy, {buy_amount} each.",
    "no_picks.title": "Nothing to buy",
    "no_picks.text": "{session}: no picks to buy today.",
    "picks_error.title": "Picks error",
    "picks_error.text": "{session}: the picks could not be read; no buying today.",
    "entries_stopped.title": "New buys stopped",
    "entries_stopped.text": (
        "{session}: the system's state was lost; no more buys today, sells go on."
    ),
    "limit_tripped.title": "Limit reached",
    "limit_tripped.text": "{session}: the limit {limit} ({value}) was reached.",
    "buy_attempt.title": "Buy attempt",
    "buy_attempt.text": "{stock} reached its target of {target} (price {price}); trying to buy.",
    "buy_attempt.untargeted": "{stock} at {price}; trying to buy.",
    "sell_attempt.title": "Sell attempt · {reason}",
    "sell_attempt.text": "{stock} {reason}: selling the whole position.",
    "order_accepted.title": "{side} order accepted",
    "order_accepted.text": "{stock}: {side} order for {qty} accepted.",
    "order_accepted.reconciled": "Found by matching KIS's executions.",
    "order_waiting.title": "{side} order accepted · waiting for {auction}",
    "order_waiting.text": (
        "{stock}: {side} order for {qty} accepted, waiting for {auction}: nothing fills "
        "until it ends, then it fills at the auction's one price."
    ),
    "auction.opening": "the opening auction",
    "auction.closing": "the closing auction",
    "auction.volatility_interruption": "the volatility interruption's auction",
    "order_filled.title": "{side} filled",
    "order_filled.partial_title": "{side} partially filled",
    "order_filled.sell_title": "Sell filled · {reason}",
    "order_filled.text": "{stock}: {side} {qty} filled at {price}.",
    "order_filled.profit_text": "{stock}: sold {qty} at {price} ({reason}), realised P&L {profit}",
    "order_rejected.title": "{side} order rejected",
    "order_rejected.text": "{stock}: {side} order rejected: {message}",
    "order_unknown.title": "{side} order outcome unknown",
    "order_unknown.text": "{stock}: {side} order outcome unknown; checking KIS's executions.",
    "order_cancelled.title": "{side} order cancelled",
    "order_cancelled.text": "{stock}: {side} order cancelled.",
    "order_error.title": "{side} order error",
    "order_error.text": "{stock}: the {side} order failed.",
    "closed_day.title": "Market closed",
    "closed_day.text": "KRX is closed today ({day}). Next session: {next_session}.",
    "daily_summary.title": "Daily summary",
    "daily_summary.text": "{session} closed: realised P&L {profit}",
    "daily_summary.trade": "• {stock} {qty} {buy} → {sell} · {reason} · {profit} ({rate})",
    "daily_summary.position": "• {stock} {qty} · average {price} · bought {since}",
    "weekly_summary.title": "Weekly summary",
    "weekly_summary.text": "Week {period}: realised P&L {net} after fees and tax",
    "weekly_summary.empty": "Week {period}: no trade was closed this week.",
    "monthly_summary.title": "Monthly summary",
    "monthly_summary.text": "{period}: realised P&L {net} after fees and tax",
    "monthly_summary.empty": "{period}: no trade was closed this month.",
    "period.span": "{first} to {last} · {sessions}",
    "period.costs": "fees {fees} · tax {tax}",
    "period.trades": "{trades} ({wins} winning, {losses} losing)",
    "period.no_loss": "no losing trade",
    "sessions": "{} sessions",
    "error.title": "Error",
    "error.text": "{message}",
    "kis_outage.title": "KIS not answering",
    "kis_outage.text": "KIS has not answered since {since}: no quotes are read, no order goes.",
    "kis_back.title": "KIS answers again",
    "kis_back.text": "KIS answers again (it did not from {since}, for {minutes} min).",
    "unconfirmed.text": (
        "⚠️ Discord did not say whether it posted the previous message ({detail}). It was not "
        "sent again, so it is never doubled; if it is missing, it read: {summary}"
    ),
    "plan.pick": "• {stock} target {target}",
    "f.cash": "Orderable cash",
    "f.buy_amount": "Amount per pick",
    "f.held_picks": "Held, skipped",
    "f.picks_given": "Picks given",
    "f.price": "Price",
    "f.target": "Target",
    "f.qty": "Quantity",
    "f.estimate": "Estimated amount",
    "f.reason": "Reason",
    "f.fill_price": "Fill price",
    "f.amount": "Amount",
    "f.buy_price": "Buy price",
    "f.profit": "Realised P&L",
    "f.broker_no": "KIS order no.",
    "f.error_code": "KIS code",
    "f.message": "Message",
    "f.service": "Service",
    "f.instance": "Instance",
    "f.phase": "Phase",
    "f.balance": "Cash",
    "f.profit_net": "Realised P&L after fees and tax",
    "f.orderable_cash": "Orderable cash",
    "f.cash_d2": "Cash at D+2 (after settlement)",
    "f.total_value": "Total value",
    "f.orders": "Orders",
    "f.trades": "Sells",
    "f.positions": "Holdings",
    "f.next_session": "Next session",
    "f.costs": "Costs",
    "f.trade_count": "Trades",
    "f.win_rate": "Win rate",
    "f.profit_factor": "Profit factor",
    "f.best": "Best code",
    "f.worst": "Worst code",
    "f.max_drawdown": "Max drawdown (value at the closes)",
}

CATALOGUES: dict[str, dict[str, str]] = {"ko": KO, "en": EN}
"""Texts by language; both have the same keys."""


class Texts:
    """The catalogue of one language, with the number formats that go with it."""

    def __init__(self, language: Language) -> None:
        self.language = language
        self._texts = CATALOGUES[language]

    def __call__(self, key: str, *args: object, **values: object) -> str:
        return self._texts[key].format(*args, **values)

    def word(self, group: str, value: object) -> str:
        """``reason.take_profit`` → 익절; an unknown value is shown as it came."""
        shown = str(value) if value not in (None, "") else MISSING
        return self._texts.get(f"{group}.{value}", shown)

    def won(self, value: object, signed: bool = False) -> str:
        amount = number(value)
        if amount is None:
            return MISSING if value in (None, "") else str(value)
        shown = f"{amount:+,}" if signed else f"{amount:,}"
        return self("won", shown)

    def shares(self, value: object) -> str:
        return self("shares", value if value not in (None, "") else MISSING)

    def rate(self, value: object) -> str:
        rate = number(value)
        return MISSING if rate is None else f"{rate:+.2f}%"

    def stock(self, code: str, name: str) -> str:
        """``삼성전자(005930)``; the code alone when the name is blank."""
        code = code or MISSING
        return self("stock", name=name, code=code) if name else code

    def codes(self, values: object) -> str:
        listed = [str(v) for v in values] if isinstance(values, list | tuple) else []
        return ", ".join(listed) if listed else self("none")


def number(value: object) -> Decimal | int | None:
    """Money and rates arrive as int or as a decimal string (``"70000"``, ``"5.23"``)."""
    if isinstance(value, bool) or value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    return int(number) if number == number.to_integral_value() else number.normalize()
