"""The chart TRs in KIS's shape: fields of the official chk_*.py column maps, string values,
newest rows first, the row caps per answer, and KIS's answers to bad input."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.kis_sim.conftest import QUOTATIONS, KisClient, KisFactory, rejection

DAILY, PAST, TODAY = "FHKST03010100", "FHKST03010230", "FHKST03010200"
PATHS = {
    DAILY: f"{QUOTATIONS}/inquire-daily-itemchartprice",
    PAST: f"{QUOTATIONS}/inquire-time-dailychartprice",
    TODAY: f"{QUOTATIONS}/inquire-time-itemchartprice",
}
# koreainvestment/open-trading-api examples_llm/domestic_stock/<api>/chk_<api>.py COLUMN_MAPPING
DAILY_OUTPUT1 = {
    "prdy_vrss",
    "prdy_vrss_sign",
    "prdy_ctrt",
    "stck_prdy_clpr",
    "acml_vol",
    "acml_tr_pbmn",
    "hts_kor_isnm",
    "stck_prpr",
    "stck_shrn_iscd",
    "prdy_vol",
    "stck_mxpr",
    "stck_llam",
    "stck_oprc",
    "stck_hgpr",
    "stck_lwpr",
    "stck_prdy_oprc",
    "stck_prdy_hgpr",
    "stck_prdy_lwpr",
    "askp",
    "bidp",
    "prdy_vrss_vol",
    "vol_tnrt",
    "stck_fcam",
    "lstn_stcn",
    "cpfn",
    "hts_avls",
    "per",
    "eps",
    "pbr",
    "itewhol_loan_rmnd_ratem",
}
DAILY_OUTPUT2 = {
    "stck_bsop_date",
    "stck_clpr",
    "stck_oprc",
    "stck_hgpr",
    "stck_lwpr",
    "acml_vol",
    "acml_tr_pbmn",
    "flng_cls_code",
    "prtt_rate",
    "mod_yn",
    "prdy_vrss_sign",
    "prdy_vrss",
    "revl_issu_reas",
}
MINUTE_OUTPUT1 = {
    "prdy_vrss",
    "prdy_vrss_sign",
    "prdy_ctrt",
    "stck_prdy_clpr",
    "acml_vol",
    "acml_tr_pbmn",
    "hts_kor_isnm",
    "stck_prpr",
}
MINUTE_OUTPUT2 = {
    "stck_bsop_date",
    "stck_cntg_hour",
    "stck_prpr",
    "stck_oprc",
    "stck_hgpr",
    "stck_lwpr",
    "cntg_vol",
    "acml_tr_pbmn",
}


def chart(client: KisClient, tr_id: str, **params: str) -> dict[str, Any]:
    query = {"FID_COND_MRKT_DIV_CODE": "J", "FID_INPUT_ISCD": "005930", **params}
    response = client.get(PATHS[tr_id], tr_id, query)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["rt_cd"] == "0" and body["msg_cd"] == "MCA00000", body
    assert response.headers["tr_id"] == tr_id
    return body


def daily(client: KisClient, start: str, end: str, **more: str) -> dict[str, Any]:
    params = {"FID_PERIOD_DIV_CODE": "D", "FID_ORG_ADJ_PRC": "1", **more}
    return chart(client, DAILY, FID_INPUT_DATE_1=start, FID_INPUT_DATE_2=end, **params)


def past(client: KisClient, day: str, hour: str, more: str = "N") -> dict[str, Any]:
    return chart(
        client,
        PAST,
        FID_INPUT_DATE_1=day,
        FID_INPUT_HOUR_1=hour,
        FID_PW_DATA_INCU_YN=more,
        FID_FAKE_TICK_INCU_YN="",
    )


def today(client: KisClient, hour: str) -> dict[str, Any]:
    params = {"FID_INPUT_HOUR_1": hour, "FID_PW_DATA_INCU_YN": "Y", "FID_ETC_CLS_CODE": ""}
    return chart(client, TODAY, **params)


def all_strings(rows: list[dict[str, Any]]) -> bool:
    return all(isinstance(v, str) for row in rows for v in row.values())


def test_daily_bars_newest_first_at_most_100(client: KisClient) -> None:
    body = daily(client, "20250101", "20260303")
    assert set(body["output1"]) == DAILY_OUTPUT1
    assert body["output1"]["hts_kor_isnm"] == "삼성전자"
    rows = body["output2"]
    assert len(rows) == 100
    assert all(set(row) == DAILY_OUTPUT2 for row in rows)
    assert all_strings([body["output1"], *rows])
    days = [row["stck_bsop_date"] for row in rows]
    assert days[0] == "20260303" and days == sorted(days, reverse=True)  # today's, still running
    assert "20260302" not in days and "20260301" not in days  # a holiday and a Sunday
    for row, older in itertools.pairwise(rows):
        assert int(row["prdy_vrss"]) == int(row["stck_clpr"]) - int(older["stck_clpr"])
        assert int(row["stck_lwpr"]) <= int(row["stck_oprc"]) <= int(row["stck_hgpr"])
    # The next window, as KIS's backtester asks for it, ends the day before the oldest row.
    oldest = days[-1]
    before = datetime.strptime(oldest, "%Y%m%d") - timedelta(days=1)
    more = daily(client, "20250101", f"{before:%Y%m%d}")["output2"]
    assert more[0]["stck_bsop_date"] < oldest
    short = daily(client, "20260223", "20260227")["output2"]
    assert [r["stck_bsop_date"] for r in short] == [f"202602{d}" for d in (27, 26, 25, 24, 23)]


def test_minute_bars_of_a_past_day_at_most_120_back_from_the_hour(client: KisClient) -> None:
    body = past(client, "20260227", "153000")
    assert set(body["output1"]) == MINUTE_OUTPUT1
    rows = body["output2"]
    assert len(rows) == 120 and all(set(row) == MINUTE_OUTPUT2 for row in rows)
    assert all_strings(rows)
    hours = [row["stck_cntg_hour"] for row in rows]
    assert hours[0] == "153000" and hours[1] == "152900" and hours[-1] == "133100"
    assert {row["stck_bsop_date"] for row in rows} == {"20260227"}
    earlier = past(client, "20260227", hours[-1])["output2"]
    assert earlier[0]["stck_cntg_hour"] == hours[-1]  # the hour asked is included
    opening = past(client, "20260227", "091000")["output2"]
    assert [r["stck_cntg_hour"] for r in opening][-1] == "090000" and len(opening) == 11
    spanning = past(client, "20260227", "091000", more="Y")["output2"]
    assert len(spanning) == 120 and spanning[11]["stck_bsop_date"] == "20260226"
    assert spanning[11]["stck_cntg_hour"] == "153000"
    # Running traded value: each row's acml_tr_pbmn adds its own minute's to the previous.
    value = [int(r["acml_tr_pbmn"]) for r in rows]
    assert value == sorted(value, reverse=True)


def test_minute_bars_beyond_a_year_or_in_the_future_are_none(client: KisClient) -> None:
    assert past(client, "20250227", "153000")["output2"] == []  # KIS keeps about a year
    assert len(past(client, "20250305", "153000")["output2"]) == 120
    assert past(client, "20260304", "153000")["output2"] == []  # tomorrow
    assert past(client, "20260301", "153000")["output2"] == []  # a Sunday


def test_todays_minute_bars_at_most_30_up_to_now(client: KisClient) -> None:
    before = client.quote("005930")["stck_prpr"]
    body = today(client, "153000")  # a time still to come reads as now (10:00 and a bit)
    after = client.quote("005930")["stck_prpr"]
    assert set(body["output1"]) == MINUTE_OUTPUT1
    rows = body["output2"]
    assert len(rows) == 30 and all(set(row) == MINUTE_OUTPUT2 for row in rows)
    assert rows[0]["stck_cntg_hour"] in ("100000", "100100", "100200")
    assert rows[0]["stck_bsop_date"] == "20260303"
    assert rows[0]["stck_prpr"] in (before, after)  # the minute in progress is the price now
    assert body["output1"]["stck_prpr"] in (before, after)
    first = today(client, "090500")["output2"]
    assert [r["stck_cntg_hour"] for r in first] == [f"090{m}00" for m in range(5, -1, -1)]


@pytest.mark.parametrize(("rules", "prefix"), [("paper", "V"), ("real", "T")])
def test_the_same_tr_ids_under_both_rules(kis: KisFactory, rules: str, prefix: str) -> None:
    client = kis(prefix=prefix, SIM_RULES=rules)
    assert daily(client, "20260301", "20260303")["output2"]
    assert past(client, "20260227", "153000")["output2"]
    assert today(client, "100000")["output2"]


def test_unknown_codes_and_bad_fields(kis: KisFactory) -> None:
    client = kis(SIM_UNLISTED_CODES="unknown")
    body = chart(
        client,
        DAILY,
        FID_INPUT_ISCD="999999",
        FID_INPUT_DATE_1="20260301",
        FID_INPUT_DATE_2="20260303",
        FID_PERIOD_DIV_CODE="D",
        FID_ORG_ADJ_PRC="1",
    )
    assert body["output2"] == [] and body["output1"]["stck_prpr"] == "0"
    query = {"FID_COND_MRKT_DIV_CODE": "J", "FID_INPUT_ISCD": "005930"}
    monthly = {
        **query,
        "FID_INPUT_DATE_1": "20260101",
        "FID_INPUT_DATE_2": "20260303",
        "FID_PERIOD_DIV_CODE": "M",
        "FID_ORG_ADJ_PRC": "1",
    }
    assert rejection(client.get(PATHS[DAILY], DAILY, monthly))[1] == "OPSQ2002"
    no_hour = {**query, "FID_INPUT_DATE_1": "20260227"}
    status, msg_cd, msg1 = rejection(client.get(PATHS[PAST], PAST, no_hour))
    assert (status, msg_cd) == (500, "OPSQ2001") and "FID_INPUT_HOUR_1" in msg1
    bad_hour = {**no_hour, "FID_INPUT_HOUR_1": "25:00"}
    assert rejection(client.get(PATHS[PAST], PAST, bad_hour))[1] == "OPSQ2002"
    nxt = {**query, "FID_COND_MRKT_DIV_CODE": "NX", "FID_INPUT_HOUR_1": "100000"}
    nxt["FID_PW_DATA_INCU_YN"] = "N"
    assert rejection(client.get(PATHS[TODAY], TODAY, nxt))[1] == "OPSQ2002"
