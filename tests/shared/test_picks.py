"""Picks files (pickle, JSON, CSV) loaded safely and validated, and picks kept in a real Redis."""

from __future__ import annotations

import json
import os
import pickle
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import redis

from shared.infra.redis_keys import Keys
from shared.state.picks_store import store_picks, stored_picks
from shared.trading import picks as picks_module
from shared.trading.picks import (
    MAX_FILE_BYTES,
    MAX_NAME_CHARS,
    Pick,
    PicksError,
    load_picks,
    parse_picks,
    picks_to_seed_dict,
    safe_unpickle,
)

KEYS = Keys("kat:")
SESSION = date(2026, 3, 3)

SEED = {
    "002680": ["한타", 3155],
    "177350": ["베셀", 7630],
    "312610": ["에이에프더블류", 3505],
    "096870": ["엘디티", 4145],
    "311390": ["네오크레마", 13450],
}
"""The seed's select_dict.pkl, exactly as its notebook prints it."""

SEED_PICKS = (
    Pick("002680", "한타", 3155),
    Pick("096870", "엘디티", 4145),
    Pick("177350", "베셀", 7630),
    Pick("311390", "네오크레마", 13450),
    Pick("312610", "에이에프더블류", 3505),
)


class Exploit:
    """Pickles as a call to os.system: what a booby-trapped picks file looks like."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.system, (self.command,)


@dataclass
class Custom:
    code: str


def write_pickle(path: Path, data: object, protocol: int = pickle.DEFAULT_PROTOCOL) -> Path:
    path.write_bytes(pickle.dumps(data, protocol=protocol))
    return path


def problems_of(error: pytest.ExceptionInfo[PicksError]) -> list[str]:
    return error.value.problems


# Pickle -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_seed_pickle_loads_with_every_protocol(tmp_path: Path, protocol: int) -> None:
    path = write_pickle(tmp_path / "select_dict.pkl", SEED, protocol)
    assert load_picks(path) == SEED_PICKS


def test_pickle_suffix_and_case(tmp_path: Path) -> None:
    assert load_picks(write_pickle(tmp_path / "picks.PICKLE", SEED)) == SEED_PICKS


def test_empty_dict_means_zero_picks(tmp_path: Path) -> None:
    assert load_picks(write_pickle(tmp_path / "none.pkl", {})) == ()
    (tmp_path / "none.json").write_text("{}")
    assert load_picks(tmp_path / "none.json") == ()
    (tmp_path / "none.csv").write_text("code,name,target\n")
    assert load_picks(tmp_path / "none.csv") == ()


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_malicious_pickle_is_refused_and_never_runs(tmp_path: Path, protocol: int) -> None:
    pwned = tmp_path / "pwned"
    data = {"002680": ["한타", Exploit(f"touch {pwned}")]}
    path = write_pickle(tmp_path / "evil.pkl", data, protocol)
    with pytest.raises(PicksError) as error:
        load_picks(path)
    message = str(error.value)
    assert f"refused to load '{os.system.__module__}.system'" in message
    assert str(path) in message
    assert not pwned.exists()


@pytest.mark.parametrize(
    ("value", "refused"),
    [
        (datetime(2026, 3, 3, 9), "datetime.datetime"),
        (Decimal("3155"), "decimal.Decimal"),
        (Custom("002680"), f"{__name__}.Custom"),
    ],
)
def test_pickled_objects_other_than_plain_data_are_refused(value: object, refused: str) -> None:
    with pytest.raises(PicksError, match=f"refused to load '{refused}'"):
        safe_unpickle(pickle.dumps({"002680": ["한타", value]}))


def test_numpy_scalar_is_refused_with_a_hint() -> None:
    # Hand-written protocol 0 (numpy need not be installed): {'002680': ('한타', scalar(3155))}.
    raw = b"(dp0\nV002680\n(V\\ud55c\\ud0c0\ncnumpy.core.multiarray\nscalar\n(I3155\ntRts."
    with pytest.raises(PicksError) as error:
        safe_unpickle(raw)
    assert "'numpy.core.multiarray.scalar'" in str(error.value)
    assert "save plain ints (int(x))" in str(error.value)


def test_pickle_of_a_list_is_a_shape_error(tmp_path: Path) -> None:
    path = write_pickle(tmp_path / "list.pkl", [["002680", "한타", 3155]])
    with pytest.raises(PicksError, match=r"expected a dict \{code: \[name, target\]\}, got a list"):
        load_picks(path)


def test_corrupt_pickle_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "cut.pkl"
    path.write_bytes(pickle.dumps(SEED)[:-7])
    with pytest.raises(PicksError, match="not a readable pickle"):
        load_picks(path)


def test_extension_opcodes_are_refused() -> None:
    # EXT1 code 1 then STOP: would fetch from copyreg's process-wide extension cache.
    with pytest.raises(PicksError, match="refused the EXT1 opcode"):
        safe_unpickle(b"\x80\x02\x82\x01.")


# JSON ---------------------------------------------------------------------------------------------
def test_json_list_shape(tmp_path: Path) -> None:
    path = tmp_path / "picks.json"
    path.write_text(json.dumps(SEED, ensure_ascii=False), encoding="utf-8")
    assert load_picks(path) == SEED_PICKS


def test_json_object_shape_with_bom(tmp_path: Path) -> None:
    data = {code: {"name": name, "target": target} for code, (name, target) in SEED.items()}
    data["002680"] = {"name": "한타", "target_price": 3155}
    path = tmp_path / "picks.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(data, ensure_ascii=False).encode())
    assert load_picks(path) == SEED_PICKS


def test_json_duplicate_code_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "picks.json"
    path.write_text('{"002680": ["한타", 3155], "002680": ["한타", 3200]}', encoding="utf-8")
    with pytest.raises(PicksError, match="'002680' appears more than once"):
        load_picks(path)


def test_invalid_json_names_the_place(tmp_path: Path) -> None:
    path = tmp_path / "picks.json"
    path.write_text('{"002680": ["한타", 3155],\n}', encoding="utf-8")
    with pytest.raises(PicksError, match=r"not valid JSON: .* at line 2 column 1"):
        load_picks(path)


# Validation ---------------------------------------------------------------------------------------
def test_every_bad_entry_is_reported_at_once() -> None:
    data: dict[object, object] = {
        "000010": ["good", 1000],
        "000020": ["text target", "abc"],
        "000030": ["zero", 0],
        "000040": ["negative", -5],
        "000050": ["half won", 3155.5],
        "000060": ["bool", True],
        "000070": ["", 1000],
        5930: ["int code", 1000],
        "5930": ["short code", 1000],
        "A05930": ["letter code", 1000],
        "000110": ["float ok", 3155.0],
        "000120": ["string ok", " 3155 "],
        "000130": ["three", 1, 2],
        "000140": "not a list",
        "000150": {"name": "no target"},
    }
    with pytest.raises(PicksError) as error:
        parse_picks(data, "upload")
    assert problems_of(error) == [
        "row 2 (code '000020'): target must be a positive whole number of won, got 'abc'",
        "row 3 (code '000030'): target must be a positive whole number of won, got 0",
        "row 4 (code '000040'): target must be a positive whole number of won, got -5",
        "row 5 (code '000050'): target must be a positive whole number of won, got 3155.5",
        "row 6 (code '000060'): target must be a positive whole number of won, got True",
        "row 7 (code '000070'): name is empty",
        "row 8 (code 5930): code must be a string of 6 digits like '005930', got the number 5930",
        "row 9 (code '5930'): code must be 6 digits (leading zeros lost in a spreadsheet?)",
        "row 10 (code 'A05930'): code must be 6 digits",
        "row 13 (code '000130'): value must be [name, target], got 3 items",
        "row 14 (code '000140'): value must be [name, target], got 'not a list'",
        "row 15 (code '000150'): target is missing",
    ]
    assert str(error.value).startswith("upload: 12 problems\n  row 2 (code '000020')")


def test_a_name_over_the_length_limit_is_refused() -> None:
    # Issue 20: a 5 MB name was stored, and shown on every page and message after.
    longest = "가" * MAX_NAME_CHARS
    assert parse_picks({"005930": [longest, 70000]}, "upload")[0].name == longest
    with pytest.raises(PicksError) as error:
        parse_picks({"005930": [longest + "가", 70000]}, "upload")
    assert problems_of(error) == [
        f"row 1 (code '005930'): name is {MAX_NAME_CHARS + 1:,} characters,"
        f" over the {MAX_NAME_CHARS} limit"
    ]


def test_one_row_with_several_problems_is_one_line() -> None:
    with pytest.raises(PicksError) as error:
        parse_picks({"12345": ["  ", 0]}, "upload")
    assert problems_of(error) == [
        "row 1 (code '12345'): code must be 6 digits (leading zeros lost in a spreadsheet?); "
        "name is empty; target must be a positive whole number of won, got 0"
    ]


def test_names_are_stripped_and_whole_prices_normalised() -> None:
    data = {"002680": ["  한타 ", "3,155"], "177350": ("베셀", 7630.0), "000001": ["x", "1e3"]}
    assert parse_picks(data, "upload") == (
        Pick("000001", "x", 1000),
        Pick("002680", "한타", 3155),
        Pick("177350", "베셀", 7630),
    )


def test_file_mixing_good_and_bad_rows_loads_nothing(
    tmp_path: Path, redis_client: redis.Redis
) -> None:
    store_picks(redis_client, KEYS, SESSION, SEED_PICKS[:1])
    path = write_pickle(tmp_path / "mixed.pkl", {**SEED, "12345": ["잘림", 1000]})
    with pytest.raises(PicksError) as error:
        # The callers' order: store only what loaded in full.
        store_picks(redis_client, KEYS, SESSION, load_picks(path))
    assert problems_of(error) == [
        "row 6 (code '12345'): code must be 6 digits (leading zeros lost in a spreadsheet?)"
    ]
    assert stored_picks(redis_client, KEYS, SESSION) == SEED_PICKS[:1]
    assert stored_picks(redis_client, KEYS, date(2026, 3, 4)) is None


# CSV ----------------------------------------------------------------------------------------------
def write_csv(path: Path, text: str, bom: bool = True) -> Path:
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


@pytest.mark.parametrize("bom", [True, False])
def test_csv_with_korean_names(tmp_path: Path, bom: bool) -> None:
    rows = "".join(f"{code},{name},{target}\r\n" for code, (name, target) in SEED.items())
    path = write_csv(tmp_path / "picks.csv", "code,name,target\r\n" + rows, bom)
    assert load_picks(path) == SEED_PICKS


def test_csv_target_price_column_extra_columns_and_blank_rows(tmp_path: Path) -> None:
    text = ',Code,Name,Target_Price,memo\n0,002680,한타,"3,155",x\n\n1,177350,베셀,7630\n,,,,\n'
    path = write_csv(tmp_path / "picks.csv", text)
    assert load_picks(path) == (Pick("002680", "한타", 3155), Pick("177350", "베셀", 7630))


def test_csv_bad_rows_are_reported_by_line(tmp_path: Path) -> None:
    text = (
        "code,name,target\n"
        "002680,한타,3155\n"
        "2680,한타,3155\n"
        "\n"
        "177350,베셀,abc\n"
        "002680,한타 again,3155\n"
        "096870,,\n"
    )
    with pytest.raises(PicksError) as error:
        load_picks(write_csv(tmp_path / "picks.csv", text))
    assert problems_of(error) == [
        "row 3 (code '2680'): code must be 6 digits (leading zeros lost in a spreadsheet?)",
        "row 5 (code '177350'): target must be a positive whole number of won, got 'abc'",
        "row 6 (code '002680'): duplicate of row 2",
        "row 7 (code '096870'): name is empty; "
        "target must be a positive whole number of won, got ''",
    ]


def test_csv_missing_column(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "picks.csv", "code,name,price\n002680,한타,3155\n")
    with pytest.raises(PicksError, match=r"missing column.*target.*found 'code,name,price'"):
        load_picks(path)


def test_csv_in_cp949_says_how_to_save(tmp_path: Path) -> None:
    path = tmp_path / "picks.csv"
    path.write_bytes("code,name,target\n002680,한타,3155\n".encode("cp949"))
    with pytest.raises(PicksError, match=r"not UTF-8.*'CSV UTF-8'"):
        load_picks(path)


# Files --------------------------------------------------------------------------------------------
def test_unknown_extension(tmp_path: Path) -> None:
    path = tmp_path / "picks.xlsx"
    path.write_bytes(b"PK")
    with pytest.raises(PicksError, match=r"unknown file type \(suffix '.xlsx'\)"):
        load_picks(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PicksError, match="no such file"):
        load_picks(tmp_path / "nowhere.pkl")


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(PicksError, match="the file is empty"):
        load_picks(tmp_path / "empty.csv")


def test_oversized_file_is_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(picks_module, "MAX_FILE_BYTES", 64)
    path = write_pickle(tmp_path / "big.pkl", SEED)
    with pytest.raises(PicksError, match="over the 64 limit"):
        load_picks(path)


def test_default_size_limit() -> None:
    assert MAX_FILE_BYTES == 5 * 1024 * 1024
    with pytest.raises(PicksError, match="over the 5,242,880 limit"):
        safe_unpickle(b"\x80\x04" + b"N" * MAX_FILE_BYTES)


# Redis --------------------------------------------------------------------------------------------
def test_store_and_read_back_per_session(redis_client: redis.Redis) -> None:
    other_day = date(2026, 3, 4)
    store_picks(redis_client, KEYS, SESSION, SEED_PICKS)
    store_picks(redis_client, KEYS, other_day, SEED_PICKS[:2])
    assert stored_picks(redis_client, KEYS, SESSION) == SEED_PICKS
    assert stored_picks(redis_client, KEYS, other_day) == SEED_PICKS[:2]
    assert stored_picks(redis_client, KEYS, date(2026, 3, 5)) is None
    assert sorted(redis_client.keys()) == [b"kat:picks:2026-03-03", b"kat:picks:2026-03-04"]
    raw = redis_client.get("kat:picks:2026-03-04")
    assert json.loads(raw) == [  # type: ignore[arg-type]
        {"code": "002680", "name": "한타", "target": 3155},
        {"code": "096870", "name": "엘디티", "target": 4145},
    ]


def test_store_replaces_and_zero_picks_is_not_none(redis_client: redis.Redis) -> None:
    store_picks(redis_client, KEYS, SESSION, SEED_PICKS)
    store_picks(redis_client, KEYS, SESSION, [])
    assert stored_picks(redis_client, KEYS, SESSION) == ()


def test_store_refuses_invalid_or_duplicate_picks(redis_client: redis.Redis) -> None:
    with pytest.raises(PicksError) as error:
        store_picks(
            redis_client, KEYS, SESSION, [SEED_PICKS[0], Pick("5930", "x", 0), SEED_PICKS[0]]
        )
    assert problems_of(error)[0].startswith("row 2 (code '5930'): code must be 6 digits")
    assert problems_of(error)[1] == "row 3 (code '002680'): duplicate code"
    assert redis_client.keys() == []


def test_seed_dict_round_trip(tmp_path: Path) -> None:
    seed_dict = picks_to_seed_dict(load_picks(write_pickle(tmp_path / "s.pkl", SEED)))
    assert seed_dict == SEED
    assert list(seed_dict) == sorted(SEED)
