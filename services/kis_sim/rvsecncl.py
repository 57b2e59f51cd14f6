"""Revise (정정) and cancel (취소) of a working order (order-rvsecncl), and the list of orders
that may still be revised or cancelled (inquire-psbl-rvsecncl); services/kis_sim/README.md,
'Revise and cancel'.

A revise withdraws part or all of an order's remainder and places it again, on the new price or
order type, as a new order whose ``orgn_odno`` is the original: it fills at once when
marketable, else rests, like any order. A cancel withdraws it, as a cancel order.
"""

from __future__ import annotations

import re

from services.kis_sim import codes
from services.kis_sim.desk import ORG_NO, Desk, TrResult, account_of, one_of, whole_number
from services.kis_sim.paging import continuation_cursor, paginate
from services.kis_sim.protocol import KisError, Params, invalid
from services.kis_sim.rules import check_market_open
from services.kis_sim.trading import (
    NewTerms,
    check_hashkey,
    check_limit_price,
    hhmmss,
    place_priced,
)
from services.kis_sim.views import DIVISION_NAMES
from shared.broker.accounts import Account
from shared.broker.orders import LIMIT, MARKET, Order

REVISE, CANCEL = "01", "02"
"""RVSE_CNCL_DVSN_CD values (official order_rvsecncl.py: 01 정정, 02 취소)."""
REVISABLE_PAGE_SIZE = 50
"""Rows per inquire-psbl-rvsecncl answer (official inquire_psbl_rvsecncl.py: "최대 50건")."""
REVISABLE_CURSOR = re.compile(r"^\d{10}(\^\d{6})?$")


def revise_or_cancel(desk: Desk, params: Params) -> TrResult:
    """order-rvsecncl: revise (01) or cancel (02) all (QTY_ALL_ORD_YN=Y) or part of a working
    order's remainder."""
    account = account_of(desk, params)
    org_no = params.required("KRX_FWDG_ORD_ORGNO")
    original_no = params.required("ORGN_ODNO")
    division = params.required("ORD_DVSN")
    kind = params.required("RVSE_CNCL_DVSN_CD")
    qty_text = params.required("ORD_QTY")
    price_text = params.required("ORD_UNPR")
    everything = one_of(params, "QTY_ALL_ORD_YN", ("Y", "N")) == "Y"
    if not desk.tr.legacy:
        params.required("EXCG_ID_DVSN_CD")
    check_hashkey(desk)
    if kind not in (REVISE, CANCEL):
        raise invalid("RVSE_CNCL_DVSN_CD", "01 정정 / 02 취소")
    action = "정정" if kind == REVISE else "취소"
    check_market_open(desk.config.rules, desk.calendar, desk.now, desk.config.auctions)
    original = desk.ledger.find(account, original_no)
    if original is None or original.is_cancel:
        raise KisError(codes.ORDER_NOT_FOUND, f"원주문번호가 존재하지 않습니다: {original_no}")
    if org_no.lstrip("0") != ORG_NO.lstrip("0"):
        raise KisError(codes.ORG_NO_MISMATCH, f"주문조직번호가 원주문과 다릅니다: {org_no}")
    if original.remaining == 0:
        raise KisError(
            codes.NOTHING_TO_CANCEL, f"{action} 가능한 수량이 없습니다 (체결/취소/장종료)."
        )
    qty = original.remaining if everything else _part(qty_text, original.remaining, action)
    if kind == CANCEL:
        placed = desk.ledger.cancel(account, original, qty, desk.now)
    else:
        placed = _revise(desk, account, original, qty, division, price_text)
    output = {"krx_fwdg_ord_orgno": ORG_NO, "odno": placed.odno, "ord_tmd": hhmmss(placed)}
    return TrResult({"output": output})


def revisable(desk: Desk, params: Params) -> TrResult:
    """inquire-psbl-rvsecncl: the account's working orders with what may still be revised or
    cancelled (``psbl_qty``), by order number (INQR_DVSN_1 0) or by code (1), all / sells /
    buys (INQR_DVSN_2 0/1/2), 50 a page."""
    account = account_of(desk, params)
    by_code = one_of(params, "INQR_DVSN_1", ("0", "1")) == "1"
    sides = one_of(params, "INQR_DVSN_2", ("0", "1", "2"))
    key = "^".join([account.number, "1" if by_code else "0", sides])
    cursor = continuation_cursor(desk.request, params, key, REVISABLE_CURSOR)
    wanted = [
        o for o in account.live_orders() if sides == "0" or (sides == "1") == (o.side == "sell")
    ]

    def sort_key(order: Order) -> str:
        # Keyset cursor: by code the order number breaks ties, so it rides along.
        return f"{order.code}^{order.odno}" if by_code else order.odno

    rows = sorted(wanted, key=sort_key)
    page = paginate(rows, sort_key, cursor, REVISABLE_PAGE_SIZE)
    payload = {
        "ctx_area_fk100": key,
        "ctx_area_nk100": page.cursor,
        "output": [revisable_row(o) for o in page.rows],
    }
    return TrResult(payload, page.tr_cont)


def revisable_row(order: Order) -> dict[str, str]:
    """One ``output`` row of inquire-psbl-rvsecncl (fields: official
    ``chk_inquire_psbl_rvsecncl.py``)."""
    filled = order.filled_qty
    return {
        "ord_gno_brno": ORG_NO,
        "odno": order.odno,
        "orgn_odno": order.origin,
        "ord_dvsn_name": DIVISION_NAMES.get(order.division, order.division),
        "pdno": order.code,
        "prdt_name": order.name,
        "rvse_cncl_dvsn_name": "정정" if order.revision else "",
        "ord_qty": str(order.qty),
        "ord_unpr": str(order.price),
        "ord_tmd": hhmmss(order),
        "tot_ccld_qty": str(filled),
        "tot_ccld_amt": str(order.filled_amount),
        "psbl_qty": str(order.remaining),
        "sll_buy_dvsn_cd": "01" if order.side == "sell" else "02",
        "ord_dvsn_cd": order.division,
        "mgco_aptm_odno": "",
        "excg_dvsn_cd": "02",
        "excg_id_dvsn_cd": "KRX",
        "excg_id_dvsn_name": "한국거래소",
        "stpm_cndt_pric": "0",
        "stpm_efct_occr_yn": "N",
    }


def _part(qty_text: str, remaining: int, action: str) -> int:
    parsed = whole_number(qty_text)
    if parsed is None or parsed <= 0:
        raise KisError(codes.QTY_INVALID, f"{action}수량이 올바르지 않습니다: {qty_text!r}")
    if parsed > remaining:
        raise KisError(
            codes.CANCEL_QTY_EXCEEDED,
            f"{action}수량({parsed})이 잔량({remaining})을 초과했습니다.",
        )
    return parsed


def _revise(
    desk: Desk, account: Account, original: Order, qty: int, division: str, price_text: str
) -> Order:
    if division not in (LIMIT, MARKET):
        raise KisError(
            codes.ORDER_TYPE_UNSUPPORTED,
            f"시뮬레이터는 지정가(00)와 시장가(01)로만 정정합니다 (ORD_DVSN={division}).",
        )
    limit = whole_number(price_text)
    if limit is None:
        raise KisError(codes.PRICE_INVALID, f"주문단가가 올바르지 않습니다: {price_text!r}")
    if division == LIMIT:
        quote = desk.market.quote(original.code, desk.now)
        check_limit_price(limit, quote.lower, quote.upper)
    terms = NewTerms(
        original.code,
        original.name,
        original.side,
        division,
        qty,
        limit if division == LIMIT else 0,
    )
    return place_priced(desk, account, terms, original.lapses_kst, revises=original)
