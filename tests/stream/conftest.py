"""A simulator with its WebSocket on free ports, a real KIS client for approval keys, and
:class:`Collector`, which runs a :class:`KisStream` and keeps what it delivers."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis

from shared.infra.clock import build_clock
from shared.infra.settings import load_settings
from shared.kis.client import KisClient, build_client
from shared.kis.stream import FillNotice, KisStream, PriceTick, StreamTimings
from tests.conftest import Sim, SimPool, service_env, wait_for
from tests.kis_sim.conftest import fast_env, pool_settings

HTS_ID = "simhts01"
FILL_TR_ID = "H0STCNI9"
"""The paper fill notice: the simulator plays paper rules by default."""
FAST_TIMINGS = StreamTimings(
    backoff_first=0.1, backoff_cap=0.5, send_interval=0.0, answer_timeout=1.0
)


def sim_env(**overrides: str) -> dict[str, str]:
    """:func:`fast_env` (10:00 on a session day, real time) with quick PINGPONGs and looks."""
    return fast_env(**{"SIM_WS_PING_SECONDS": "0.3", "SIM_WS_TICK_SECONDS": "0.02", **overrides})


SHARED_SETTINGS = pool_settings(sim_env())
""":func:`sim_env` for the worker's shared simulator (``sim_pool`` gives the clock)."""


@pytest.fixture
def sim(sim_pool: SimPool) -> Sim:
    """The worker's stream simulator (``sim_pool``), its prices still unless a test scripts
    them: once the sessions of the test before have closed, reset, counters and all."""
    sim = sim_pool(**SHARED_SETTINGS).sim
    wait_for(
        lambda: sim.admin("GET", "stream").json()["sessions"] == 0,
        what="the sessions of the test before closed",
    )
    sim.admin("POST", "reset")
    return sim


def kis_client(sim: Sim, redis_url: str, client: redis.Redis, **env: str) -> KisClient:
    """Our real KIS client for ``sim`` (approval keys come from it)."""
    settings = load_settings(
        service_env(redis_url, KIS_SIM_URL=sim.url, KIS_WS_URL=sim.ws_url, **env)
    )
    return build_client(settings, client, build_clock(settings, client))


@pytest.fixture
def kis(sim: Sim, redis_url: str, redis_client: redis.Redis) -> KisClient:
    return kis_client(sim, redis_url, redis_client)


@dataclass
class Collector:
    """A started :class:`KisStream` and what it delivered."""

    stream: KisStream
    ticks: list[PriceTick] = field(default_factory=list)
    fills: list[FillNotice] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def prices(self, code: str) -> list[int]:
        with self.lock:
            return [t.price for t in self.ticks if t.code == code]

    def wait(self, predicate: Callable[[], Any], what: str, timeout: float = 10.0) -> None:
        wait_for(predicate, timeout=timeout, what=what)

    def confirmed(self, codes: Iterable[str], what: str = "the codes confirmed") -> None:
        """Wait until exactly ``codes`` are on the stream."""
        wanted = frozenset(codes)
        self.wait(lambda: self.stream.streamed == wanted, what)


StartStream = Callable[..., Collector]


@pytest.fixture
def start_stream(sim: Sim, kis: KisClient) -> Iterator[StartStream]:
    """Factory: ``start_stream(hts_id=..., silence_seconds=...)`` starts a stream on ``sim``
    (``on_tick``/``on_fill`` replace the collecting callbacks)."""
    started: list[Collector] = []

    def start(**options: Any) -> Collector:
        holder: list[Collector] = []

        def on_tick(tick: PriceTick) -> None:
            with holder[0].lock:
                holder[0].ticks.append(tick)

        def on_fill(notice: FillNotice) -> None:
            with holder[0].lock:
                holder[0].fills.append(notice)

        settings: dict[str, Any] = {
            "on_tick": on_tick,
            "on_fill": on_fill,
            "hts_id": HTS_ID,
            "fill_tr_id": FILL_TR_ID,
            "silence_seconds": 5.0,
            "timings": FAST_TIMINGS,
        }
        settings.update(options)
        approval = settings.pop("approval_key", kis.approval_key)
        stream = KisStream(sim.ws_url, approval, **settings)
        collector = Collector(stream)
        holder.append(collector)
        started.append(collector)
        stream.start()
        return collector

    yield start
    for collector in started:
        collector.stream.stop()
