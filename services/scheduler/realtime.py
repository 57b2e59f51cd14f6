"""The scheduler's realtime side: the one stream session, the tick thread, the choice of what to
stream, and the watchlist it writes for the status API.

See docs/ARCHITECTURE.md, 'Realtime prices on the stream'. The session is open only while this
instance leads and the market trades; ticks of streamed codes are decided at once on a thread
of their own (the polling cycle may be waiting on the rate limiter meanwhile); when the stream
is unhealthy its codes are polled like the rest, and ticks are not decided on.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import redis

from services.scheduler.quotes import PollingQuotes
from services.scheduler.streaming import (
    PriceBoard,
    StreamedQuotes,
    StreamFactory,
    StreamSession,
    TickInbox,
)
from services.scheduler.watch import (
    Watch,
    Watched,
    choose_streamed,
    distance,
    near_decision,
    next_decision,
)
from shared.infra.redis_keys import Keys
from shared.trading.rules import Thresholds

log = logging.getLogger(__name__)

TICK_WAIT_SECONDS = 0.25
"""The tick thread wakes at least this often (real seconds) to see a stop or a due refresh."""
REFRESH_SECONDS = 1.0
"""The choice of streamed codes and the watchlist are renewed this often (real seconds)."""
WATCHLIST_TTL_SECONDS = 3600
"""The watchlist key expires this long after its last write: a stopped scheduler shows none."""
CENTS = Decimal("0.01")
ORDERED = "ordered"
"""The next decision of a pick whose entry order exists: none, the order is working or done."""

TickDecider = Callable[[dict[str, int]], None]
"""Decides on fresh prices of streamed codes (the scheduler's rules and placing)."""


class Realtime:
    """Owns the stream session (None when ``QUOTE_SOURCE=polling``) and the price board."""

    def __init__(
        self,
        client: redis.Redis,
        keys: Keys,
        thresholds: Thresholds,
        polling: PollingQuotes,
        factory: StreamFactory | None,
        capacity: int,
        rate_limit: float,
        decide: TickDecider,
        now: Callable[[], datetime],
    ) -> None:
        self._redis = client
        self._keys = keys
        self._thresholds = thresholds
        self._factory = factory
        self._capacity = capacity
        self._decide = decide
        self._now = now
        self.board = PriceBoard()
        self.inbox = TickInbox(self.board)
        self._stream: StreamSession | None = None
        self.quotes = StreamedQuotes(polling, self.board, lambda: self._stream, rate_limit)
        self._watched: list[Watched] = []
        self._ordered: list[Watched] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._thread_stop = threading.Event()

    @property
    def stream(self) -> StreamSession | None:
        return self._stream

    @property
    def streaming(self) -> bool:
        """Whether a session is open and healthy."""
        stream = self._stream
        return stream is not None and stream.healthy

    # The session's life ------------------------------------------------------------------------
    def activate(self, active: bool) -> None:
        """Open the session (and the tick thread) when ``active``, close both when not."""
        if self._factory is None:
            return
        if active and self._stream is None:
            stream = self._factory(self.inbox.put)
            stream.start()
            self._stream = stream
            self._thread_stop.clear()
            self._thread = threading.Thread(
                target=self._run_ticks, name="scheduler-ticks", daemon=True
            )
            self._thread.start()
            log.info("stream session opened")
        elif not active and self._stream is not None:
            self._thread_stop.set()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._thread = None
            stream, self._stream = self._stream, None
            stream.stop()
            log.info("stream session closed")

    def _run_ticks(self) -> None:
        last_refresh = 0.0
        while not self._thread_stop.is_set():
            ticks = self.inbox.take(TICK_WAIT_SECONDS)
            stream = self._stream
            try:
                if ticks and stream is not None and stream.healthy:
                    streamed = stream.streamed
                    prices = {c: t.price for c, t in ticks.items() if c in streamed}
                    if prices:
                        self._decide(prices)
                if time.monotonic() - last_refresh >= REFRESH_SECONDS:
                    last_refresh = time.monotonic()
                    self.refresh()
            except Exception:
                # A failed decision is tried again at the next tick or cycle: never stop here.
                log.exception("deciding on streamed prices failed; going on")

    def near_decision(self, *, streamed_only: bool) -> list[Watched]:
        """What is watched and near its next decision now (``watch.near_decision``), of the
        codes on the healthy stream only, or of every watched code."""
        with self._lock:
            watched = self._watched
        if streamed_only:
            on_stream = self.quotes.on_stream()
            watched = [w for w in watched if w.code in on_stream]
        return near_decision(watched, self.board.prices(), self._thresholds)

    # The choice and the watchlist --------------------------------------------------------------
    def watch(self, watched: Sequence[Watched], ordered: Sequence[Watched]) -> None:
        """What to watch from now on (picks still to buy and positions), then choose and write."""
        with self._lock:
            self._watched = list(watched)
            self._ordered = list(ordered)
        self.refresh()

    def refresh(self) -> None:
        """Re-choose the streamed codes from the latest prices and write the watchlist."""
        with self._lock:
            watched = self._watched
            ordered = self._ordered
        stream = self._stream
        prices = self.board.prices()
        if stream is not None:
            chosen = choose_streamed(
                watched, prices, self._thresholds, self._capacity, stream.streamed
            )
            stream.want(chosen)
        self._write(watched, ordered)

    def _write(self, watched: Sequence[Watched], ordered: Sequence[Watched]) -> None:
        stream = self._stream
        on_stream = self.quotes.on_stream()
        document = {
            "written_kst": self._now().isoformat(timespec="seconds"),
            "quote_source": "polling" if self._factory is None else "stream",
            "stream_healthy": None if stream is None else stream.healthy,
            "stream_capacity": self._capacity,
            "rows": watchlist_rows(watched, ordered, self.board, self._thresholds, on_stream),
        }
        self._redis.set(self._keys.watchlist(), json.dumps(document), ex=WATCHLIST_TTL_SECONDS)


def watchlist_rows(
    watched: Sequence[Watched],
    ordered: Sequence[Watched],
    board: PriceBoard,
    thresholds: Thresholds,
    on_stream: Collection[str],
) -> list[dict[str, Any]]:
    """One row per watched code, nearest its next decision first; ordered picks last."""
    seen = board.snapshot()
    rows = [_row(w, seen, thresholds, on_stream) for w in watched]
    rows.sort(key=lambda r: (r["distance_pct"] is not None, r["distance_pct"] or 0, r["code"]))
    for w in ordered:
        row = _row(w, seen, thresholds, on_stream)
        row.update(next_decision=ORDERED, distance_pct=None)
        rows.append(row)
    return rows


def _row(
    w: Watched, seen: Mapping[str, Any], thresholds: Thresholds, on_stream: Collection[str]
) -> dict[str, Any]:
    last = seen.get(w.code)
    price = last.price if last is not None else None
    gap = distance(w, price, thresholds)
    row: dict[str, Any] = {"code": w.code, "name": w.name, "kind": w.kind.value}
    if w.kind is Watch.PICK:
        row.update(target=int(w.low), band_top=_money(w.high), average_price=None)
        row.update(take_profit_above=None, stop_loss_below=None)
    else:
        row.update(target=None, band_top=None, average_price=_money(w.average_price))
        row.update(take_profit_above=_money(w.high), stop_loss_below=_money(w.low))
    row.update(
        price=price,
        price_epoch=last.epoch if last is not None else None,
        price_feed=last.feed if last is not None else None,
        distance_pct=None if gap is None else round(gap * 100, 3),
        next_decision=next_decision(w, price),
        on_stream=w.code in on_stream,
    )
    return row


def _money(won: Decimal | None) -> str | None:
    return None if won is None else str(won.quantize(CENTS))
