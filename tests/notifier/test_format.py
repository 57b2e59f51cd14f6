"""Every event formats in Korean and English, with the words, amounts and colours expected."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from services.notifier.format import BLUE, GREEN, GREY, RED, as_text, render
from services.notifier.messages import messages
from services.notifier.scrub import Scrubber
from services.notifier.texts import EN, KO
from shared.kis.models import Side
from shared.messaging.events import Event, OrderFilled, ServiceError
from shared.trading.orders import OrderStatus, Reason
from tests.notifier.fake_discord import validate
from tests.notifier.samples import EVENTS, SELL, TITLES, payload


def one(event: Event | Mapping[str, Any], language: str = "ko") -> dict[str, Any]:
    [payload] = render(event, language)  # type: ignore[arg-type]
    return payload


def embed(event: Event | Mapping[str, Any], language: str = "ko") -> dict[str, Any]:
    embeds: list[dict[str, Any]] = one(event, language)["embeds"]
    [e] = embeds
    return e


def test_catalogues_have_the_same_keys() -> None:
    assert KO.keys() == EN.keys()


@pytest.mark.parametrize("language", ["ko", "en"])
@pytest.mark.parametrize("name", sorted(EVENTS))
def test_every_event_formats(name: str, language: str) -> None:
    event = EVENTS[name]
    shown = one(event, language)
    title = TITLES[name][0 if language == "ko" else 1]
    assert shown["embeds"][0]["title"] == title
    assert shown["content"].startswith(f"[{title}] ")
    text = as_text(shown)
    assert "{" not in text and "None" not in text, text
    for message in messages(event, language, Scrubber()):  # type: ignore[arg-type]
        assert validate(message) == []
    # Off the queue, the payload reads back into the same event and the same message.
    assert one(payload(name), language) == shown


def filled() -> OrderFilled:
    event = EVENTS["order_filled"]
    assert isinstance(event, OrderFilled)
    return event


def test_korean_buy_attempt_keeps_the_seeds_tone() -> None:
    # Issue 20: "목표가 달성 (70,500원)" named the price seen as if it were the target.
    content = one(EVENTS["buy_attempt"])["content"]
    assert content == (
        "[매수 시도] 삼성전자(005930) 목표가 70,000원 달성 (현재가 70,500원) 매수를 시도합니다."
    )
    fields = {f["name"]: f["value"] for f in embed(EVENTS["buy_attempt"])["fields"]}
    assert fields == {
        "목표가": "70,000원",
        "현재가": "70,500원",
        "수량": "14주",
        "예상 금액": "987,000원",
    }


def test_english_uses_won() -> None:
    content = one(EVENTS["buy_attempt"], "en")["content"]
    assert content == (
        "[Buy attempt] 삼성전자 (005930) reached its target of 70,000 won (price 70,500 won);"
        " trying to buy."
    )


@pytest.mark.parametrize(
    ("language", "content"),
    [
        ("ko", "[매수 시도] 삼성전자(005930) 현재가 70,500원, 매수를 시도합니다."),
        ("en", "[Buy attempt] 삼성전자 (005930) at 70,500 won; trying to buy."),
    ],
)
def test_a_buy_attempt_queued_before_targets_were_sent_names_no_target(
    language: str, content: str
) -> None:
    event = replace(EVENTS["buy_attempt"], target=None)
    assert one(event, language)["content"] == content


@pytest.mark.parametrize(
    ("reason", "profit", "rate", "ko", "en", "colour"),
    [
        # The Korean market's colours: red up, blue down.
        ("take_profit", 49_000, "5.00", "익절", "take-profit", RED),
        ("stop_loss", -21_000, "-3.00", "손절", "stop-loss", BLUE),
        ("expiry", 1_200, "0.12", "보유기간 만료", "holding period expired", RED),
        ("expiry", -8_000, "-0.81", "보유기간 만료", "holding period expired", BLUE),
    ],
)
def test_sell_fill_says_why_and_how_much(
    reason: str, profit: int, rate: str, ko: str, en: str, colour: int
) -> None:
    # The rate shown is the sale's own, from its prices (bought at 70,000 won).
    sold = Decimal(70000) * (1 + Decimal(rate) / 100)
    event = replace(
        filled(),
        reason=Reason(reason),
        sell_price=sold,
        realized_profit=profit,
        profit_rate=Decimal(rate),
    )
    shown = f"{profit:+,}원 ({float(rate):+.2f}%)"
    payload = one(event)
    assert payload["embeds"][0]["title"] == f"매도 체결 · {ko}"
    assert payload["embeds"][0]["color"] == colour
    assert payload["content"].endswith(f"실현 손익 {shown}")
    assert f"({ko})" in payload["content"]
    english = one(event, "en")
    assert english["embeds"][0]["title"] == f"Sell filled · {en}"
    assert english["content"].endswith(f"realised P&L {profit:+,} won ({float(rate):+.2f}%)")


def test_buy_fill_is_green_with_price_and_amount() -> None:
    event = OrderFilled(
        **SELL | {"side": Side.BUY, "reason": Reason.ENTRY},
        filled_quantity=14,
        fill_price=Decimal(70500),
        amount=987_000,
    )
    e = embed(event)
    assert (e["title"], e["color"]) == ("매수 체결", GREEN)
    fields = {f["name"]: f["value"] for f in e["fields"]}
    assert fields["체결가"] == "70,500원"
    assert fields["체결 금액"] == "987,000원"
    assert fields["KIS 주문번호"] == "117057"


def test_partial_fill_shows_how_much_of_the_order() -> None:
    event = replace(
        filled(),
        side=Side.BUY,
        status=OrderStatus.PARTIALLY_FILLED,
        realized_quantity=None,
        buy_price=None,
        sell_price=None,
        realized_profit=None,
        profit_rate=None,
        filled_quantity=7,
    )
    assert embed(event)["title"] == "매수 부분 체결"
    assert "7/14주" in one(event)["content"]


def test_rejection_carries_kis_message() -> None:
    payload = one(EVENTS["order_rejected"])
    assert payload["content"].endswith("매수 주문이 거부되었습니다: 주문가능금액을 초과 했습니다")
    assert payload["embeds"][0]["color"] == RED
    fields = {f["name"]: f["value"] for f in payload["embeds"][0]["fields"]}
    assert fields["KIS 응답 코드"] == "APBK0952"


def test_error_keeps_the_seeds_words() -> None:
    assert one(EVENTS["error"])["content"] == "[오류 발생] KisTemporaryError: EGW00201"


def test_closed_day_is_grey() -> None:
    payload = one(EVENTS["closed_day"])
    assert payload["embeds"][0]["color"] == GREY
    assert "오늘(2026-03-01)은 휴장일입니다. 다음 거래일은 2026-03-03입니다." in payload["content"]


def test_daily_summary_lists_sells_with_reasons_and_balances() -> None:
    e = embed(EVENTS["daily_summary"])
    assert e["color"] == RED  # a gain: red up
    description = e["description"]
    assert "• 종목5930(005930) 10주 70,000원 → 73,500원 · 익절 · +35,000원 (+5.00%)" in description
    assert "손절 · -21,000원" in description
    assert "보유기간 만료 · +1,200원" in description
    assert "• LG화학(051910) 3주 · 평균 350,000원 · 매수일 2026-03-05" in description
    fields = {f["name"]: f["value"] for f in e["fields"]}
    assert fields == {
        "실현 손익": "+15,200원",
        "실현 손익 (수수료·세금 차감)": "+9,850원",
        "주문 가능 현금": "9,015,200원",
        "D+2 예수금 (결제 후 현금)": "9,015,200원",
        "총 평가 금액": "10,065,200원",
        "주문 현황": "체결 4건 · 거부 1건",
    }


def test_premarket_plan_amounts_have_separators() -> None:
    payload = one(EVENTS["premarket_plan"])
    assert "종목당 1,000,000원씩" in payload["content"]
    assert "• SK하이닉스(000660) 목표가 180,000원" in payload["embeds"][0]["description"]


def test_unknown_event_lists_its_fields() -> None:
    event = {"event": "ledger_exported", "path": "data/ledger.json", "rows": 3, "codes": ["A"]}
    payload = one(event, "en")
    e = payload["embeds"][0]
    assert e["title"] == "ledger_exported"
    assert [(f["name"], f["value"]) for f in e["fields"]] == [
        ("path", "data/ledger.json"),
        ("rows", "3"),
        ("codes", '["A"]'),
    ]
    assert validate(payload) == []


def test_a_payload_outside_the_contract_is_logged_and_still_shown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The field name of old (``qty``) is not the contract's (``quantity``): shown, never dropped.
    old = {k: v for k, v in payload("buy_attempt").items() if k != "quantity"} | {"qty": 14}
    with caplog.at_level(logging.WARNING, logger="services.notifier.format"):
        shown = one(old, "en")
    e = shown["embeds"][0]
    assert e["title"] == "buy_attempt"
    assert ("qty", "14") in [(f["name"], f["value"]) for f in e["fields"]]
    assert validate(shown) == []
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert "buy_attempt does not fit the event contract" in record.getMessage()
    assert "unexpected field qty" in record.getMessage()


def test_odd_fields_still_make_a_message() -> None:
    event = {"event": "premarket_plan", "picks": "not a list", "cash": "lots", "buy_amount": None}
    payload = one(event)
    assert payload["content"]
    assert validate(payload) == []
    odd: dict[str, Any] = {"event": "daily_summary", "realized": [1, 2], "orders": ["x"]}
    assert validate(one(odd | {"realized_profit": "?"}, "en")) == []


def test_timestamp_when_known() -> None:
    from datetime import UTC, datetime

    queued = datetime(2026, 3, 2, 0, 5, tzinfo=UTC)
    [payload] = render(EVENTS["buy_attempt"], "ko", queued.timestamp())
    assert payload["embeds"][0]["timestamp"] == "2026-03-02T00:05:00+00:00"


def test_balances_only_before_the_open_and_after_the_close() -> None:
    # The seed posted the whole balance every loop; only the plan and the summary carry money
    # totals now.
    labels = {KO["f.cash"], KO["f.balance"], KO["f.total_value"]}
    for name, event in EVENTS.items():
        fields = {f["name"] for f in embed(event).get("fields", [])}
        assert bool(fields & labels) == (name in ("premarket_plan", "daily_summary")), name


def test_no_message_can_ping_anyone() -> None:
    event = ServiceError(message="@everyone look")
    assert one(event)["allowed_mentions"] == {"parse": []}
    assert all(p["allowed_mentions"] == {"parse": []} for p in messages(event, "ko", Scrubber()))


@pytest.mark.parametrize(("profit", "colour"), [(15_200, RED), (-3_000, BLUE), (0, GREY)])
def test_daily_summary_is_red_up_blue_down(profit: int, colour: int) -> None:
    event = replace(EVENTS["daily_summary"], realized_profit=profit)  # type: ignore[type-var]
    assert embed(event)["color"] == colour


def test_sell_attempts_are_red_for_take_profit_and_blue_for_stop_loss() -> None:
    attempt = EVENTS["sell_attempt"]
    assert embed(replace(attempt, reason=Reason.TAKE_PROFIT))["color"] == RED  # type: ignore[type-var]
    assert embed(replace(attempt, reason=Reason.STOP_LOSS))["color"] == BLUE  # type: ignore[type-var]


def test_weekly_summary_gives_the_weeks_figures_in_korean() -> None:
    payload = one(EVENTS["weekly_summary"])
    assert payload["content"] == "[주간 결산] 2026-W18 주간 실현 손익 +9,500원 (수수료·세금 차감)"
    e = payload["embeds"][0]
    assert e["color"] == RED
    assert e["description"] == "2026-04-27 ~ 2026-04-30 · 거래일 4일"
    fields = {f["name"]: f["value"] for f in e["fields"]}
    assert fields == {
        "실현 손익 (수수료·세금 차감)": "+9,500원",
        "실현 손익": "+12,000원",
        "비용": "수수료 1,500원 · 세금 1,000원",
        "거래": "3건 (수익 2 · 손실 1)",
        "승률": "66.67%",
        "손익비 (Profit factor)": "2.10",
        "최고 종목": "삼성전자(005930) +8,000원",
        "최저 종목": "SK하이닉스(000660) -3,000원",
        "최대 낙폭 (종가 기준 평가 금액)": "-25,000원 (-0.25%)",
    }


def test_a_losing_month_is_blue() -> None:
    e = embed(EVENTS["monthly_summary"])
    assert e["color"] == BLUE
    assert e["title"] == "월간 결산"


def test_a_period_without_trades_says_so() -> None:
    quiet = replace(
        EVENTS["weekly_summary"],  # type: ignore[type-var]
        trades=0,
        wins=0,
        losses=0,
        realized_profit=0,
        realized_profit_net=0,
        fees=0,
        tax=0,
        win_rate_pct=None,
        profit_factor=None,
        best=None,
        worst=None,
        max_drawdown_won=0,
        max_drawdown_pct=Decimal("0.00"),
    )
    payload = one(quiet)
    assert payload["content"] == "[주간 결산] 2026-W18 이번 주는 매도한 거래가 없습니다."
    assert payload["embeds"][0]["color"] == GREY
    english = one(quiet, "en")
    assert english["content"] == "[Weekly summary] Week 2026-W18: no trade was closed this week."


def test_profit_factor_without_a_losing_trade_says_so() -> None:
    winning = replace(EVENTS["weekly_summary"], losses=0, profit_factor=None)  # type: ignore[type-var]
    fields = {f["name"]: f["value"] for f in embed(winning)["fields"]}
    assert fields["손익비 (Profit factor)"] == "손실 거래 없음"
