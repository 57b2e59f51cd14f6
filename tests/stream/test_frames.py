"""Parsing KIS's WebSocket messages: by field index, extra trailing fields tolerated, multi-record
frames split by their count, fill notices decrypted (a vector made by openssl, not by us)."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess

import pytest

from services.kis_sim.stream_frames import encrypt
from shared.kis.stream import StreamTimings, reconnect_delay
from shared.kis.stream_crypto import DecryptError, decrypt_payload
from shared.kis.stream_frames import (
    Control,
    DataFrame,
    FrameError,
    fill_notice_from_payload,
    fill_notice_payload,
    fill_notices,
    parse_message,
    price_ticks,
    subscribe_message,
)
from shared.kis.stream_plan import capacity, changes, chosen

KEY = "abcdefghijklmnopqrstuvwxyzABCDEF"
IV = "0123456789abcdef"


def price_record(code: str, price: int, extra: int = 0) -> list[str]:
    record = [code, "093001", str(price), "2", "100", "0.14"] + ["0"] * 40
    return record + [f"new{i}" for i in range(extra)]


def fill_record(order_no: str, qty: int, price: int, kind: str = "2", extra: int = 0) -> list[str]:
    record = ["hts", "5000000001", order_no, "", "02", "0", "00", "0", "005930", str(qty)]
    record += [str(price), "100501", "0", kind, "2", "06010", "10", "SIM", "", "1", "N", ""]
    record += ["10", "", "삼성전자", "69000"]
    return record + [f"new{i}" for i in range(extra)]


def frame(tr_id: str, records: list[list[str]], flag: str = "0") -> str:
    return f"{flag}|{tr_id}|{len(records):03d}|" + "^".join(f for r in records for f in r)


def test_a_price_frame_reads_code_time_and_price_by_index() -> None:
    message = parse_message(frame("H0STCNT0", [price_record("005930", 70_100)]))
    assert isinstance(message, DataFrame) and not message.encrypted
    [tick] = price_ticks(message, 1.5)
    assert (tick.code, tick.price, tick.hhmmss, tick.received_epoch) == (
        "005930",
        70_100,
        "093001",
        1.5,
    )


def test_extra_trailing_fields_in_a_multi_record_frame_still_split_right() -> None:
    records = [price_record("005930", p, extra=3) for p in (70_000, 70_100, 69_900)]
    message = parse_message(frame("H0STCNT0", records))
    assert isinstance(message, DataFrame) and message.count == 3
    assert [t.price for t in price_ticks(message, 0.0)] == [70_000, 70_100, 69_900]


def test_a_fill_notice_with_the_grown_layout_parses() -> None:
    payload = "^".join(fill_record("0000000042", 7, 69_000, extra=2))
    [notice] = fill_notices(payload, 1, 2.0)
    assert (notice.order_no, notice.side, notice.quantity, notice.price) == (
        "0000000042",
        "buy",
        7,
        69_000,
    )
    assert notice.filled and not notice.refused and notice.order_quantity == 10
    [ack] = fill_notices("^".join(fill_record("0000000042", 10, 69_000, kind="1")), 1, 0.0)
    assert not ack.filled


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("0|H0STCNT0|abc|x", "record count"),
        ("0|H0STCNT0", "4 '|'-separated parts"),
        ("hello", "neither a data frame nor JSON"),
        ('{"body": {}}', "header.tr_id"),
    ],
)
def test_bad_messages_fail_with_one_line(text: str, why: str) -> None:
    with pytest.raises(FrameError, match=why):
        parse_message(text)


def test_records_that_do_not_divide_evenly_are_refused() -> None:
    message = parse_message("0|H0STCNT0|002|" + "^".join([*price_record("005930", 1), "x"]))
    assert isinstance(message, DataFrame)
    with pytest.raises(FrameError, match="equal records"):
        price_ticks(message, 0.0)


def test_control_messages_carry_key_iv_and_errors() -> None:
    answer = {
        "header": {"tr_id": "H0STCNI9", "tr_key": "hts", "encrypt": "Y"},
        "body": {
            "rt_cd": "0",
            "msg_cd": "OPSP0000",
            "msg1": "SUBSCRIBE SUCCESS",
            "output": {"iv": IV, "key": KEY},
        },
    }
    c = parse_message(json.dumps(answer))
    assert isinstance(c, Control) and c.ok and c.encrypted and (c.key, c.iv) == (KEY, IV)
    refused = {
        "header": {"tr_id": "H0STCNT0", "tr_key": "005930", "encrypt": "N"},
        "body": {"rt_cd": "1", "msg_cd": "OPSP0008", "msg1": "MAX SUBSCRIBE OVER"},
    }
    c = parse_message(json.dumps(refused))
    assert isinstance(c, Control) and not c.ok and c.msg_cd == "OPSP0008"
    ping = parse_message('{"header": {"tr_id": "PINGPONG", "datetime": "20260303100000"}}')
    assert isinstance(ping, Control) and ping.is_pingpong


def test_subscribe_message_is_kis_shape() -> None:
    sent = json.loads(subscribe_message("approval", "H0STCNT0", "005930", register=False))
    assert sent["header"] == {
        "approval_key": "approval",
        "custtype": "P",
        "tr_type": "2",
        "content-type": "utf-8",
    }
    assert sent["body"] == {"input": {"tr_id": "H0STCNT0", "tr_key": "005930"}}


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
@pytest.mark.processes
def test_decrypts_what_openssl_encrypted() -> None:
    plain = "^".join(fill_record("0000000007", 3, 70_000))
    done = subprocess.run(
        ["openssl", "enc", "-aes-256-cbc", "-K", KEY.encode().hex(), "-iv", IV.encode().hex()],
        input=plain.encode(),
        capture_output=True,
        check=True,
    )
    cipher = base64.b64encode(done.stdout).decode()
    assert decrypt_payload(cipher, KEY, IV) == plain
    assert encrypt(plain, KEY, IV) == cipher  # the simulator encrypts the same way


def test_a_wrong_key_fails_without_showing_the_payload() -> None:
    cipher = encrypt("secret^account^5000000001", KEY, IV)
    with pytest.raises(DecryptError) as raised:
        decrypt_payload(cipher, KEY[::-1], IV)
    assert "5000000001" not in str(raised.value) and KEY not in str(raised.value)


def test_a_notice_survives_the_queue_payload() -> None:
    [notice] = fill_notices("^".join(fill_record("0000000042", 7, 69_000)), 1, 2.0)
    assert fill_notice_from_payload(json.loads(json.dumps(fill_notice_payload(notice)))) == notice
    with pytest.raises(FrameError, match="quantity"):
        fill_notice_from_payload({**fill_notice_payload(notice), "quantity": "7"})


def test_the_registration_plan_keeps_priority_and_the_budget() -> None:
    codes = [f"{i:06d}" for i in range(60)]
    assert capacity(with_fill_notice=True) == 40 and capacity(with_fill_notice=False) == 41
    assert chosen(codes, 40) == codes[:40]
    assert chosen(["005930", "bad", "005930", "000660"], 5, refused={"000660"}) == ["005930"]
    plan = changes(["000003", "000001"], {"000001", "000002"})
    assert (plan.release, plan.register) == (["000002"], ["000003"])


def test_backoff_doubles_to_its_cap_with_jitter() -> None:
    timings = StreamTimings(backoff_first=0.5, backoff_cap=8.0)
    delays = [reconnect_delay(n, timings) for n in range(1, 10)]
    assert 0.375 <= delays[0] <= 0.625
    assert all(d <= 8.0 * 1.25 for d in delays)
    assert delays[-1] >= 6.0


def test_order_numbers_come_out_in_one_spelling() -> None:
    # 10 digits, zero-padded (docs/ARCHITECTURE.md, 'KIS rules we rely on'), whatever KIS sent.
    record = fill_record("117057", 7, 69_000)
    record[3] = "0000000000"  # no original order
    [notice] = fill_notices("^".join(record), 1, 2.0)
    assert (notice.order_no, notice.original_order_no) == ("0000117057", "")
    # A notice queued before the numbers had one spelling comes back in today's.
    queued = {**fill_notice_payload(notice), "order_no": "117057"}
    assert fill_notice_from_payload(queued) == notice
