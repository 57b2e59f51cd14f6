"""Documented response fields the simulator has no model for, with plausible constant values.

Every key KIS documents for an output is sent, so code written against the simulator does not
meet a KeyError on KIS. Key lists: koreainvestment/open-trading-api, ``examples_llm/
domestic_stock/{inquire_price,inquire_balance,inquire_daily_ccld}/chk_*.py`` (COLUMN_MAPPING).
The values below are constants chosen by the simulator (not measured at KIS); the computed
fields are in :mod:`views`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

PRICE_CONSTANTS: Mapping[str, str] = MappingProxyType(
    {
        "iscd_stat_cls_code": "55",  # 55 = 신용가능 (ordinary stock)
        "marg_rate": "20.00",
        "rprs_mrkt_kor_name": "KOSPI",
        "new_hgpr_lwpr_cls_code": "",
        "bstp_kor_isnm": "",
        "oprc_rang_cont_yn": "N",
        "clpr_rang_cont_yn": "N",
        "crdt_able_yn": "Y",
        "grmn_rate_cls_code": "40",
        "elw_pblc_yn": "N",
        "prdy_vrss_vol_rate": "100.00",
        "hts_frgn_ehrt": "0.00",
        "frgn_ntby_qty": "0",
        "pgtr_ntby_qty": "0",
        "cpfn": "0",
        "stck_fcam": "100",
        "hts_deal_qty_unit_val": "1",
        "lstn_stcn": "0",
        "hts_avls": "0",
        "per": "0.00",
        "pbr": "0.00",
        "stac_month": "12",
        "vol_tnrt": "0.00",
        "eps": "0.00",
        "bps": "0.00",
        "whol_loan_rmnd_rate": "0.00",
        "ssts_yn": "Y",
        "fcam_cnnm": "원",
        "cpfn_cnnm": "억",
        "apprch_rate": "0.00",
        "frgn_hldn_qty": "0",
        "vi_cls_code": "N",
        "ovtm_vi_cls_code": "N",
        "last_ssts_cntg_qty": "0",
        "invt_caful_yn": "N",
        "mrkt_warn_cls_code": "00",
        "short_over_yn": "N",
        "sltr_yn": "N",
        "mang_issu_cls_code": "N",
        "temp_stop_yn": "N",
    }
)
"""inquire-price ``output`` fields without a model."""

HOLDING_CONSTANTS: Mapping[str, str] = MappingProxyType(
    {
        "trad_dvsn_name": "현금",
        "loan_dt": "",
        "loan_amt": "0",
        "stln_slng_chgs": "0",
        "expd_dt": "",
        "item_mgna_rt_name": "20%",
        "grta_rt_name": "",
        "sbst_pric": "0",
        "stck_loan_unpr": "0.0000",
    }
)
"""inquire-balance ``output1`` fields without a model (no loans, no margin)."""

SUMMARY_CONSTANTS: Mapping[str, str] = MappingProxyType(
    {
        "cma_evlu_amt": "0",
        "nxdy_auto_rdpt_amt": "0",
        "d2_auto_rdpt_amt": "0",
        "tot_loan_amt": "0",
        "fncg_gld_auto_rdpt_yn": "N",
        "tot_stln_slng_chgs": "0",
    }
)
"""inquire-balance ``output2`` fields without a model."""

EXECUTION_CONSTANTS: Mapping[str, str] = MappingProxyType(
    {
        "loan_dt": "",
        "ordr_empno": "",
        "inqr_ip_addr": "",
        "cpbc_ordp_ord_rcit_dvsn_cd": "",
        "cpbc_ordp_infm_mthd_dvsn_cd": "",
        "infm_tmd": "",
        "ctac_tlno": "",
        "prdt_type_cd": "300",  # 300 = 주식 (KIS product type of a stock)
        "excg_dvsn_cd": "02",
        "cpbc_ordp_mtrl_dvsn_cd": "",
        "rsvn_ord_end_dt": "",
        "stpm_cndt_pric": "0",
        "stpm_efct_occr_dtmd": "",
        "ccld_cndt_name": "없음",
        "rjct_qty": "0",
    }
)
"""inquire-daily-ccld ``output1`` fields without a model."""
