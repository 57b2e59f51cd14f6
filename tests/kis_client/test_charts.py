"""The chart walks of the client against a server scripted like KIS: the parameters each next
call sends (OTA's backtester walk), rows seen twice counted once, and an unknown code."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from shared.kis import KisRejected
from shared.kis.client import DAILY_CHART_PATH, MINUTE_CHART_PATH, TODAY_MINUTE_CHART_PATH
from tests.kis_client.scripted_kis import Reply, ScriptedKis
from tests.kis_client.test_error_mapping import make_client

HEADER = {"stck_prpr": "70000", "hts_kor_isnm": "삼성전자", "stck_prdy_clpr": "69000"}


@pytest.fixture
def kis() -> Iterator[ScriptedKis]:
    server = ScriptedKis()
    yield server
    server.close()


def answer(rows: list[dict[str, str]], header: dict[str, str] = HEADER) -> Reply:
    body: dict[str, Any] = {"rt_cd": "0", "msg_cd": "MCA00000", "msg1": "ok"}
    return Reply(200, {**body, "output1": header, "output2": rows})


def day_row(day: date) -> dict[str, str]:
    return {
        "stck_bsop_date": f"{day:%Y%m%d}",
        "stck_oprc": "100",
        "stck_hgpr": "110",
        "stck_lwpr": "90",
        "stck_clpr": "105",
        "acml_vol": "1000",
        "acml_tr_pbmn": "105000",
        "flng_cls_code": "00",
        "prtt_rate": "0.00",
        "mod_yn": "N",
    }


def minute_row(day: date, minute: time) -> dict[str, str]:
    return {
        "stck_bsop_date": f"{day:%Y%m%d}",
        "stck_cntg_hour": f"{minute:%H%M%S}",
        "stck_oprc": "100",
        "stck_hgpr": "110",
        "stck_lwpr": "90",
        "stck_prpr": "105",
        "cntg_vol": "7",
    }


def queries(kis: ScriptedKis, path: str) -> list[dict[str, str]]:
    return [
        {k: v[0] for k, v in parse_qs(urlsplit(s.path).query, keep_blank_values=True).items()}
        for s in kis.requests_to(path)
    ]


def test_daily_bars_walk_windows_back_from_the_end(kis: ScriptedKis, redis_url: str) -> None:
    days = [date(2025, 1, 1) + timedelta(days=i) for i in range(230)]  # oldest first
    newest_first = [day_row(d) for d in reversed(days)]
    blank = dict.fromkeys(day_row(days[0]), "")  # a row without a date is no data
    kis.script(
        DAILY_CHART_PATH,
        answer(newest_first[:100]),
        answer(newest_first[100:200]),
        answer([*newest_first[200:], blank]),
    )
    rows = make_client(kis.url, redis_url).daily_bars("005930", days[0], days[-1])
    assert [r.day for r in rows] == days
    assert (rows[0].open, rows[0].high, rows[0].low, rows[0].close, rows[0].volume) == (
        100,
        110,
        90,
        105,
        1000,
    )
    sent = queries(kis, DAILY_CHART_PATH)
    assert [(q["FID_INPUT_DATE_1"], q["FID_INPUT_DATE_2"]) for q in sent] == [
        ("20250101", f"{days[-1]:%Y%m%d}"),
        ("20250101", f"{days[-101]:%Y%m%d}"),  # the day before the oldest row so far
        ("20250101", f"{days[-201]:%Y%m%d}"),
    ]
    assert {
        (q["FID_PERIOD_DIV_CODE"], q["FID_ORG_ADJ_PRC"], q["FID_COND_MRKT_DIV_CODE"]) for q in sent
    } == {("D", "1", "J")}
    assert {s.headers["tr_id"] for s in kis.requests_to(DAILY_CHART_PATH)} == {"FHKST03010100"}


def test_minute_bars_walk_back_from_the_close(kis: ScriptedKis, redis_url: str) -> None:
    day = date(2026, 3, 4)
    start = datetime(2026, 3, 4, 9, 0)
    minutes = [(start + timedelta(minutes=m)).time() for m in range(391)]
    newest = [minute_row(day, t) for t in reversed(minutes)]
    # Each next answer starts at the hour asked, which the previous answer already held.
    kis.script(
        MINUTE_CHART_PATH,
        answer(newest[0:120]),
        answer(newest[119:239]),
        answer(newest[238:358]),
        answer(newest[357:]),
    )
    rows = make_client(kis.url, redis_url).minute_bars("005930", day, time(9), time(15, 30))
    assert [r.minute for r in rows] == minutes
    sent = queries(kis, MINUTE_CHART_PATH)
    assert [q["FID_INPUT_HOUR_1"] for q in sent] == ["153000", "133100", "113200", "093300"]
    assert {q["FID_INPUT_DATE_1"] for q in sent} == {"20260304"}
    assert {q["FID_PW_DATA_INCU_YN"] for q in sent} == {"N"}
    assert {s.headers["tr_id"] for s in kis.requests_to(MINUTE_CHART_PATH)} == {"FHKST03010230"}


def test_todays_minute_bars_come_30_an_answer(kis: ScriptedKis, redis_url: str) -> None:
    day = date(2026, 3, 5)
    minutes = [(datetime(2026, 3, 5, 9, 0) + timedelta(minutes=m)).time() for m in range(45)]
    newest = [minute_row(day, t) for t in reversed(minutes)]
    kis.script(TODAY_MINUTE_CHART_PATH, answer(newest[:30]), answer(newest[29:]))
    rows = make_client(kis.url, redis_url).today_minute_bars(
        "005930", day, time(9), time(9, 44, 20)
    )
    assert [r.minute for r in rows] == minutes
    sent = queries(kis, TODAY_MINUTE_CHART_PATH)
    assert [q["FID_INPUT_HOUR_1"] for q in sent] == ["094420", "091500"]
    assert {s.headers["tr_id"] for s in kis.requests_to(TODAY_MINUTE_CHART_PATH)} == {
        "FHKST03010200"
    }


def test_an_unknown_code_is_rejected(kis: ScriptedKis, redis_url: str) -> None:
    unknown = answer([], {"stck_prpr": "0", "hts_kor_isnm": ""})
    kis.script(DAILY_CHART_PATH, unknown, answer([]))
    with pytest.raises(KisRejected, match="unknown stock code") as caught:
        make_client(kis.url, redis_url).daily_bars("999999", date(2026, 3, 3), date(2026, 3, 4))
    assert caught.value.msg_cd == "UNKNOWN_CODE"
    # A listed code without sessions in the window (not yet listed, say): no rows, no error.
    assert (
        make_client(kis.url, redis_url).daily_bars("005930", date(2026, 3, 3), date(2026, 3, 4))
        == []
    )
