"""KIS output rows built from quotes, holdings and orders: every value a string, as KIS sends."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from services.kis_sim.accounts import MARKET, Account, Holding, Order
from services.kis_sim.desk import ORG_NO
from services.kis_sim.market import Quote

CENT = Decimal("0.01")
BASIS = Decimal("0.0001")
DIVISION_NAMES = {"00": "지정가", MARKET: "시장가"}


def ratio(numerator: int, denominator: int, places: Decimal = CENT, scale: int = 100) -> str:
    """``numerator / denominator * scale`` rounded half up, ``"0.00"`` when undefined."""
    if denominator == 0:
        return str(Decimal(0).quantize(places))
    value = Decimal(numerator) * scale / Decimal(denominator)
    return str(value.quantize(places, rounding=ROUND_HALF_UP))


def price_output(quote: Quote) -> dict[str, str]:
    """``output`` of inquire-price."""
    change = quote.price - quote.base
    if change > 0:
        sign = "1" if quote.price >= quote.upper else "2"
    elif change < 0:
        sign = "4" if quote.price <= quote.lower else "5"
    else:
        sign = "3"
    return {
        "stck_shrn_iscd": quote.code,
        "stck_prpr": str(quote.price),
        "prdy_vrss": str(change),
        "prdy_vrss_sign": sign,
        "prdy_ctrt": ratio(change, quote.base),
        "acml_vol": str(quote.volume),
        # Sim-chosen: trading value as if every share traded at the current price; no share
        # count, so no market cap; no warnings, no overheating, no previous volume.
        "acml_tr_pbmn": str(quote.volume * quote.price),
        "hts_avls": "0",
        "mrkt_warn_cls_code": "00",
        "short_over_yn": "N",
        "prdy_vrss_vol_rate": "0.00",
        "stck_oprc": str(quote.open),
        "stck_hgpr": str(quote.high),
        "stck_lwpr": str(quote.low),
        "stck_sdpr": str(quote.base),
        "stck_mxpr": str(quote.upper),
        "stck_llam": str(quote.lower),
        "aspr_unit": str(quote.tick),
        "temp_stop_yn": "N",
    }


UNKNOWN_CODE_OUTPUT = {
    **dict.fromkeys(price_output(Quote("", 1, 1, 1, 1, 1, 0, 1, 1)), "0"),
    "prdy_vrss_sign": "3",
    "prdy_ctrt": "0.00",
    "temp_stop_yn": "N",
}
"""What KIS answers for a code it does not know: ``stck_prpr`` "0"."""


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
        "pdno": holding.code,
        "prdt_name": holding.name,
        "trad_dvsn_name": "현금",
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
    }


def balance_summary(
    account: Account, rows: list[dict[str, str]], bases: dict[str, int], today: tuple[int, int]
) -> dict[str, str]:
    """The one ``output2`` object of inquire-balance, over every holding (not one page).

    ``bases`` are previous closes by code; ``today`` is (won bought, won sold) today. Yesterday's
    total is rebuilt as today's cash before today's trades plus yesterday's shares at
    yesterday's close.
    """
    bought, sold = today
    value = sum(int(r["evlu_amt"]) for r in rows)
    cost = sum(int(r["pchs_amt"]) for r in rows)
    total = account.cash + value
    yesterday = account.cash + bought - sold
    for row in rows:
        shares = int(row["hldg_qty"]) - int(row["thdt_buyqty"]) + int(row["thdt_sll_qty"])
        yesterday += shares * bases[row["pdno"]]
    cash = str(account.cash)
    return {
        "dnca_tot_amt": cash,
        "nxdy_excc_amt": cash,
        "prvs_rcdl_excc_amt": cash,
        "cma_evlu_amt": "0",
        "thdt_buy_amt": str(bought),
        "thdt_sll_amt": str(sold),
        "thdt_tlex_amt": "0",
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


def execution_row(order: Order) -> dict[str, str]:
    """One ``output1`` row of inquire-daily-ccld (an order or a cancel order)."""
    side_code = "01" if order.side == "sell" else "02"
    side_name = "매도" if order.side == "sell" else "매수"
    filled, amount = order.filled_qty, order.filled_amount
    return {
        "ord_dt": order.placed_at.strftime("%Y%m%d"),
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
        "ord_tmd": order.placed_at.strftime("%H%M%S"),
        "tot_ccld_qty": str(filled),
        "avg_prvs": str(amount // filled if filled else 0),
        "cncl_yn": "Y" if order.is_cancel else "N",
        "tot_ccld_amt": str(amount),
        "ord_dvsn_cd": order.division,
        "cnc_cfrm_qty": str(order.qty if order.is_cancel else 0),
        "rmn_qty": str(order.remaining),
        "rjct_qty": "0",
        "ccld_cndt_name": "없음",
        "excg_id_dvsn_cd": "KRX",
        "excg_dvsn_cd": "02",  # 증권거래소; sim-chosen, as the simulator knows no KOSPI/KOSDAQ
    }


def executions_summary(orders: list[Order]) -> dict[str, str]:
    """The ``output2`` object of inquire-daily-ccld, over every matching row (not one page)."""
    qty = sum(o.filled_qty for o in orders)
    amount = sum(o.filled_amount for o in orders)
    return {
        "tot_ord_qty": str(sum(o.qty for o in orders if not o.is_cancel)),
        "tot_ccld_qty": str(qty),
        "tot_ccld_amt": str(amount),
        "prsm_tlex_smtl": "0",
        "pchs_avg_pric": ratio(amount, qty, BASIS, 1),
    }
