"""Every documented response field, real names and price levels, unknown codes, holiday flags,
and the approval key's own rate limit."""

from __future__ import annotations

import requests

from tests.kis_sim.conftest import QUOTATIONS, KisClient, KisFactory, rejection

# Keys of each output as KIS documents them: koreainvestment/open-trading-api,
# examples_llm/domestic_stock/<api>/chk_<api>.py (COLUMN_MAPPING), copied here by hand.
PRICE_KEYS = [
    "iscd_stat_cls_code",
    "marg_rate",
    "rprs_mrkt_kor_name",
    "new_hgpr_lwpr_cls_code",
    "bstp_kor_isnm",
    "temp_stop_yn",
    "oprc_rang_cont_yn",
    "clpr_rang_cont_yn",
    "crdt_able_yn",
    "grmn_rate_cls_code",
    "elw_pblc_yn",
    "stck_prpr",
    "prdy_vrss",
    "prdy_vrss_sign",
    "prdy_ctrt",
    "acml_tr_pbmn",
    "acml_vol",
    "prdy_vrss_vol_rate",
    "stck_oprc",
    "stck_hgpr",
    "stck_lwpr",
    "stck_mxpr",
    "stck_llam",
    "stck_sdpr",
    "wghn_avrg_stck_prc",
    "hts_frgn_ehrt",
    "frgn_ntby_qty",
    "pgtr_ntby_qty",
    "pvt_scnd_dmrs_prc",
    "pvt_frst_dmrs_prc",
    "pvt_pont_val",
    "pvt_frst_dmsp_prc",
    "pvt_scnd_dmsp_prc",
    "dmrs_val",
    "dmsp_val",
    "cpfn",
    "rstc_wdth_prc",
    "stck_fcam",
    "stck_sspr",
    "aspr_unit",
    "hts_deal_qty_unit_val",
    "lstn_stcn",
    "hts_avls",
    "per",
    "pbr",
    "stac_month",
    "vol_tnrt",
    "eps",
    "bps",
    "d250_hgpr",
    "d250_hgpr_date",
    "d250_hgpr_vrss_prpr_rate",
    "d250_lwpr",
    "d250_lwpr_date",
    "d250_lwpr_vrss_prpr_rate",
    "stck_dryy_hgpr",
    "dryy_hgpr_vrss_prpr_rate",
    "dryy_hgpr_date",
    "stck_dryy_lwpr",
    "dryy_lwpr_vrss_prpr_rate",
    "dryy_lwpr_date",
    "w52_hgpr",
    "w52_hgpr_vrss_prpr_ctrt",
    "w52_hgpr_date",
    "w52_lwpr",
    "w52_lwpr_vrss_prpr_ctrt",
    "w52_lwpr_date",
    "whol_loan_rmnd_rate",
    "ssts_yn",
    "stck_shrn_iscd",
    "fcam_cnnm",
    "cpfn_cnnm",
    "apprch_rate",
    "frgn_hldn_qty",
    "vi_cls_code",
    "ovtm_vi_cls_code",
    "last_ssts_cntg_qty",
    "invt_caful_yn",
    "mrkt_warn_cls_code",
    "short_over_yn",
    "sltr_yn",
    "mang_issu_cls_code",
]
HOLDING_KEYS = [
    "pdno",
    "prdt_name",
    "trad_dvsn_name",
    "bfdy_buy_qty",
    "bfdy_sll_qty",
    "thdt_buyqty",
    "thdt_sll_qty",
    "hldg_qty",
    "ord_psbl_qty",
    "pchs_avg_pric",
    "pchs_amt",
    "prpr",
    "evlu_amt",
    "evlu_pfls_amt",
    "evlu_pfls_rt",
    "evlu_erng_rt",
    "loan_dt",
    "loan_amt",
    "stln_slng_chgs",
    "expd_dt",
    "fltt_rt",
    "bfdy_cprs_icdc",
    "item_mgna_rt_name",
    "grta_rt_name",
    "sbst_pric",
    "stck_loan_unpr",
]
SUMMARY_KEYS = [
    "dnca_tot_amt",
    "nxdy_excc_amt",
    "prvs_rcdl_excc_amt",
    "cma_evlu_amt",
    "bfdy_buy_amt",
    "thdt_buy_amt",
    "nxdy_auto_rdpt_amt",
    "bfdy_sll_amt",
    "thdt_sll_amt",
    "d2_auto_rdpt_amt",
    "bfdy_tlex_amt",
    "thdt_tlex_amt",
    "tot_loan_amt",
    "scts_evlu_amt",
    "tot_evlu_amt",
    "nass_amt",
    "fncg_gld_auto_rdpt_yn",
    "pchs_amt_smtl_amt",
    "evlu_amt_smtl_amt",
    "evlu_pfls_smtl_amt",
    "tot_stln_slng_chgs",
    "bfdy_tot_asst_evlu_amt",
    "asst_icdc_amt",
    "asst_icdc_erng_rt",
]
EXECUTION_KEYS = [
    "ord_dt",
    "ord_gno_brno",
    "odno",
    "orgn_odno",
    "ord_dvsn_name",
    "sll_buy_dvsn_cd",
    "sll_buy_dvsn_cd_name",
    "pdno",
    "prdt_name",
    "ord_qty",
    "ord_unpr",
    "ord_tmd",
    "tot_ccld_qty",
    "avg_prvs",
    "cncl_yn",
    "tot_ccld_amt",
    "loan_dt",
    "ordr_empno",
    "ord_dvsn_cd",
    "cnc_cfrm_qty",
    "rmn_qty",
    "rjct_qty",
    "ccld_cndt_name",
    "inqr_ip_addr",
    "cpbc_ordp_ord_rcit_dvsn_cd",
    "cpbc_ordp_infm_mthd_dvsn_cd",
    "infm_tmd",
    "ctac_tlno",
    "prdt_type_cd",
    "excg_dvsn_cd",
    "cpbc_ordp_mtrl_dvsn_cd",
    "ord_orgno",
    "rsvn_ord_end_dt",
    "excg_id_dvsn_cd",
    "stpm_cndt_pric",
    "stpm_efct_occr_dtmd",
]
EXECUTION_SUMMARY_KEYS = [
    "tot_ord_qty",
    "tot_ccld_qty",
    "tot_ccld_amt",
    "prsm_tlex_smtl",
    "pchs_avg_pric",
]


def test_outputs_carry_every_documented_field_as_strings(client: KisClient) -> None:
    quote = client.quote("005930")
    assert set(PRICE_KEYS) <= set(quote)
    assert quote["rprs_mrkt_kor_name"] == "KOSPI200"
    assert quote["stck_shrn_iscd"] == "005930"
    assert int(quote["rstc_wdth_prc"]) == int(quote["stck_mxpr"]) - int(quote["stck_sdpr"])
    client.placed("buy", "005930", 2)
    balance = client.balance().json()
    assert set(HOLDING_KEYS) <= set(balance["output1"][0])
    assert set(SUMMARY_KEYS) <= set(balance["output2"][0])
    executions = client.executions().json()
    assert set(EXECUTION_KEYS) <= set(executions["output1"][0])
    assert set(EXECUTION_SUMMARY_KEYS) <= set(executions["output2"])
    for payload in (quote, balance["output1"][0], balance["output2"][0], executions["output2"]):
        assert all(isinstance(value, str) for value in payload.values())
    unknown = client.quote("12345")
    assert set(PRICE_KEYS) <= set(unknown)


def test_well_known_codes_have_real_names_and_price_levels(client: KisClient) -> None:
    levels = {
        "005930": ("삼성전자", 70_000),
        "000660": ("SK하이닉스", 230_000),
        "005380": ("현대차", 210_000),
        "035420": ("NAVER", 220_000),
        "051910": ("LG화학", 300_000),
        "035720": ("카카오", 55_000),
    }
    for code, (name, level) in levels.items():
        price = int(client.quote(code)["stck_prpr"])
        assert level * 0.6 < price < level * 1.4, (code, price)
        assert client.sim.admin("GET", f"price/{code}").json()["name"] == name
    client.placed("buy", "035720", 1)
    assert client.holdings()["035720"]["prdt_name"] == "카카오"
    assert client.execution_rows()[0]["prdt_name"] == "카카오"


def test_unlisted_codes_answer_as_kis_when_set(kis: KisFactory) -> None:
    client = kis(SIM_UNLISTED_CODES="unknown")
    quote = client.quote("123456")
    assert (quote["stck_prpr"], quote["stck_mxpr"], quote["rprs_mrkt_kor_name"]) == ("0", "0", "")
    assert client.quote("005930")["stck_prpr"] != "0"
    assert rejection(client.order("buy", "123456", 1)) == (
        200,
        "APBK0656",
        "해당종목정보가 없습니다.",
    )
    # A code given a scripted path is listed.
    client.sim.admin("POST", "prices", json={"123456": [["00:00", 5_000]]})
    assert client.quote("123456")["stck_prpr"] == "5000"


def test_default_walks_every_six_digit_code(client: KisClient) -> None:
    assert client.quote("123456")["stck_prpr"] != "0"


def holiday_rows(client: KisClient, day: str) -> dict[str, dict[str, str]]:
    response = client.get(
        f"{QUOTATIONS}/chk-holiday",
        "CTCA0903R",
        {"BASS_DT": day, "CTX_AREA_NK": "", "CTX_AREA_FK": ""},
    )
    return {row["bass_dt"]: row for row in response.json()["output"]}


def flags(row: dict[str, str]) -> tuple[str, str, str, str]:
    return (row["bzdy_yn"], row["tr_day_yn"], row["opnd_yn"], row["sttl_day_yn"])


def test_holiday_flags_are_separate(client: KisClient) -> None:
    december = holiday_rows(client, "20261228")
    assert flags(december["20261230"]) == ("Y", "Y", "Y", "Y")  # last session of the year
    assert flags(december["20261231"]) == ("Y", "Y", "N", "N")  # KRX year-end closing day
    assert flags(december["20270101"]) == ("N", "N", "N", "N")  # New Year's Day
    may = holiday_rows(client, "20250501")
    # Labour Day 2025: KRX closed, not a public holiday (one from 2026 on).
    assert flags(may["20250501"]) == ("Y", "Y", "N", "N")
    assert flags(holiday_rows(client, "20260501")["20260501"]) == ("N", "N", "N", "N")
    june = holiday_rows(client, "20260601")
    assert flags(june["20260603"]) == ("N", "N", "N", "N")  # local elections: public holiday


def test_extra_closed_day_is_a_business_day_without_a_session(kis: KisFactory) -> None:
    client = kis(KRX_EXTRA_CLOSED="2026-03-10")
    rows = holiday_rows(client, "20260309")
    assert flags(rows["20260310"]) == ("Y", "Y", "N", "N")
    assert flags(rows["20260311"]) == ("Y", "Y", "Y", "Y")


def test_approval_key_has_its_own_limit_apart_from_rest(kis: KisFactory) -> None:
    client = kis(SIM_RATE_LIMIT="1")
    body = {"grant_type": "client_credentials", "appkey": client.app_key, "secretkey": "s"}
    approval = requests.post(f"{client.sim.url}/oauth2/Approval", json=body, timeout=5)
    assert approval.status_code == 200
    # The REST call right after is still the first of its second.
    client.quote("005930")
    again = requests.post(f"{client.sim.url}/oauth2/Approval", json=body, timeout=5)
    assert again.json()["msg_cd"] == "EGW00201"  # approval keys: one a second
