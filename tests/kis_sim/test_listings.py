"""Listings from a data file (SIM_LISTINGS) and their refresh from a CSV or the history store,
each through the real processes (services/kis_sim/README.md, 'Listings')."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from services.kis_sim.listings import BUNDLED_LISTINGS
from shared.history.store import BarStore
from shared.infra.clock import KST
from shared.trading.bars import Bar
from tests.conftest import ROOT, service_env
from tests.kis_sim.conftest import KisFactory, run_to_exit

DRIFT = math.exp(0.12)
"""The walk keeps every close within this factor of its level (services/kis_sim/walk.py)."""


def listings_file(tmp_path: Path, listings: dict[str, dict[str, object]]) -> Path:
    path = tmp_path / "listings.json"
    path.write_text(json.dumps({"as_of": "test", "listings": listings}), encoding="utf-8")
    return path


def assert_centred_on(base: int, level: int) -> None:
    assert level / DRIFT * 0.99 <= base <= level * DRIFT * 1.01, (base, level)


def refresh(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.kis_sim.refresh_listings", *args],
        env={**service_env("redis://127.0.0.1:1/0"), **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_listings_file_sets_names_markets_and_levels(kis: KisFactory, tmp_path: Path) -> None:
    path = listings_file(
        tmp_path,
        {
            "005930": {"name": "삼성전자", "market": "KOSPI200", "level": 180_000},
            "123450": {"name": "테스트바이오", "market": "KOSDAQ", "level": 4_000},
        },
    )
    client = kis(SIM_LISTINGS=str(path), SIM_UNLISTED_CODES="unknown")
    samsung, bio = client.quote("005930"), client.quote("123450")
    assert_centred_on(int(samsung["stck_sdpr"]), 180_000)
    assert_centred_on(int(bio["stck_sdpr"]), 4_000)
    assert (samsung["rprs_mrkt_kor_name"], bio["rprs_mrkt_kor_name"]) == ("KOSPI200", "KOSDAQ")
    # A code the file does not list is unknown under SIM_UNLISTED_CODES=unknown: the bundled
    # file's 000660 is not in this one.
    assert client.quote("000660")["stck_prpr"] == "0"


def test_the_bundled_listings_stay_the_default(kis: KisFactory) -> None:
    bundled = json.loads(BUNDLED_LISTINGS.read_text(encoding="utf-8"))["listings"]
    client = kis()
    assert_centred_on(int(client.quote("000660")["stck_sdpr"]), bundled["000660"]["level"])


def test_refresh_from_a_csv_sets_the_levels_the_simulator_then_walks_around(
    kis: KisFactory, tmp_path: Path
) -> None:
    out = listings_file(
        tmp_path,
        {
            "005930": {"name": "삼성전자", "market": "KOSPI200", "level": 70_000},
            "000660": {"name": "SK하이닉스", "market": "KOSPI200", "level": 230_000},
        },
    )
    closes = tmp_path / "closes.csv"
    closes.write_text('code,close,date\n5930,"125,000",2026-02-27\n999999,10,2026-02-27\n')
    result = refresh("--csv", str(closes), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "000660" in result.stderr  # kept its old level: the CSV lacks it
    written = json.loads(out.read_text(encoding="utf-8"))
    assert written["as_of"] == "2026-02-27"
    assert written["listings"]["005930"] == {
        "name": "삼성전자",
        "market": "KOSPI200",
        "level": 125_000,
    }
    assert written["listings"]["000660"]["level"] == 230_000
    assert "999999" not in written["listings"]
    client = kis(SIM_LISTINGS=str(out))
    assert_centred_on(int(client.quote("005930")["stck_sdpr"]), 125_000)


def test_refresh_from_the_history_store_takes_the_last_daily_close(tmp_path: Path) -> None:
    out = listings_file(
        tmp_path, {"005930": {"name": "삼성전자", "market": "KOSPI200", "level": 70_000}}
    )
    store_file = tmp_path / "bars.duckdb"
    today = datetime.now(KST).date()
    days = [today - timedelta(days=n) for n in (9, 8)]
    with BarStore.open(store_file) as store:
        store.write_daily_bars(
            "005930",
            [
                Bar("005930", d, None, c, c, c, c, 1_000)
                for d, c in zip(days, (150_000, 160_000), strict=True)
            ],
            "test",
        )
    result = refresh("--history", "--store", str(store_file), "--out", str(out))
    assert result.returncode == 0, result.stderr
    written = json.loads(out.read_text(encoding="utf-8"))
    assert written["listings"]["005930"]["level"] == 160_000
    assert written["as_of"] == days[-1].isoformat()


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ('{"listings": {"5930": {"name": "x", "market": "KOSPI", "level": 1}}}', "5930"),
        ('{"listings": {"005930": {"name": "x", "market": "NYSE", "level": 1}}}', "market"),
        ('{"listings": {"005930": {"name": "x", "market": "KOSPI", "level": 0}}}', "level"),
        ("[]", "listings"),
    ],
)
def test_a_bad_listings_file_exits_2_naming_the_entry(
    redis_url: str, tmp_path: Path, content: str, named: str
) -> None:
    path = tmp_path / "listings.json"
    path.write_text(content, encoding="utf-8")
    result = run_to_exit(redis_url, SIM_LISTINGS=str(path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "SIM_LISTINGS" in lines[0] and named in lines[0], result.stderr


def test_a_csv_without_the_columns_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    out = listings_file(
        tmp_path, {"005930": {"name": "삼성전자", "market": "KOSPI200", "level": 70_000}}
    )
    before = out.read_text(encoding="utf-8")
    closes = tmp_path / "closes.csv"
    closes.write_text("ticker,price\n005930,1\n")
    result = refresh("--csv", str(closes), "--out", str(out))
    assert result.returncode == 2 and "code and close" in result.stderr
    assert out.read_text(encoding="utf-8") == before
