"""The trading TRs: balance, buyable amount, cash orders and daily executions (revise and cancel:
:mod:`services.kis_sim.rvsecncl`)."""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from datetime import date, datetime

from services.kis_sim import codes
from services.kis_sim.desk import (
    ORG_NO,
    Desk,
    TrResult,
    account_of,
    one_of,
    parse_day,
    whole_number,
)
from services.kis_sim.execution_plan import market_unit, planned_fills
from services.kis_sim.paging import continuation_cursor, paginate
from services.kis_sim.paths import CODE_PATTERN
from services.kis_sim.protocol import KisError, Params, invalid
from services.kis_sim.rules import check_market_open
from services.kis_sim.views import (
    DayMoney,
    DayTrades,
    balance_summary,
    execution_row,
    executions_summary,
    holding_row,
)
from shared.broker import settlement
from shared.broker.accounts import Account
from shared.broker.ledger import LedgerError
from shared.broker.money import Side
from shared.broker.orders import LIMIT, MARKET, Order
from shared.infra.clock import KST
from shared.trading.krx_ticks import is_on_tick

ODNO_PATTERN = re.compile(r"^\d{10}$")
BALANCE_FIELDS = (
    "AFHR_FLPR_YN",
    "INQR_DVSN",
    "UNPR_DVSN",
    "FUND_STTL_ICLD_YN",
    "FNCG_AMT_AUTO_RDPT_YN",
    "PRCS_DVSN",
)
"""Balance query fields KIS requires besides the account and the paging context."""


def balance(desk: Desk, params: Params) -> TrResult:
    """inquire-balance: holdings by code, paged; the summary covers them all."""
    account = account_of(desk, params)
    query = [params.required(name) for name in BALANCE_FIELDS]
    key = "^".join([account.number, *query])
    cursor = continuation_cursor(desk.request, params, key, CODE_PATTERN)
    today = desk.now.date()
    previous = desk.calendar.previous_session(today).day
    shown = [
        h
        for code, h in sorted(account.holdings.items())
        # KIS keeps a row sold out (hldg_qty 0) until the sale settles (D+2; official
        # inquire_balance.py docstring); with immediate settlement, until the day ends.
        if h.qty > 0
        or account.traded("sell", today, code)[0] > 0
        or settlement.unsettled_sale(account.pending, code)
    ]
    rows, bases = [], {}
    for holding in shown:
        quote = desk.market.quote(holding.code, desk.now)
        trades = DayTrades(
            account.traded("buy", today, holding.code)[0],
            account.traded("sell", today, holding.code)[0],
            account.traded("buy", previous, holding.code)[0],
            account.traded("sell", previous, holding.code)[0],
        )
        row = holding_row(holding, quote, trades)
        row["ord_psbl_qty"] = str(account.orderable_qty(holding.code))
        rows.append(row)
        bases[holding.code] = quote.base
    page = paginate(rows, lambda r: r["pdno"], cursor, desk.config.balance_page_size)
    summary = balance_summary(
        account,
        rows,
        bases,
        (_day_money(account, today), _day_money(account, previous)),
        desk.calendar.next_session(today, include=False).day,
    )
    payload = {
        "ctx_area_fk100": key,
        "ctx_area_nk100": page.cursor,
        "output1": page.rows,
        "output2": [summary],
    }
    return TrResult(payload, page.tr_cont)


def buyable(desk: Desk, params: Params) -> TrResult:
    """inquire-psbl-order: orderable cash and the quantity it buys (no margin in the sim)."""
    account = account_of(desk, params)
    code = params.required("PDNO")
    price_text = params.required("ORD_UNPR")
    division = params.required("ORD_DVSN")
    limit = whole_number(price_text or "0")
    if limit is None:
        raise invalid("ORD_UNPR", "숫자")
    unit = limit
    if (division == MARKET or limit == 0) and CODE_PATTERN.match(code):
        unit = market_unit(
            desk.config.market_buy_valuation, desk.market.quote(code, desk.now), "buy"
        )
    cash = account.orderable_cash
    fees = desk.ledger.fees
    qty = fees.affordable_qty(cash, unit)
    amount = fees.spendable(cash)
    output = {
        "ord_psbl_cash": str(cash),
        "ord_psbl_sbst": "0",
        "ruse_psbl_amt": "0",
        "fund_rpch_chgs": "0",
        "psbl_qty_calc_unpr": str(unit),
        "nrcvb_buy_amt": str(amount),
        "nrcvb_buy_qty": str(qty),
        "max_buy_amt": str(amount),
        "max_buy_qty": str(qty),
        "cma_evlu_amt": "0",
        "ovrs_re_use_amt_wcrc": "0",
        "ord_psbl_frcr_amt_wcrc": "0",
    }
    return TrResult({"output": output})


def order(desk: Desk, params: Params) -> TrResult:
    """order-cash: a limit (00) or market (01) buy or sell on KRX."""
    account = account_of(desk, params)
    code = params.required("PDNO")
    division = params.required("ORD_DVSN")
    qty_text = params.required("ORD_QTY")
    price_text = params.required("ORD_UNPR")
    legacy = desk.tr.legacy
    exchange = params.optional("EXCG_ID_DVSN_CD") if legacy else params.required("EXCG_ID_DVSN_CD")
    side: Side = "sell" if desk.tr.action == "sell" else "buy"
    check_hashkey(desk)
    if not CODE_PATTERN.match(code):
        raise KisError(codes.CODE_INVALID, f"종목코드가 올바르지 않습니다: {code!r} (6자리 숫자)")
    if division not in (LIMIT, MARKET):
        raise KisError(
            codes.ORDER_TYPE_UNSUPPORTED,
            f"시뮬레이터는 지정가(00)와 시장가(01) 주문만 지원합니다 (ORD_DVSN={division}).",
        )
    if exchange != "KRX" and not (legacy and exchange == ""):
        raise KisError(
            codes.EXCHANGE_UNSUPPORTED,
            f"시뮬레이터는 KRX 주문만 지원합니다 (EXCG_ID_DVSN_CD={exchange or '없음'}).",
        )
    if side == "sell" and params.optional("SLL_TYPE") not in ("", "01"):
        raise KisError(codes.SELL_TYPE_UNSUPPORTED, "일반매도(SLL_TYPE=01)만 지원합니다.")
    qty = whole_number(qty_text)
    if qty is None or qty <= 0:
        raise KisError(codes.QTY_INVALID, f"주문수량이 올바르지 않습니다: {qty_text!r}")
    limit = whole_number(price_text)
    if limit is None:
        raise KisError(codes.PRICE_INVALID, f"주문단가가 올바르지 않습니다: {price_text!r}")
    quote = desk.market.quote(code, desk.now)
    if division == LIMIT:
        check_limit_price(limit, quote.lower, quote.upper)
    check_market_open(desk.config.rules, desk.calendar, desk.now, desk.config.auctions)
    session = desk.calendar.session(desk.now.date())
    assert session is not None  # check_market_open passed
    if not desk.market.is_listed(code):
        raise KisError.of(codes.CODE_UNLISTED)
    fault = desk.fault
    lag = fault.delay_seconds if fault and fault.kind == "fill_lag" else 0.0
    split = (
        fault.delay_seconds
        if fault and fault.kind == "partial_fill" and division == MARKET
        else None
    )
    placed = place_priced(
        desk,
        account,
        NewTerms(code, desk.market.name(code), side, division, qty, limit),
        session.closes,
        split=split,
        lag_seconds=lag,
    )
    output = {"KRX_FWDG_ORD_ORGNO": ORG_NO, "ODNO": placed.odno, "ORD_TMD": hhmmss(placed)}
    return TrResult({"output": output})


@dataclass(frozen=True)
class NewTerms:
    """What an order (or a revise order) asks for."""

    code: str
    name: str
    side: Side
    division: str
    qty: int
    limit: int
    """Won; 0 for a market order."""


def place_priced(
    desk: Desk,
    account: Account,
    terms: NewTerms,
    lapses_kst: datetime,
    *,
    split: float | None = None,
    lag_seconds: float = 0.0,
    revises: Order | None = None,
) -> Order:
    """Place ``terms`` at the quote now: a market or marketable limit order fills at once (in
    two parts with ``split``), another rests; with ``SIM_LIMIT_LOCK``, a buy at the upper limit
    (a sell at the lower) rests there; with ``SIM_AUCTIONS``, an order in an auction's order
    period waits for its match. KisError when cash or shares fall short."""
    quote = desk.market.quote(terms.code, desk.now)
    side, division, qty, limit = terms.side, terms.division, terms.qty, terms.limit
    locked = desk.config.limit_lock and quote.locked_against(side)
    session = desk.calendar.session(desk.now.astimezone(KST).date())
    # In an auction's order period nothing trades: the order waits for the match.
    calling = quote.vi or (session is not None and desk.config.auctions.in_call(session, desk.now))
    marketable = not (locked or calling) and (
        division == MARKET or (quote.price <= limit if side == "buy" else quote.price >= limit)
    )
    if division == MARKET:
        # KRX: a market order meeting a locked limit queues at that limit.
        limit = (quote.upper if side == "buy" else quote.lower) if locked else 0
    valuation = desk.config.market_buy_valuation
    try:
        return desk.ledger.place(
            account,
            code=terms.code,
            name=terms.name,
            side=side,
            division=division,
            qty=qty,
            limit=limit,
            reserve_unit=limit if division == LIMIT else market_unit(valuation, quote, side),
            fills=planned_fills(quote, side, qty, desk.now, split) if marketable else None,
            now=desk.now,
            lapses_kst=lapses_kst,
            lag_seconds=lag_seconds or desk.config.execution_lag_seconds,
            revises=revises,
        )
    except LedgerError as e:
        raise KisError.of(_shortage(desk, e)) from None


def executions(desk: Desk, params: Params) -> TrResult:
    """inquire-daily-ccld: orders (and cancel orders) by order date with KIS's filters, paged."""
    account = account_of(desk, params)
    start = parse_day("INQR_STRT_DT", params.required("INQR_STRT_DT"))
    end = parse_day("INQR_END_DT", params.required("INQR_END_DT"))
    side = one_of(params, "SLL_BUY_DVSN_CD", ("00", "01", "02"))
    newest_first = one_of(params, "INQR_DVSN", ("00", "01")) == "00"
    filled = one_of(params, "CCLD_DVSN", ("00", "01", "02"))
    code = params.optional("PDNO")
    odno = params.optional("ODNO")
    if odno and whole_number(odno) is None:
        raise invalid("ODNO", "숫자")
    key = "^".join(
        [
            account.number,
            start.strftime("%Y%m%d"),
            end.strftime("%Y%m%d"),
            side,
            "00" if newest_first else "01",
            filled,
            code,
            odno,
        ]
    )
    cursor = continuation_cursor(desk.request, params, key, ODNO_PATTERN)
    wall_now = time.time()

    def wanted(o: Order) -> bool:
        shown = sum(f.qty for f in o.shown_fills(wall_now))
        return (
            start <= o.placed_kst.date() <= end
            and (side == "00" or (side == "01") == (o.side == "sell"))
            and (filled != "01" or shown > 0)
            and (filled != "02" or (o.remaining > 0 or (not o.is_cancel and shown < o.filled_qty)))
            and (not code or o.code == code)
            and (not odno or int(o.odno) == int(odno))
        )

    rows = sorted(filter(wanted, account.orders), key=lambda o: o.odno, reverse=newest_first)
    page = paginate(rows, lambda o: o.odno, cursor, desk.config.executions_page_size, newest_first)
    payload = {
        "ctx_area_fk100": key,
        "ctx_area_nk100": page.cursor,
        "output1": [execution_row(o, wall_now) for o in page.rows],
        "output2": executions_summary(rows, wall_now),
    }
    return TrResult(payload, page.tr_cont)


def _day_money(account: Account, day: date) -> DayMoney:
    return DayMoney(
        account.traded("buy", day)[1], account.traded("sell", day)[1], account.costs(day)
    )


def check_hashkey(desk: Desk) -> None:
    sent = desk.request.header("hashkey")
    if sent and sent.lower() != hashlib.sha256(desk.request.body).hexdigest():
        raise KisError(codes.HASHKEY_MISMATCH, "hashkey 가 주문 내용과 일치하지 않습니다.")


def check_limit_price(limit: int, lower: int, upper: int) -> None:
    if limit <= 0:
        raise KisError(codes.PRICE_INVALID, "지정가 주문에는 0보다 큰 주문단가가 필요합니다.")
    if not is_on_tick(limit):
        raise KisError(codes.PRICE_INVALID, f"주문단가({limit})가 호가단위에 맞지 않습니다.")
    if not lower <= limit <= upper:
        raise KisError(
            codes.PRICE_INVALID, f"주문단가({limit})가 가격제한폭({lower}~{upper})을 벗어났습니다."
        )


def _shortage(desk: Desk, error: LedgerError) -> tuple[str, str]:
    paper = desk.config.rules == "paper"
    if error.reason == "cash":
        return codes.PAPER_CASH_SHORT if paper else codes.REAL_CASH_SHORT
    return codes.PAPER_QTY_SHORT if paper else codes.REAL_QTY_SHORT


def hhmmss(order: Order) -> str:
    return order.placed_kst.strftime("%H%M%S")
