"""The stream's side of the scheduler: last prices, ticks handed between threads, and a
``QuoteSource`` that reads streamed codes from the stream and polls the rest.

See docs/ARCHITECTURE.md, 'Realtime prices on the stream'. The stream client calls
:meth:`TickInbox.put` from its own thread; the scheduler's tick thread takes the ticks and
decides; the polling cycle asks :class:`StreamedQuotes` for prices.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import redis

from services.scheduler.quotes import PollingQuotes
from shared.infra.settings import Settings
from shared.kis.stream import FillNotice, stream_from_settings
from shared.messaging.queues import enqueue_fill_notice

log = logging.getLogger(__name__)

STREAM_FEED = "stream"
POLLING_FEED = "polling"


class Tick(Protocol):
    """What the scheduler reads of a streamed price (``shared.kis.stream.PriceTick``)."""

    @property
    def code(self) -> str: ...
    @property
    def price(self) -> int: ...
    @property
    def received_epoch(self) -> float: ...


class StreamSession(Protocol):
    """The one KIS WebSocket session (``shared.kis.stream.KisStream``) as the scheduler uses it."""

    @property
    def healthy(self) -> bool: ...
    @property
    def streamed(self) -> frozenset[str]: ...
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def want(self, codes: Sequence[str]) -> None: ...


StreamFactory = Callable[[Callable[[Tick], None]], StreamSession]
"""Builds a new session that hands its price ticks to the callable (fill notices: its own)."""


class FillNotices:
    """The session's ``on_fill``: each fill notice goes to the executor, which applies it.

    Called on the stream's thread; a failure is logged (the executor's reconciliation with
    the daily executions is the record of fills), never raised into the stream.
    """

    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    def __call__(self, notice: FillNotice) -> None:
        try:
            enqueue_fill_notice(self._redis, notice)
        except redis.RedisError as e:
            log.warning(
                "fill notice of %s not queued (reconciliation will see it): %s", notice.code, e
            )


def session_factory(
    settings: Settings, approval_key: Callable[[], str], on_fill: Callable[[FillNotice], None]
) -> StreamFactory | None:
    """How the scheduler opens its stream session; None with ``QUOTE_SOURCE=polling``.

    The fill notice is registered when ``KIS_HTS_ID`` is set (it is the notice's key).
    """
    if settings.quote_source != "stream":
        return None

    def build(on_tick: Callable[[Tick], None]) -> StreamSession:
        return stream_from_settings(settings, approval_key, on_tick=on_tick, on_fill=on_fill)

    return build


@dataclass(frozen=True)
class Seen:
    """A price, when it was received (epoch seconds, real time) and by which feed."""

    price: int
    epoch: float
    feed: str


class PriceBoard:
    """The last price of every code, from the stream or from polling; safe across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, Seen] = {}

    def record(self, code: str, price: int, feed: str, epoch: float | None = None) -> None:
        seen = Seen(price, time.time() if epoch is None else epoch, feed)
        with self._lock:
            self._seen[code] = seen

    def get(self, code: str) -> Seen | None:
        with self._lock:
            return self._seen.get(code)

    def snapshot(self) -> dict[str, Seen]:
        with self._lock:
            return dict(self._seen)

    def prices(self) -> dict[str, int]:
        with self._lock:
            return {code: seen.price for code, seen in self._seen.items()}


class TickInbox:
    """Ticks from the stream's thread to the scheduler's tick thread, the latest per code."""

    def __init__(self, board: PriceBoard) -> None:
        self._board = board
        self._queue: queue.SimpleQueue[Tick] = queue.SimpleQueue()

    def put(self, tick: Tick) -> None:
        """The stream's ``on_tick``: never blocks, never raises."""
        self._board.record(tick.code, tick.price, STREAM_FEED, tick.received_epoch)
        self._queue.put(tick)

    def take(self, timeout: float) -> dict[str, Tick]:
        """Wait up to ``timeout`` real seconds for a tick; then all waiting ones, last per code."""
        try:
            first = self._queue.get(timeout=timeout)
        except queue.Empty:
            return {}
        latest = {first.code: first}
        while True:
            try:
                tick = self._queue.get_nowait()
            except queue.Empty:
                return latest
            latest[tick.code] = tick


POLL_SHARE_WHILE_STREAMING = 0.75
"""While the stream is healthy, quotes of the codes it does not carry take at most this share of
the rate limit: the rest stays free for orders decided on ticks (they must not queue behind a
polling round). While it is down, polling runs at the full rate."""


class StreamedQuotes:
    """Prices of streamed codes from the stream while it is healthy; every other code polled.

    KIS sends a tick per trade, so a streamed code without a tick yet is polled once; after
    that its price stays current for as long as the code stays on a healthy stream (any trade
    would have ticked). No price is ever guessed. Polled prices go on the board.
    """

    def __init__(
        self,
        polling: PollingQuotes,
        board: PriceBoard,
        stream: Callable[[], StreamSession | None],
        rate_limit: float,
    ) -> None:
        self._polling = polling
        self._board = board
        self._stream = stream
        self._paced_interval = 1 / (rate_limit * POLL_SHARE_WHILE_STREAMING)
        self._lock = threading.Lock()
        self._since: dict[str, float] = {}
        """When each code was first seen on the healthy stream (real epoch), without a break."""

    def on_stream(self) -> frozenset[str]:
        """Codes whose prices come from the stream now (none while it is down)."""
        stream = self._stream()
        streamed = frozenset() if stream is None or not stream.healthy else stream.streamed
        now = time.time()
        with self._lock:
            self._since = {code: self._since.get(code, now) for code in streamed}
        return streamed

    def current(self, code: str) -> int | None:
        """The code's price without a request, when the stream vouches for it; else None."""
        with self._lock:
            since = self._since.get(code)
        seen = self._board.get(code)
        if since is None or seen is None:
            return None
        # Read (streamed or polled) since the code joined the stream: any trade after would
        # have ticked. Older, even a tick, it may predate an outage.
        return seen.price if seen.epoch >= since else None

    def prices(self, codes: Iterable[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        polled = []
        self.on_stream()
        for code in codes:
            price = self.current(code)
            if price is not None:
                found[code] = price
            else:
                polled.append(code)
        for code in polled:
            # One at a time, each price on the board as soon as it is read: the choice of
            # streamed codes uses it within a second, not after the whole (paced) round.
            started = time.monotonic()
            for polled_code, price in self._polling.prices([code]).items():
                self._board.record(polled_code, price, POLLING_FEED)
                found[polled_code] = price
            if self._stream_healthy():
                time.sleep(max(0.0, self._paced_interval - (time.monotonic() - started)))
        return found

    def _stream_healthy(self) -> bool:
        stream = self._stream()
        return stream is not None and stream.healthy
