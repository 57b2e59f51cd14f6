"""Prices: the seeded random walk, scripted paths, unknown codes, and the holiday calendar."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.kis_sim.conftest import QUOTATIONS, KisClient, KisFactory

TICKS = [(2_000, 1), (5_000, 5), (20_000, 10), (50_000, 50), (200_000, 100), (500_000, 500)]


def tick(price: int) -> int:
    return next((t for bound, t in TICKS if price < bound), 1_000)


CODES = ["005930", "000660", "035420", "123456", "999999"]


def test_random_walk_is_deterministic_per_seed_and_follows_krx_rules(kis: KisFactory) -> None:
    epoch = repr(time.time())
    first = kis(CLOCK_EPOCH=epoch)
    twin = kis(CLOCK_EPOCH=epoch)
    other = kis(CLOCK_EPOCH=epoch, SIM_SEED="7")
    quotes = {code: first.quote(code) for code in CODES}
    assert {code: twin.quote(code) for code in CODES} == quotes
    assert {code: other.quote(code)["stck_prpr"] for code in CODES} != {
        code: q["stck_prpr"] for code, q in quotes.items()
    }
    for q in quotes.values():
        price, base = int(q["stck_prpr"]), int(q["stck_sdpr"])
        assert 500 < price < 300_000
        assert price % tick(price) == 0
        assert q["aspr_unit"] == str(tick(price))
        assert int(q["stck_llam"]) <= int(q["stck_lwpr"]) <= price <= int(q["stck_hgpr"])
        assert int(q["stck_hgpr"]) <= int(q["stck_mxpr"])
        upper = base * 13 // 10
        assert int(q["stck_mxpr"]) == upper - upper % tick(upper)
        assert int(q["prdy_vrss"]) == price - base
        assert q["prdy_vrss_sign"] in {"2", "3", "5"}
        assert q["temp_stop_yn"] == "N"
        assert "hts_kor_isnm" not in q


def test_unknown_code_has_price_zero(client: KisClient) -> None:
    assert client.quote("12345")["stck_prpr"] == "0"


def test_scripted_path_steps_without_rounding(kis: KisFactory, tmp_path: Path) -> None:
    paths = {
        "005930": [["09:00", 70_001], ["10:01", 73_500], ["2026-03-03T10:03", 71_000]],
        "names": {"005930": "삼성전자"},
    }
    file = tmp_path / "paths.json"
    file.write_text(json.dumps(paths), encoding="utf-8")
    # Two clock minutes per real second from 09:58 at the epoch: 10:01 comes 1.5 s after it, 10:03
    # 2.5 s after it. The epoch lies ahead, so the simulator's start (slow on a loaded machine)
    # happens before the clock reaches 09:58 and takes nothing from those 1.5 s.
    epoch = time.time() + 4.0
    client = kis(
        SIM_PRICE_PATHS=str(file),
        CLOCK_START="2026-03-03T09:58:00+09:00",
        CLOCK_SPEED="120",
        CLOCK_EPOCH=repr(epoch),
    )
    assert time.time() < epoch, "the simulator took longer than the epoch's lead to start"
    time.sleep(max(0.0, epoch - time.time()))
    q = client.quote("005930")
    assert time.time() - epoch < 1.5, "the first quote took too long for this test"
    assert q["stck_prpr"] == "70001"
    # The previous session's close is the last daily point: 73,500.
    assert q["stck_sdpr"] == "73500"
    assert q["prdy_vrss"] == "-3499"
    time.sleep(max(0.0, epoch + 1.7 - time.time()))
    assert client.quote("005930")["stck_prpr"] == "73500"
    time.sleep(max(0.0, epoch + 2.8 - time.time()))
    q = client.quote("005930")
    assert q["stck_prpr"] == "71000"
    assert (q["stck_oprc"], q["stck_hgpr"], q["stck_lwpr"]) == ("70001", "73500", "70001")
    info = client.sim.admin("GET", "price/005930").json()
    assert (info["name"], info["scripted"]) == ("삼성전자", True)


def test_admin_sets_and_drops_paths_at_runtime(client: KisClient) -> None:
    walk_price = client.quote("000660")["stck_prpr"]
    client.sim.admin("POST", "prices", json={"000660": [["08:00", 12_345]]})
    assert client.quote("000660")["stck_prpr"] == "12345"
    before_first_point = {"000660": [["2026-03-03T11:00", 5_000], ["2026-03-03T12:00", 6_000]]}
    client.sim.admin("POST", "prices", json=before_first_point)
    assert client.quote("000660")["stck_prpr"] == "5000"
    client.sim.admin("POST", "prices", json={"000660": []})
    assert client.quote("000660")["stck_prpr"] == walk_price


def test_chk_holiday_lists_days_from_the_calendar(client: KisClient) -> None:
    response = client.get(
        f"{QUOTATIONS}/chk-holiday",
        "CTCA0903R",
        {"BASS_DT": "20260601", "CTX_AREA_NK": "", "CTX_AREA_FK": ""},
    )
    body = response.json()
    assert body["rt_cd"] == "0"
    days = {row["bass_dt"]: row for row in body["output"]}
    assert len(days) == 28
    assert days["20260602"]["opnd_yn"] == "Y"
    assert days["20260603"]["opnd_yn"] == "N"  # local elections
    assert days["20260606"] == {
        "bass_dt": "20260606",
        "wday_dvsn_cd": "07",
        "bzdy_yn": "N",
        "tr_day_yn": "N",
        "opnd_yn": "N",
        "sttl_day_yn": "N",
    }
    assert days["20260607"]["wday_dvsn_cd"] == "01"
