"""The simulator's WebSocket, spoken to raw (websockets' sync client) the way KIS's samples do:
answers, the 41-registration limit, one session per app key, multi-record frames, PINGPONG."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import requests
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from shared.infra.clock import KST
from shared.kis.stream_frames import subscribe_message
from tests.conftest import Sim
from tests.stream.conftest import sim_env

APP_KEY = "raw-app-key"


def approval_key(sim: Sim, app_key: str = APP_KEY) -> str:
    body = {"grant_type": "client_credentials", "appkey": app_key, "secretkey": "raw-secret"}
    response = requests.post(f"{sim.url}/oauth2/Approval", json=body, timeout=5)
    assert response.status_code == 200, response.text
    return str(response.json()["approval_key"])


@contextmanager
def socket(sim: Sim) -> Iterator[ClientConnection]:
    with connect(sim.ws_url, open_timeout=5) as ws:
        yield ws


def ask(ws: ClientConnection, key: str, tr_id: str, tr_key: str, register: bool = True) -> dict:  # type: ignore[type-arg]
    """Send one (un)subscribe and return its answer."""
    ws.send(subscribe_message(key, tr_id, tr_key, register=register))
    return json.loads(receive(ws))  # type: ignore[no-any-return]


def receive(ws: ClientConnection) -> str:
    """The next message that is not PINGPONG; PINGPONGs are echoed as KIS wants."""
    while True:
        text = str(ws.recv(timeout=5))
        if text.startswith("{") and json.loads(text)["header"]["tr_id"] == "PINGPONG":
            ws.send(text)
            continue
        return text


def test_registrations_past_41_are_refused_with_opsp0008(sim: Sim) -> None:
    key = approval_key(sim)
    with socket(sim) as ws:
        first = ask(ws, key, "H0STCNI9", "hts")
        assert first["header"]["encrypt"] == "Y"
        assert first["body"]["msg_cd"] == "OPSP0000"
        assert (
            len(first["body"]["output"]["key"]) == 32 and len(first["body"]["output"]["iv"]) == 16
        )
        answers = [ask(ws, key, "H0STCNT0", f"{100000 + i:06d}") for i in range(41)]
        assert [a["body"]["msg_cd"] for a in answers[:40]] == ["OPSP0000"] * 40
        assert answers[40]["body"] | {"output": None} == {
            "rt_cd": "1",
            "msg_cd": "OPSP0008",
            "msg1": "MAX SUBSCRIBE OVER",
            "output": None,
        }
        # Releasing one makes room again; asking twice for one code is refused.
        assert ask(ws, key, "H0STCNT0", "100000", register=False)["body"]["msg_cd"] == "OPSP0001"
        assert ask(ws, key, "H0STCNT0", "100040")["body"]["msg_cd"] == "OPSP0000"
        assert ask(ws, key, "H0STCNT0", "100040")["body"]["msg_cd"] == "OPSP0002"
        assert ask(ws, key, "H0STCNT0", "999999", register=False)["body"]["msg_cd"] == "OPSP0003"


def test_a_second_session_of_one_app_key_is_refused_and_closed(sim: Sim) -> None:
    key = approval_key(sim)
    time.sleep(1.05)  # approval keys: one a second per app key
    # Another approval key of the same app key: still the same app key.
    another = approval_key(sim)
    with socket(sim) as first:
        assert ask(first, key, "H0STCNT0", "005930")["body"]["rt_cd"] == "0"
        with socket(sim) as second:
            refused = ask(second, another, "H0STCNT0", "000660")
            assert refused["body"]["rt_cd"] == "9" and refused["body"]["msg_cd"] == "OPSP8996"
            try:
                second.recv(timeout=5)
                raise AssertionError("the refused session stayed open")
            except ConnectionClosed:
                pass
        # Another app key has a session of its own.
        with socket(sim) as other:
            assert (
                ask(other, approval_key(sim, "other-key"), "H0STCNT0", "000660")["body"]["rt_cd"]
                == "0"
            )


def test_an_unknown_approval_key_is_refused(sim: Sim) -> None:
    with socket(sim) as ws:
        answer = ask(ws, "not-a-key", "H0STCNT0", "005930")
        assert answer["body"]["rt_cd"] == "1" and "approval" in answer["body"]["msg1"]


def test_moves_queued_between_looks_come_as_one_multi_record_frame(
    start_sim: Callable[..., Sim],
) -> None:
    # Four moves within 0.6 s, looked at every 1.5 s: at most one look falls between them, so
    # at least one frame carries two or more records.
    sim = start_sim(**sim_env(SIM_WS_TICK_SECONDS="1.5"))
    now = datetime.fromisoformat(sim.admin("GET", "health").json()["now"])
    moves = [(0.3, 70_100), (0.5, 70_200), (0.7, 70_300), (0.9, 70_400)]
    points = [[(now + timedelta(seconds=s)).isoformat(), p] for s, p in moves]
    counts: list[int] = []
    prices: list[int] = []
    with socket(sim) as ws:
        assert ask(ws, approval_key(sim), "H0STCNT0", "005930")["body"]["rt_cd"] == "0"
        sim.admin("POST", "prices", json={"005930": points})
        while 70_400 not in prices:
            text = receive(ws)
            if not text.startswith("0|"):
                continue
            flag, tr_id, count, payload = text.split("|", 3)
            fields = payload.split("^")
            assert (flag, tr_id) == ("0", "H0STCNT0")
            assert len(fields) == 46 * int(count)  # KIS's 46 fields per record
            counts.append(int(count))
            prices += [int(fields[i * 46 + 2]) for i in range(int(count))]
            assert {fields[i * 46] for i in range(int(count))} == {"005930"}
    assert max(counts) >= 2, counts
    assert prices[-4:] == [p for _, p in moves]


def test_a_session_that_leaves_pingpong_unanswered_is_closed(sim: Sim) -> None:
    with socket(sim) as ws:
        assert ask(ws, approval_key(sim), "H0STCNT0", "005930")["body"]["rt_cd"] == "0"
        pings = 0
        try:
            while True:
                message = json.loads(ws.recv(timeout=5))
                pings += message["header"]["tr_id"] == "PINGPONG"
        except ConnectionClosed:
            pass
    assert pings == 3  # three unanswered, then the sim hangs up
    assert sim.admin("GET", "stream").json()["counters"]["pingpong_timeouts"] == 1


def test_malformed_requests_get_one_error_each_and_the_session_goes_on(sim: Sim) -> None:
    key = approval_key(sim)
    with socket(sim) as ws:
        ws.send("not json")
        assert json.loads(receive(ws))["body"]["msg_cd"] == "SIM00203"
        blank_type = json.loads(subscribe_message(key, "H0STCNT0", "005930", register=True))
        blank_type["header"]["tr_type"] = ""
        ws.send(json.dumps(blank_type))
        assert json.loads(receive(ws))["body"]["msg_cd"] == "SIM00203"
        assert ask(ws, key, "H0STCNT0", "5930")["body"]["msg_cd"] == "SIM00203"
        assert ask(ws, key, "H0STASP0", "005930")["body"]["msg_cd"] == "SIM00202"
        assert ask(ws, key, "H0STCNT0", "005930")["body"]["msg_cd"] == "OPSP0000"


def _pings_answered_with(ws: ClientConnection, answer: Callable[[str], bytes], pings: int) -> int:
    """Answer ``pings`` PINGPONGs with pong control frames carrying ``answer(text)``; returns how
    many came before the socket closed."""
    seen = 0
    try:
        while seen < pings:
            text = str(ws.recv(timeout=5))
            if text.startswith("{") and json.loads(text)["header"]["tr_id"] == "PINGPONG":
                seen += 1
                ws.pong(answer(text))
    except ConnectionClosed:
        pass
    return seen


def test_a_pong_frame_carrying_the_pingpong_answers_it_as_kis_official_client_does(
    sim: Sim,
) -> None:
    # KIS's official client (open-trading-api, examples_user/kis_auth.py) answers with
    # ws.pong(raw), never a text echo: six PINGPONGs so answered keep the session open.
    key = approval_key(sim)
    with socket(sim) as ws:
        assert ask(ws, key, "H0STCNT0", "005930")["body"]["rt_cd"] == "0"
        assert _pings_answered_with(ws, lambda text: text.encode(), 6) == 6
        assert ask(ws, key, "H0STCNT0", "000660")["body"]["msg_cd"] == "OPSP0000"  # still open
    counters = sim.admin("GET", "stream").json()["counters"]
    assert counters["pong_frames_received"] >= 6
    assert counters.get("pingpong_timeouts", 0) == 0


def test_a_pong_frame_carrying_something_else_is_no_answer(sim: Sim) -> None:
    with socket(sim) as ws:
        assert ask(ws, approval_key(sim), "H0STCNT0", "005930")["body"]["rt_cd"] == "0"
        assert _pings_answered_with(ws, lambda _text: b"hello", 10) == 3
    counters = sim.admin("GET", "stream").json()["counters"]
    assert counters["pingpong_timeouts"] == 1
    assert counters.get("pong_frames_received", 0) == 0


def price_records(ws: ClientConnection, key: str, code: str, seconds: float) -> list[list[str]]:
    """Every H0STCNT0 record of ``code`` for ``seconds`` real seconds."""
    assert ask(ws, key, "H0STCNT0", code)["body"]["rt_cd"] == "0"
    records: list[list[str]] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            text = str(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
        except TimeoutError:
            continue
        if text.startswith("{") and json.loads(text)["header"]["tr_id"] == "PINGPONG":
            ws.send(text)
        elif text.startswith("0|H0STCNT0|"):
            _, _, count, payload = text.split("|", 3)
            fields = payload.split("^")
            records += [fields[i * 46 : (i + 1) * 46] for i in range(int(count))]
    return records


def test_without_trades_a_still_price_sends_nothing(sim: Sim) -> None:
    sim.admin("POST", "prices", json={"005930": [["00:00", 70_000]]})
    with socket(sim) as ws:
        assert price_records(ws, approval_key(sim), "005930", 1.5) == []


def test_with_trades_a_still_price_sends_a_record_per_trade(
    start_sim: Callable[..., Sim],
) -> None:
    sim = start_sim(**sim_env(SIM_TRADES_PER_MINUTE="240"))  # four a second
    sim.admin("POST", "prices", json={"005930": [["00:00", 70_000]]})
    with socket(sim) as ws:
        records = price_records(ws, approval_key(sim), "005930", 4.0)
    # A Poisson count of mean 16: below 4 or above 40 has a chance under 1e-4.
    assert 4 <= len(records) <= 40, len(records)
    assert {r[2] for r in records} == {"70000"}
    volumes = [int(r[12]) for r in records]  # CNTG_VOL
    assert min(volumes) >= 1 and len(set(volumes)) > 1
    times = [r[1] for r in records]
    assert times == sorted(times)


def test_trade_volumes_add_up_to_the_quotes_volume_minute_by_minute(
    start_sim: Callable[..., Sim],
) -> None:
    # A clock minute a real second, 30 trades a minute of the walk's 000660.
    sim = start_sim(**sim_env(SIM_TRADES_PER_MINUTE="30", CLOCK_SPEED="60"))
    with socket(sim) as ws:
        records = price_records(ws, approval_key(sim), "000660", 5.0)
    by_minute: dict[str, list[list[str]]] = {}
    for r in records:
        by_minute.setdefault(r[1][:4], []).append(r)
    minutes = sorted(by_minute)
    assert len(minutes) >= 4, minutes
    checked = 0
    # The first minute seen may have started before the registration: skip it.
    for this, following in itertools.pairwise(minutes[1:]):
        if int(following) - int(this) != 1:
            continue
        traded = sum(int(r[12]) for r in by_minute[this])
        acml = int(by_minute[following][0][13]) - int(by_minute[this][0][13])  # ACML_VOL
        assert traded == acml, (this, traded, acml)
        checked += 1
    assert checked >= 2


def test_a_price_at_the_upper_limit_is_signed_1(sim: Sim) -> None:
    now = datetime.fromisoformat(sim.admin("GET", "health").json()["now"])
    up = (now + timedelta(seconds=0.5)).isoformat()
    sim.admin("POST", "prices", json={"005930": [["2026-03-02T09:00", 70_000], [up, 91_000]]})
    with socket(sim) as ws:
        records = price_records(ws, approval_key(sim), "005930", 1.5)
    assert [(r[2], r[3], r[4]) for r in records] == [("91000", "1", "21000")]  # 상한


def test_a_vi_stops_the_trade_records(start_sim: Callable[..., Sim]) -> None:
    sim = start_sim(**sim_env(SIM_TRADES_PER_MINUTE="600", SIM_VI="on"))
    now = datetime.fromisoformat(sim.admin("GET", "health").json()["now"])
    trigger = now + timedelta(seconds=2)
    path = [["09:00", 70_000], [trigger.isoformat(), 77_000]]  # +10 %: a static VI
    sim.admin("POST", "prices", json={"005930": path})
    with socket(sim) as ws:
        records = price_records(ws, approval_key(sim), "005930", 4.0)
    stamp = trigger.strftime("%H%M%S")
    before = [r for r in records if r[1] < stamp]
    assert len(before) >= 3 and {r[2] for r in before} == {"70000"}
    assert [r for r in records if r[1] > stamp] == []  # no trades during the VI


def test_the_opening_trade_is_sent_at_an_unchanged_price(start_sim: Callable[..., Sim]) -> None:
    """A code subscribed before the open hears of its first trade at the open even when the
    price does not move (KIS sends every trade; the opening match is one), and nothing before."""
    start = datetime(2026, 3, 3, 8, 59, 58, tzinfo=KST)
    sim = start_sim(**sim_env(CLOCK_START=start.isoformat(), CLOCK_EPOCH=repr(time.time() + 1)))
    sim.admin("POST", "prices", json={"005930": [["00:00", 70_000]]})
    with socket(sim) as ws:
        records = price_records(ws, approval_key(sim), "005930", 5.0)
    assert len(records) == 1, records
    assert records[0][1] >= "090000" and records[0][2] == "70000"
