"""KisStream against the simulator's WebSocket: ticks from the sim's price paths, fill notices
decrypted, PINGPONG answered, reconnects after a dropped socket and after silence."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable

import pytest
import redis

from shared.infra.settings import load_settings
from shared.kis.client import KisClient
from shared.kis.stream import PriceTick, stream_from_settings
from tests.conftest import Sim, service_env, wait_for
from tests.kis_sim.conftest import KisClient as RawKis
from tests.stream.conftest import HTS_ID, StartStream, kis_client, sim_env

CODES = ["005930", "000660"]


def test_ticks_follow_the_simulators_price_paths(sim: Sim, start_stream: StartStream) -> None:
    paths = {"005930": [["08:00", 70_000]], "000660": [["08:00", 200_000]]}
    sim.admin("POST", "prices", json=paths)
    got = start_stream()
    got.stream.want(CODES)
    got.confirmed(CODES)
    got.wait(lambda: got.stream.healthy, "a healthy stream")

    sim.admin("POST", "prices", json={"005930": [["08:00", 70_100]]})
    got.wait(lambda: got.prices("005930") == [70_100], "the new price of 005930")
    rest = sim.admin("GET", "price/005930").json()
    assert rest["price"] == 70_100  # the same path drives the REST quote
    assert got.prices("000660") == []  # no trade, no tick
    [tick] = [t for t in got.ticks if t.code == "005930"]
    assert len(tick.hhmmss) == 6 and tick.received_epoch > 0


def test_want_releases_dropped_codes_and_registers_new_ones(
    sim: Sim, start_stream: StartStream
) -> None:
    got = start_stream()
    got.stream.want(CODES)
    got.confirmed(CODES)
    got.stream.want(["000660", "035720"])
    got.confirmed(["000660", "035720"], "005930 swapped for 035720")
    assert sim.admin("GET", "stream").json()["registrations"] == 3  # two codes + fill notice


def test_fill_notices_arrive_decrypted(sim: Sim, start_stream: StartStream) -> None:
    got = start_stream()
    got.wait(lambda: got.stream.healthy, "the fill notice registered")
    trader = RawKis(sim).login()
    odno = trader.placed("buy", "005930", 3)

    got.wait(lambda: any(n.filled for n in got.fills), "the fill notice")
    ack, fill = got.fills
    assert (ack.order_no, ack.filled, ack.side, ack.code) == (odno, False, "buy", "005930")
    assert (fill.order_no, fill.filled, fill.quantity) == (odno, True, 3)
    executed = [o for o in sim.admin("GET", "orders").json()["orders"] if o["odno"] == odno]
    assert fill.price == executed[0]["fills"][0]["price"]
    assert fill.order_quantity == 3


def test_a_revise_is_acknowledged_with_its_original_and_its_fill_follows(
    sim: Sim, start_stream: StartStream
) -> None:
    got = start_stream()
    got.wait(lambda: got.stream.healthy, "the fill notice registered")
    sim.admin("POST", "prices", json={"005930": [["00:00", 70_000]]})
    trader = RawKis(sim).login()
    original = trader.placed("buy", "005930", 2, division="00", price=60_000)
    answer = trader.revise(original, 70_000).json()
    assert answer["rt_cd"] == "0", answer
    revised = answer["output"]["odno"]

    got.wait(lambda: any(n.filled for n in got.fills), "the revised order's fill")
    first, ack, fill = got.fills
    assert (first.order_no, first.filled, first.price) == (original, False, 60_000)
    assert (ack.order_no, ack.original_order_no, ack.filled) == (revised, original, False)
    assert (fill.order_no, fill.quantity, fill.price) == (revised, 2, 70_000)


def test_pingpong_is_answered_and_keeps_the_session(sim: Sim, start_stream: StartStream) -> None:
    got = start_stream()
    got.wait(lambda: got.stream.healthy, "a healthy stream")
    # The sim closes a session after 3 unanswered PINGPONGs 0.3 s apart: wait well past that.
    got.wait(
        lambda: sim.admin("GET", "stream").json()["counters"].get("pongs_received", 0) >= 6,
        "six PINGPONGs echoed",
    )
    counters = sim.admin("GET", "stream").json()["counters"]
    assert counters.get("pingpong_timeouts", 0) == 0
    assert got.stream.connects == 1 and got.stream.healthy


def test_reconnects_and_registers_again_after_a_dropped_socket(
    sim: Sim, start_stream: StartStream
) -> None:
    got = start_stream()
    got.stream.want(CODES)
    got.confirmed(CODES)

    sim.admin("POST", "stream/faults", json={"kind": "drop"})
    got.wait(lambda: got.stream.connects == 2, "a second session")
    got.confirmed(CODES, "both codes confirmed again")
    got.wait(lambda: got.stream.healthy, "healthy again")
    sim.admin("POST", "prices", json={"000660": [["08:00", 123_400]]})
    got.wait(lambda: got.prices("000660") == [123_400], "ticks on the new session")
    state = sim.admin("GET", "stream").json()
    assert state["sessions"] == 1 and state["registrations"] == 3


def test_a_silent_session_is_dropped_and_replaced(sim: Sim, start_stream: StartStream) -> None:
    got = start_stream(silence_seconds=1.0)
    got.stream.want(CODES)
    got.wait(lambda: got.stream.healthy, "a healthy stream")

    # Silent for four times the timeout: a loaded machine still sees it before it ends.
    sim.admin("POST", "stream/faults", json={"kind": "silent", "seconds": 4.0})
    got.wait(lambda: not got.stream.healthy, "unhealthy once silent", timeout=4)
    got.wait(lambda: got.stream.connects >= 2, "a new session after the silence timeout")
    got.wait(lambda: got.stream.healthy, "healthy once the silence ended", timeout=15)
    assert got.stream.streamed == frozenset(CODES)


def test_never_more_than_41_registrations(sim: Sim, start_stream: StartStream) -> None:
    codes = [f"{100000 + i:06d}" for i in range(60)]
    got = start_stream()
    got.stream.want(codes)
    got.confirmed(codes[:40], "the first 40 codes confirmed: priority order")
    state = sim.admin("GET", "stream").json()
    assert state["registrations"] == 41
    assert state["counters"].get("registrations_refused", 0) == 0

    # Re-chosen: the last 40 of the list now come first.
    got.stream.want(list(reversed(codes)))
    got.confirmed(codes[20:], "the re-chosen 40 confirmed")
    assert sim.admin("GET", "stream").json()["registrations"] == 41


def test_a_second_session_of_one_app_key_is_refused(
    sim: Sim, kis: KisClient, start_stream: StartStream
) -> None:
    first = start_stream()
    first.wait(lambda: first.stream.healthy, "the first session")
    second = start_stream()
    first.wait(
        lambda: sim.admin("GET", "stream").json()["counters"].get("sessions_refused", 0) >= 1,
        "the second session refused",
    )
    assert not second.stream.healthy
    assert first.stream.healthy and first.stream.connects == 1


def test_the_approval_key_is_never_logged(
    sim: Sim, kis: KisClient, start_stream: StartStream, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # even at DEBUG, where websockets dumps every frame
    keys: list[str] = []

    def approval_key() -> str:
        keys.append(kis.approval_key())
        return keys[-1]

    got = start_stream(approval_key=approval_key)
    got.stream.want(CODES)
    got.confirmed(CODES)
    sim.admin("POST", "stream/faults", json={"kind": "drop"})
    got.wait(lambda: got.stream.connects == 2, "a second session")
    got.confirmed(CODES, "both codes confirmed again")
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert keys and caplog.records  # something was logged, and none of it is a key
    for key in keys:
        assert key[:8] not in logged  # websockets' frame dumps would show the first part


def test_walk_prices_stream_each_minute_on_a_fast_clock(
    start_sim: Callable[..., Sim], redis_url: str, redis_client: redis.Redis
) -> None:
    # One simulated minute a real second: the random walk moves at each minute's start.
    sim = start_sim(**sim_env(CLOCK_SPEED="60"))
    client = kis_client(sim, redis_url, redis_client)
    env = service_env(redis_url, KIS_SIM_URL=sim.url, KIS_WS_URL=sim.ws_url, KIS_HTS_ID=HTS_ID)
    settings = load_settings(env)
    ticks: list[PriceTick] = []
    stream = stream_from_settings(
        settings, client.approval_key, on_tick=ticks.append, on_fill=print
    )
    assert (stream.url, stream.hts_id, stream.fill_tr_id) == (sim.ws_url, HTS_ID, "H0STCNI9")
    stream.want(["000660"])
    stream.start()
    try:
        wait_for(lambda: len(ticks) >= 3, timeout=15, what="three walk ticks")
    finally:
        stream.stop()
    assert all(t.hhmmss.endswith("00") for t in ticks)  # minute boundaries
    assert all(a.price != b.price for a, b in itertools.pairwise(ticks))


def test_a_callback_that_raises_is_logged_and_the_stream_goes_on(
    sim: Sim, start_stream: StartStream, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[int] = []

    def on_tick(tick: PriceTick) -> None:
        seen.append(tick.price)
        if len(seen) == 1:
            raise RuntimeError("a bug in the scheduler's callback")

    got = start_stream(on_tick=on_tick)
    got.stream.want(["005930"])
    got.confirmed(["005930"])
    for price in (70_100, 70_200):
        sim.admin("POST", "prices", json={"005930": [["08:00", price]]})
        got.wait(lambda wanted=price: wanted in seen, f"the tick at {price}")
    assert got.stream.connects == 1 and got.stream.healthy
    assert "on_tick callback failed" in caplog.text
