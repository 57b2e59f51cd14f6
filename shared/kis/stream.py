"""The KIS WebSocket stream: realtime prices (H0STCNT0) and fill notices (H0STCNI0/H0STCNI9).

See docs/ARCHITECTURE.md, 'The price and fill stream'.

:class:`KisStream` runs one session per app key on a background thread with its own asyncio
loop. It answers PINGPONG by echoing it (the library's own pings are off, KIS drops sockets
that send them), reconnects with capped exponential backoff plus jitter and registers
everything again, and drops a session that has been silent for ``silence_seconds``. It never
holds more than :data:`MAX_REGISTRATIONS`. Callbacks run on the stream thread; an exception
in one is logged and the stream goes on. The approval key and the fill payloads (they carry
the account number) are never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from shared.infra.backoff import Uniform, backoff_delay
from shared.infra.logs import RedactingFilter
from shared.infra.settings import Settings
from shared.kis import stream_plan
from shared.kis.errors import KisError
from shared.kis.stream_crypto import DecryptError, decrypt_payload
from shared.kis.stream_frames import (
    ALREADY_SUBSCRIBED,
    APP_KEY_IN_USE,
    MAX_SUBSCRIBE_OVER,
    NOT_SUBSCRIBED,
    PRICE_TR_ID,
    SUBSCRIBED,
    UNSUBSCRIBED,
    Control,
    DataFrame,
    FillNotice,
    FrameError,
    PriceTick,
    fill_notices,
    parse_message,
    price_ticks,
    subscribe_message,
)
from shared.kis.stream_plan import MAX_REGISTRATIONS

__all__ = [
    "MAX_REGISTRATIONS",
    "FillNotice",
    "KisStream",
    "PriceTick",
    "StreamTimings",
    "stream_from_settings",
]

log = logging.getLogger(__name__)
wire_log = logging.getLogger(f"{__name__}.websockets")
"""The websockets library's logger for our sockets: never below INFO (its DEBUG lines dump every
frame, the approval key in each request), and the approval key redacted from what it does log."""
wire_log.setLevel(logging.INFO)
T = TypeVar("T")

EXPECTED_ERRORS = (OSError, TimeoutError, WebSocketException, FrameError, KisError)
"""Failures that end a session with a one-line warning (anything else logs its traceback)."""
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
"""Largest frame accepted (small buffers have ended sessions with ``1009 message too big``)."""


@dataclass(frozen=True)
class StreamTimings:
    """The stream's waits, in seconds."""

    backoff_first: float = 0.5
    """Wait before the first reconnect; doubles per failed try."""
    backoff_cap: float = 30.0
    """Longest wait between reconnects."""
    send_interval: float = 0.02
    """Pause between two (un)subscribe messages (KIS's samples pace them)."""
    connect_timeout: float = 10.0
    approval_key_ttl: float = 12 * 3600.0
    """Reuse one approval key this long (KIS's own helper renews it after a day)."""
    check_interval: float = 0.25
    """How often the silence watchdog looks."""
    answer_timeout: float = 5.0
    """A (un)subscribe request unanswered this long ends the session (it is asked again on the
    next one)."""


@dataclass
class _Session:
    """What one connection holds; thrown away when it ends."""

    ws: ClientConnection
    approval_key: str
    held: set[str] = field(default_factory=set)
    """Codes registered or asked for (counted against the limit from the moment we ask)."""
    confirmed: set[str] = field(default_factory=set)
    refused: set[str] = field(default_factory=set)
    fill_confirmed: bool = False
    keys: dict[str, tuple[str, str]] = field(default_factory=dict)
    """tr_id -> (key, iv) from the subscribe answers."""
    asked: dict[tuple[str, str], float] = field(default_factory=dict)
    """(tr_id, tr_key) -> monotonic time of a request still unanswered."""
    last_message_monotonic: float = field(default_factory=time.monotonic)


class KisStream:
    """Streams prices of the wanted codes and the account's fill notices; see the module doc."""

    def __init__(
        self,
        url: str,
        approval_key: Callable[[], str],
        *,
        hts_id: str | None,
        fill_tr_id: str,
        on_tick: Callable[[PriceTick], None],
        on_fill: Callable[[FillNotice], None],
        silence_seconds: float = 30.0,
        timings: StreamTimings | None = None,
        max_registrations: int = MAX_REGISTRATIONS,
        name: str = "kis-stream",
    ) -> None:
        self.url = url
        self._approval_key_source = approval_key
        self.hts_id = hts_id or None
        self.fill_tr_id = fill_tr_id
        self._on_tick = on_tick
        self._on_fill = on_fill
        self.silence_seconds = silence_seconds
        self.timings = timings or StreamTimings()
        self.room = stream_plan.capacity(self.hts_id is not None, max_registrations)
        self._name = name
        self._lock = threading.Lock()
        self._wanted: list[str] = []
        self._session: _Session | None = None
        self._approval: tuple[str, float] | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = threading.Event()
        self._wake: asyncio.Event | None = None
        self.connects = 0
        """Sessions opened so far (the first one included)."""

    # Public, any thread ------------------------------------------------------------------------
    def start(self) -> None:
        """Run the stream on a daemon thread; returns at once and never raises into the caller."""
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._thread_main, name=self._name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Close the session and end the thread (waits up to ``timeout`` seconds)."""
        self._stopping.set()
        self._poke()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def want(self, codes: Sequence[str]) -> None:
        """Codes in priority order: the first that fit are registered, dropped ones released."""
        with self._lock:
            self._wanted = list(codes)
        self._poke()

    @property
    def healthy(self) -> bool:
        """Connected, the fill notice registered (when an HTS ID is set), and a message (data
        or PINGPONG) within ``silence_seconds``."""
        with self._lock:
            session = self._session
            if session is None:
                return False
            if self.hts_id is not None and not session.fill_confirmed:
                return False
            return time.monotonic() - session.last_message_monotonic < self.silence_seconds

    @property
    def streamed(self) -> frozenset[str]:
        """Codes whose price registration KIS confirmed in the current session."""
        with self._lock:
            return frozenset(self._session.confirmed) if self._session else frozenset()

    # The thread --------------------------------------------------------------------------------
    def _thread_main(self) -> None:
        try:
            asyncio.run(self._run())
        except Exception:
            log.exception("the stream thread stopped on an unexpected error")

    def _poke(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed
                loop.call_soon_threadsafe(wake.set)

    async def _run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        failures = 0
        while not self._stopping.is_set():
            opened = False
            try:
                opened = await self._connect_once()
            except EXPECTED_ERRORS as e:
                log.warning("stream connect to %s failed: %s", self.url, _describe(e))
            except Exception:
                log.exception("stream session to %s failed", self.url)
            finally:
                with self._lock:
                    self._session = None
            if self._stopping.is_set():
                break
            failures = 0 if opened else failures + 1
            delay = reconnect_delay(failures, self.timings)
            log.info("stream reconnects in %.2fs", delay)
            await self._sleep_unless_stopped(delay)

    async def _sleep_unless_stopped(self, seconds: float) -> None:
        assert self._wake is not None
        deadline = time.monotonic() + seconds
        while not self._stopping.is_set() and time.monotonic() < deadline:
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), deadline - time.monotonic())

    async def _connect_once(self) -> bool:
        """One session; True when it got as far as a confirmed registration (the backoff then
        starts afresh). Raises only when the approval key or the connection cannot be had."""
        assert self._loop is not None
        key = await self._loop.run_in_executor(None, self._approval_key)
        async with connect(
            self.url,
            ping_interval=None,
            open_timeout=self.timings.connect_timeout,
            close_timeout=1.0,
            max_size=MAX_MESSAGE_BYTES,
            logger=wire_log,
        ) as ws:
            session = _Session(ws, key)
            with self._lock:
                self._session = session
            self.connects += 1
            log.info("stream connected to %s (session %d)", self.url, self.connects)
            tasks = [
                asyncio.create_task(self._reader(session)),
                asyncio.create_task(self._registrar(session)),
                asyncio.create_task(self._watchdog(session)),
            ]
            try:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            confirmed = session.fill_confirmed or bool(session.confirmed)
            if not confirmed:
                self._approval = None  # maybe the key was refused: ask for a new one next time
            for task in done:
                error = task.exception()
                if isinstance(error, EXPECTED_ERRORS):
                    log.warning("stream session to %s ended: %s", self.url, _describe(error))
                elif error is not None:
                    log.error("stream session to %s failed", self.url, exc_info=error)
            return confirmed

    def _approval_key(self) -> str:
        cached = self._approval
        if cached is not None and time.monotonic() - cached[1] < self.timings.approval_key_ttl:
            return cached[0]
        key = self._approval_key_source()
        self._approval = (key, time.monotonic())
        for old in [f for f in wire_log.filters if isinstance(f, RedactingFilter)]:
            wire_log.removeFilter(old)
        wire_log.addFilter(RedactingFilter([key]))
        return key

    # Session tasks -----------------------------------------------------------------------------
    async def _registrar(self, session: _Session) -> None:
        """Keep the registrations in line with :meth:`want` until the session ends."""
        assert self._wake is not None
        if self.hts_id is not None:
            await self._send(session, self.fill_tr_id, self.hts_id, register=True)
        while not self._stopping.is_set():
            self._wake.clear()
            with self._lock:
                wanted = list(self._wanted)
            target = stream_plan.chosen(wanted, self.room, session.refused)
            plan = stream_plan.changes(target, session.held)
            for code in plan.release:
                session.held.discard(code)
                await self._send(session, PRICE_TR_ID, code, register=False)
            for code in plan.register:
                if len(session.held) >= self.room:
                    break
                session.held.add(code)
                await self._send(session, PRICE_TR_ID, code, register=True)
            await self._wake.wait()
        await session.ws.close()

    async def _send(self, session: _Session, tr_id: str, tr_key: str, *, register: bool) -> None:
        session.asked[(tr_id, tr_key)] = time.monotonic()
        await session.ws.send(
            subscribe_message(session.approval_key, tr_id, tr_key, register=register)
        )
        if self.timings.send_interval:
            await asyncio.sleep(self.timings.send_interval)

    async def _watchdog(self, session: _Session) -> None:
        """Return (ending the session) once nothing arrived for ``silence_seconds``, or a request
        went unanswered for ``answer_timeout``."""
        while True:
            await asyncio.sleep(self.timings.check_interval)
            now = time.monotonic()
            silent = now - session.last_message_monotonic
            if silent >= self.silence_seconds:
                log.warning("stream silent for %.1fs: dropping the session", silent)
                return
            oldest = min(session.asked.values(), default=now)
            if now - oldest >= self.timings.answer_timeout:
                log.warning(
                    "stream: a registration unanswered for %.1fs: dropping the session",
                    now - oldest,
                )
                return

    async def _reader(self, session: _Session) -> None:
        async for raw in session.ws:
            session.last_message_monotonic = time.monotonic()
            text = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
            try:
                message = parse_message(text)
            except FrameError as e:
                log.warning("stream: unreadable message skipped: %s", e)
                continue
            if isinstance(message, DataFrame):
                self._data(session, message)
            elif message.is_pingpong:
                await session.ws.send(text)
            elif not self._control(session, message):
                return

    # Message handling (on the stream thread) ---------------------------------------------------
    def _control(self, session: _Session, c: Control) -> bool:
        """Apply a (un)subscribe answer; False when the session must end."""
        if c.msg_cd == APP_KEY_IN_USE:
            log.error("stream refused: %s %s (another session holds the app key)", c.msg_cd, c.msg1)
            return False
        is_price = c.tr_id == PRICE_TR_ID
        session.asked.pop((c.tr_id, c.tr_key), None)
        with self._lock:
            if c.msg_cd == ALREADY_SUBSCRIBED or (c.ok and c.msg_cd == SUBSCRIBED):
                if c.key and c.iv:
                    session.keys[c.tr_id] = (c.key, c.iv)
                if is_price and c.tr_key in session.held:
                    session.confirmed.add(c.tr_key)
                elif c.tr_id == self.fill_tr_id:
                    session.fill_confirmed = True
            elif (c.ok and c.msg_cd == UNSUBSCRIBED) or c.msg_cd == NOT_SUBSCRIBED:
                if is_price:
                    session.confirmed.discard(c.tr_key)
            elif not c.ok:
                if is_price:
                    session.held.discard(c.tr_key)
                    session.confirmed.discard(c.tr_key)
                    session.refused.add(c.tr_key)
                level = logging.WARNING if c.msg_cd == MAX_SUBSCRIBE_OVER else logging.ERROR
                shown = _key_shown(c)
                log.log(level, "stream: %s %s refused: %s %s", c.tr_id, shown, c.msg_cd, c.msg1)
        return True

    def _data(self, session: _Session, frame: DataFrame) -> None:
        received = time.time()
        try:
            if frame.tr_id == PRICE_TR_ID:
                for tick in price_ticks(frame, received):
                    _call(self._on_tick, tick, "on_tick")
                return
            if frame.tr_id == self.fill_tr_id:
                payload = frame.payload
                if frame.encrypted:
                    key_iv = session.keys.get(frame.tr_id)
                    if key_iv is None:
                        log.error("stream: encrypted %s before its key arrived", frame.tr_id)
                        return
                    payload = decrypt_payload(payload, *key_iv)
                for notice in fill_notices(payload, frame.count, received):
                    _call(self._on_fill, notice, "on_fill")
                return
            log.debug("stream: frame of unexpected tr_id %s skipped", frame.tr_id)
        except (FrameError, DecryptError) as e:
            log.warning("stream: %s frame skipped: %s", frame.tr_id, e)


def stream_from_settings(
    settings: Settings,
    approval_key: Callable[[], str],
    *,
    on_tick: Callable[[PriceTick], None],
    on_fill: Callable[[FillNotice], None],
) -> KisStream:
    """The stream the settings describe: ``KIS_WS_URL`` (or the mode's host), the fill notice
    keyed by ``KIS_HTS_ID`` with the rules' tr_id, ``STREAM_SILENCE_SECONDS``. Pass
    ``KisClient.approval_key`` as ``approval_key``. A dry run's stream is the KIS host's and
    carries prices only: the account's fill notices there would be real trades, not the local
    ledger's (docs/ARCHITECTURE.md, 'Dry run')."""
    return KisStream(
        settings.ws_url,
        approval_key,
        hts_id=None if settings.dry_run else settings.kis_hts_id,
        fill_tr_id=settings.fill_tr_id,
        on_tick=on_tick,
        on_fill=on_fill,
        silence_seconds=settings.stream_silence_seconds,
    )


def reconnect_delay(
    failures: int, timings: StreamTimings, uniform: Uniform = random.uniform
) -> float:
    """Seconds before the next connect: ``backoff_first`` doubling per failed try up to
    ``backoff_cap``, with up to 25 % jitter either way so many clients do not come back
    together; ``backoff_first`` after a session that worked (``failures`` 0)."""
    return backoff_delay(
        failures, timings.backoff_first, timings.backoff_cap, jitter=0.25, uniform=uniform
    )


def _call(callback: Callable[[T], None], value: T, name: str) -> None:
    try:
        callback(value)
    except Exception:
        log.exception("stream: %s callback failed (the stream goes on)", name)


def _key_shown(c: Control) -> str:
    # A price key is a stock code; the fill notice's key is the HTS ID: not shown.
    return c.tr_key if c.tr_id == PRICE_TR_ID else "(HTS ID)"


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
