"""KIS output rows built from quotes, holdings and orders: every value a string, as KIS sends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from services.kis_sim.desk import ORG_NO
from services.kis_sim.fields import (
    EXECUTION_CONSTANTS,
    HOLDING_CONSTANTS,
    PRICE_CONSTANTS,
    SUMMARY_CONSTANTS,
)
from services.kis_sim.market import Quote
from shared.broker import settlement
from shared.broker.accounts import Account, Holding
from shared.broker.orders import MARKET, Order

CENT = Decimal("0.01")
BASIS = Decimal("0.0001")
DIVISION_NAMES = {"00": "지정가", MARKET: "시장가"}


def ratio(numerator: int, denominator: int, places: Decimal = CENT, scale: int = 100) -> str:
    """``numerator / denominator * scale`` rounded half up, ``"0.00"`` when undefined."""
    if denominator == 0:
        return str(Decimal(0).quantize(places))
    value = Decimal(numerator) * scale / Decimal(denominator)
    return str(value.quantize(places, rounding=ROUND_HALF_UP))


def price_output(quote: Quote, day: str = "") -> dict[str, str]:
    """``output`` of inquire-price: every documented field (``day`` is YYYYMMDD for dates)."""
    change, sign = quote.price - quote.base, quote.sign
    # Without history, the 250-day / yearly / 52-week extremes are today's and the base's.
    high, low = max(quote.high, quote.base), min(quote.low, quote.base)
    to_high = ratio(quote.price - high, high)
    to_low = ratio(quote.price - low, low)
    extremes = {
        "d250_hgpr": str(high),
        "d250_hgpr_date": day,
        "d250_hgpr_vrss_prpr_rate": to_high,
        "d250_lwpr": str(low),
        "d250_lwpr_date": day,
        "d250_lwpr_vrss_prpr_rate": to_low,
        "stck_dryy_hgpr": str(high),
        "dryy_hgpr_vrss_prpr_rate": to_high,
        "dryy_hgpr_date": day,
        "stck_dryy_lwpr": str(low),
        "dryy_lwpr_vrss_prpr_rate": to_low,
        "dryy_lwpr_date": day,
        "w52_hgpr": str(high),
        "w52_hgpr_vrss_prpr_ctrt": to_high,
        "w52_hgpr_date": day,
        "w52_lwpr": str(low),
        "w52_lwpr_vrss_prpr_ctrt": to_low,
        "w52_lwpr_date": day,
    }
    base = str(quote.base)
    return {
        **PRICE_CONSTANTS,
        **extremes,
        "stck_shrn_iscd": quote.code,
        "stck_prpr": str(quote.price),
        "vi_cls_code": "Y" if quote.vi else "N",
        "prdy_vrss": str(change),
        "prdy_vrss_sign": sign,
        "prdy_ctrt": ratio(change, quote.base),
        "acml_vol": str(quote.volume),
        "acml_tr_pbmn": str(quote.volume * quote.price),
        "wghn_avrg_stck_prc": f"{quote.price}.00",
        "stck_oprc": str(quote.open),
        "stck_hgpr": str(quote.high),
        "stck_lwpr": str(quote.low),
        "stck_sdpr": base,
        "stck_mxpr": str(quote.upper),
        "stck_llam": str(quote.lower),
        "rstc_wdth_prc": str(quote.upper - quote.base),
        "stck_sspr": str(quote.base * 7 // 10),
        "aspr_unit": str(quote.tick),
        "pvt_scnd_dmrs_prc": base,
        "pvt_frst_dmrs_prc": base,
        "pvt_pont_val": base,
        "pvt_frst_dmsp_prc": base,
        "pvt_scnd_dmsp_prc": base,
        "dmrs_val": base,
        "dmsp_val": base,
    }


UNKNOWN_CODE_OUTPUT = {
    **dict.fromkeys(price_output(Quote("", 1, 1, 1, 1, 1, 0, 1, 1)), "0"),
    **dict.fromkeys(
        [k for k, v in PRICE_CONSTANTS.items() if not v.replace(".", "").isdigit()], ""
    ),
    "prdy_vrss_sign": "3",
    "prdy_ctrt": "0.00",
    "temp_stop_yn": "N",
}
"""What KIS answers for a code it does not list: ``stck_prpr`` "0" (python-kis treats exactly
that as not found, ``pykis/api/stock/quote.py``), every other number 0 and every text blank."""


@dataclass(frozen=True)
class DayTrades:
    """Shares of one code bought and sold today and on the previous session."""

    today_buy: int = 0
    today_sell: int = 0
    previous_buy: int = 0
    previous_sell: int = 0


def holding_row(holding: Holding, quote: Quote, trades: DayTrades) -> dict[str, str]:
    """One ``output1`` row of inquire-balance."""
    value = holding.qty * quote.price
    profit = value - holding.cost if holding.qty else 0
    return {
        **HOLDING_CONSTANTS,
        "pdno": holding.code,
        "prdt_name": holding.name,
        "bfdy_buy_qty": str(trades.previous_buy),
        "bfdy_sll_qty": str(trades.previous_sell),
        "thdt_buyqty": str(trades.today_buy),
        "thdt_sll_qty": str(trades.today_sell),
        "hldg_qty": str(holding.qty),
        "ord_psbl_qty": "0",  # filled in by the caller, which knows the resting sells
        "pchs_avg_pric": ratio(holding.cost, holding.qty, BASIS, 1),
        "pchs_amt": str(holding.cost),
        "prpr": str(quote.price),
        "evlu_amt": str(value),
        "evlu_pfls_amt": str(profit),
        "evlu_pfls_rt": ratio(profit, holding.cost),
        "evlu_erng_rt": ratio(profit, holding.cost),
        "fltt_rt": ratio(quote.price - quote.base, quote.base),
        "bfdy_cprs_icdc": str(quote.price - quote.base),
    }


@dataclass(frozen=True)
class DayMoney:
    """Won bought and sold (before costs) and fees plus taxes paid, on one day."""

    bought: int = 0
    sold: int = 0
    costs: int = 0


def balance_summary(
    account: Account,
    rows: list[dict[str, str]],
    bases: dict[str, int],
    days: tuple[DayMoney, DayMoney],
    next_session: date,
) -> dict[str, str]:
    """The one ``output2`` object of inquire-balance, over every holding (not one page).

    ``bases`` are previous closes by code; ``days`` is (today, previous session). The deposit
    is the settled one; D+1 adds what settles by ``next_session``, D+2 everything pending.
    Yesterday's total is rebuilt as today's D+2 cash before today's trades plus yesterday's
    shares at yesterday's close.
    """
    today, previous = days
    value = sum(int(r["evlu_amt"]) for r in rows)
    cost = sum(int(r["pchs_amt"]) for r in rows)
    d2 = account.settled_cash
    total = d2 + value
    yesterday = d2 + today.bought - today.sold + today.costs
    for row in rows:
        shares = int(row["hldg_qty"]) - int(row["thdt_buyqty"]) + int(row["thdt_sll_qty"])
        yesterday += shares * bases[row["pdno"]]
    return {
        **SUMMARY_CONSTANTS,
        "dnca_tot_amt": str(account.cash),
        "nxdy_excc_amt": str(account.cash + settlement.due(account.pending, next_session)),
        "prvs_rcdl_excc_amt": str(d2),
        "bfdy_buy_amt": str(previous.bought),
        "bfdy_sll_amt": str(previous.sold),
        "bfdy_tlex_amt": str(previous.costs),
        "thdt_buy_amt": str(today.bought),
        "thdt_sll_amt": str(today.sold),
        "thdt_tlex_amt": str(today.costs),
        "scts_evlu_amt": str(value),
        "tot_evlu_amt": str(total),
        "nass_amt": str(total),
        "pchs_amt_smtl_amt": str(cost),
        "evlu_amt_smtl_amt": str(value),
        "evlu_pfls_smtl_amt": str(value - cost),
        "bfdy_tot_asst_evlu_amt": str(yesterday),
        "asst_icdc_amt": str(total - yesterday),
        "asst_icdc_erng_rt": ratio(total - yesterday, yesterday),
    }


def execution_row(order: Order, wall_now: float) -> dict[str, str]:
    """One ``output1`` row of inquire-daily-ccld (an order or a cancel order), with the fills
    shown at real unix time ``wall_now`` (the execution lag hides the newest)."""
    side_code = "01" if order.side == "sell" else "02"
    side_name = "매도" if order.side == "sell" else "매수"
    fills = order.shown_fills(wall_now)
    filled, amount = sum(f.qty for f in fills), sum(f.qty * f.price for f in fills)
    remaining = 0 if order.is_cancel or order.lapsed else order.qty - filled - order.cancelled
    return {
        **EXECUTION_CONSTANTS,
        "ord_dt": order.placed_kst.strftime("%Y%m%d"),
        "ord_gno_brno": ORG_NO,
        "odno": order.odno,
        "orgn_odno": order.origin,
        "ord_dvsn_name": DIVISION_NAMES.get(order.division, order.division),
        "sll_buy_dvsn_cd": side_code,
        # A captured real TTTC8001R row reads plain 매수/매도 here.
        "sll_buy_dvsn_cd_name": f"{side_name}취소" if order.is_cancel else side_name,
        "pdno": order.code,
        "prdt_name": order.name,
        "ord_qty": str(order.qty),
        "ord_unpr": str(order.price),
        "ord_tmd": order.placed_kst.strftime("%H%M%S"),
        "tot_ccld_qty": str(filled),
        "avg_prvs": str(amount // filled if filled else 0),
        "cncl_yn": "Y" if order.is_cancel else "N",
        "tot_ccld_amt": str(amount),
        "ord_dvsn_cd": order.division,
        "cnc_cfrm_qty": str(order.qty if order.is_cancel else 0),
        "rmn_qty": str(remaining),
        "ord_orgno": ORG_NO,
        "excg_id_dvsn_cd": "KRX",
        "excg_dvsn_cd": "02",  # 증권거래소; sim-chosen, as the simulator knows no KOSPI/KOSDAQ
    }


def executions_summary(orders: list[Order], wall_now: float) -> dict[str, str]:
    """The ``output2`` object of inquire-daily-ccld, over every matching row (not one page):
    shown fills only; ``prsm_tlex_smtl`` is their fees and taxes."""
    fills = [f for o in orders for f in o.shown_fills(wall_now)]
    qty = sum(f.qty for f in fills)
    amount = sum(f.qty * f.price for f in fills)
    return {
        "tot_ord_qty": str(sum(o.qty for o in orders if not o.is_cancel)),
        "tot_ccld_qty": str(qty),
        "tot_ccld_amt": str(amount),
        "prsm_tlex_smtl": str(sum(f.fee + f.tax for f in fills)),
        "pchs_avg_pric": ratio(amount, qty, BASIS, 1),
    }
