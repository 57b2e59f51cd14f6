"""The simulator's WebSocket endpoint: KIS's realtime prices and fill notices on a port of its own.

See services/kis_sim/README.md, 'WebSocket'. One asyncio loop on its own thread serves every
socket. A session binds to the app key of the approval key in its first request; a second
session of that app key is refused (``OPSP8996``), and so is a registration past 41
(``OPSP0008``). Prices come from the same :class:`Market` as the REST quotes: every
``tick_seconds`` each registered code's price moves (and, with ``trades_per_minute``, its
simulated trades) since the last look are sent, several in one multi-record frame when they
queued up. Fill notices come from the ledger's listener, at once.
PINGPONG goes out every ``ping_seconds``; a session that leaves three unanswered is closed. An
answer is the PINGPONG echoed as text or, as KIS's official client does (``ws.pong(raw)``), a
pong control frame carrying it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from services.kis_sim import stream_frames as frames
from services.kis_sim.paths import CODE_PATTERN
from services.kis_sim.simulator import Simulator
from shared.broker.orders import Fill, Order
from shared.infra.clock import KST
from shared.trading.market_calendar import KrxCalendar

logger = logging.getLogger("kis_sim.stream")
wire_logger = logging.getLogger("kis_sim.stream.websockets")
"""websockets' logger for the sockets: never below INFO, where it would dump every frame (the
approval keys in the requests, the AES keys in the answers)."""
wire_logger.setLevel(logging.INFO)

MAX_REGISTRATIONS = 41
"""Registrations one session may hold, all tr_ids together (KIS portal notice, 2026-04-20)."""
MAX_MISSED_PONGS = 3
"""Unanswered PINGPONGs after which the session is closed (KIS ends such sessions too)."""
MAX_RECORDS_PER_FRAME = 30
"""Most records of one code in one frame (a fast simulated clock can queue many)."""
START_TIMEOUT_SECONDS = 10.0


class _PongAwareConnection(ServerConnection):
    """A server connection that reports unsolicited pong control frames too: KIS's official
    client answers PINGPONG with ``ws.pong(raw)`` (koreainvestment/open-trading-api,
    ``examples_user/kis_auth.py``), which websockets would otherwise ignore silently."""

    pong_listener: Callable[[bytes], None] | None = None

    def acknowledge_pings(self, data: bytes) -> None:
        listener = self.pong_listener
        if listener is not None:
            listener(data)
        super().acknowledge_pings(data)


@dataclass(eq=False)
class _Conn:
    """One client socket."""

    ws: ServerConnection
    key_iv: tuple[str, str]
    drops_seen: int
    app_key: str | None = None
    prices: set[str] = field(default_factory=set)
    fills: dict[str, str] = field(default_factory=dict)
    """fill tr_id -> the HTS ID it was registered with."""
    missed_pongs: int = 0

    @property
    def registrations(self) -> int:
        return len(self.prices) + len(self.fills)


class StreamServer:
    """Serves ``sim`` over WebSocket on ``host:port`` from a daemon thread."""

    def __init__(
        self,
        sim: Simulator,
        host: str,
        port: int,
        *,
        ping_seconds: float = 10.0,
        tick_seconds: float = 0.05,
        trades_per_minute: float = 0.0,
    ) -> None:
        self.sim = sim
        self.host = host
        self.port = port
        self.ping_seconds = ping_seconds
        self.tick_seconds = tick_seconds
        self.trades_per_minute = trades_per_minute
        """Simulated trades a code a clock minute, each one record (0: records on price
        changes only)."""
        self._conns: list[_Conn] = []
        self._last: dict[str, tuple[datetime, int]] = {}
        """code -> (moment looked at, price then)."""
        self._notices: list[tuple[Order, Fill | None, datetime]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None

    # Lifecycle (any thread) --------------------------------------------------------------------
    def start(self) -> None:
        """Listen; returns once bound, OSError when the port cannot be had."""
        self.sim.hub.listeners.append(self._on_ledger)
        self.sim.hub.wakers.append(self._look_now)
        self._thread = threading.Thread(target=self._thread_main, name="kis-sim-ws", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_SECONDS):
            raise OSError(f"the WebSocket server did not start within {START_TIMEOUT_SECONDS}s")
        if self._error is not None:
            raise OSError(str(self._error))

    def stop(self) -> None:
        """Close every socket and end the thread."""
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
        if self._thread is not None:
            self._thread.join(5)

    def _thread_main(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as e:
            self._error = e
            logger.exception("the WebSocket server stopped")
        finally:
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        async with serve(
            self._serve,
            self.host,
            self.port,
            ping_interval=None,
            max_size=1024 * 1024,
            logger=wire_logger,
            create_connection=_PongAwareConnection,
        ):
            self._ready.set()
            pump = asyncio.create_task(self._pump())
            await self._stop.wait()
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump

    def _on_ledger(self, order: Order, fill: Fill | None) -> None:
        """The ledger's listener (any thread, under the simulator's lock): queue a notice."""
        loop, wake = self._loop, self._wake
        if loop is None or wake is None:
            return
        moment = self.sim.now()
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._queue_notice, order, fill, moment)

    def _look_now(self) -> None:
        """Any thread: look at the prices now rather than at the next tick."""
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(wake.set)

    def _queue_notice(self, order: Order, fill: Fill | None, moment: datetime) -> None:
        self._notices.append((order, fill, moment))
        assert self._wake is not None
        self._wake.set()

    # One socket --------------------------------------------------------------------------------
    async def _serve(self, ws: ServerConnection) -> None:
        hub = self.sim.hub
        conn = _Conn(ws, frames.new_key_iv(), hub.switches.drops)
        self._conns.append(conn)
        hub.sessions += 1
        hub.stats["sessions_opened"] += 1
        if isinstance(ws, _PongAwareConnection):
            ws.pong_listener = lambda data: self._on_pong_frame(conn, data)
        pinger = asyncio.create_task(self._pinger(conn))
        try:
            async for raw in ws:
                if hub.switches.silent():
                    continue
                text = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
                if _is_pingpong(text):
                    conn.missed_pongs = 0
                    hub.stats["pongs_received"] += 1
                    continue
                await self._request(conn, text)
        except ConnectionClosed:
            pass
        finally:
            pinger.cancel()
            self._conns.remove(conn)
            hub.sessions -= 1
            hub.registrations -= conn.registrations
            self._forget_unwatched()

    def _on_pong_frame(self, conn: _Conn, data: bytes) -> None:
        """A pong control frame (the loop's thread): a PINGPONG answer when it carries one."""
        hub = self.sim.hub
        if hub.switches.silent() or not _is_pingpong(data.decode("utf-8", "replace")):
            return
        conn.missed_pongs = 0
        hub.stats["pongs_received"] += 1
        hub.stats["pong_frames_received"] += 1

    async def _pinger(self, conn: _Conn) -> None:
        hub = self.sim.hub
        while True:
            await asyncio.sleep(self.ping_seconds)
            if hub.switches.silent():
                continue
            if conn.missed_pongs >= MAX_MISSED_PONGS:
                hub.stats["pingpong_timeouts"] += 1
                await conn.ws.close()
                return
            conn.missed_pongs += 1
            await _send(conn, frames.pingpong(self.sim.now()))

    async def _request(self, conn: _Conn, text: str) -> None:
        """Answer one (un)subscribe request."""
        try:
            data = json.loads(text)
            header, request = data["header"], data["body"]["input"]
            approval, tr_type = str(header["approval_key"]), str(header["tr_type"])
            tr_id, tr_key = str(request["tr_id"]), str(request["tr_key"])
        except (ValueError, KeyError, TypeError):
            await _send(conn, frames.answer("", "", frames.BAD_REQUEST, ok=False))
            return
        hub = self.sim.hub
        app_key = hub.approval_keys.get(approval)
        if app_key is None:
            await _send(conn, frames.answer(tr_id, tr_key, frames.APPROVAL_UNKNOWN, ok=False))
            return
        if conn.app_key != app_key:
            if conn.app_key is not None or any(c.app_key == app_key for c in self._conns):
                hub.stats["sessions_refused"] += 1
                refusal = frames.answer(tr_id, tr_key, frames.APP_KEY_IN_USE, ok=False, rt_cd="9")
                await _send(conn, refusal)
                await conn.ws.close()
                return
            conn.app_key = app_key
        is_price = tr_id == frames.PRICE_TR_ID
        if not is_price and tr_id not in frames.FILL_TR_IDS:
            await _send(conn, frames.answer(tr_id, tr_key, frames.TR_ID_UNKNOWN, ok=False))
            return
        if (is_price and not CODE_PATTERN.match(tr_key)) or not tr_key or tr_type not in ("1", "2"):
            await _send(conn, frames.answer(tr_id, tr_key, frames.BAD_REQUEST, ok=False))
            return
        held = tr_key in conn.prices if is_price else tr_id in conn.fills
        await _send(conn, self._registration(conn, tr_id, tr_key, is_price, held, tr_type == "1"))

    def _registration(
        self, conn: _Conn, tr_id: str, tr_key: str, is_price: bool, held: bool, register: bool
    ) -> str:
        hub = self.sim.hub
        if not register:
            if not held:
                return frames.answer(tr_id, tr_key, frames.NOT_SUBSCRIBED, ok=False)
            if is_price:
                conn.prices.discard(tr_key)
                self._forget_unwatched()
            else:
                del conn.fills[tr_id]
            hub.registrations -= 1
            return frames.answer(tr_id, tr_key, frames.UNSUBSCRIBED, ok=True)
        if held:
            return frames.answer(tr_id, tr_key, frames.ALREADY_SUBSCRIBED, ok=False)
        if conn.registrations >= MAX_REGISTRATIONS:
            hub.stats["registrations_refused"] += 1
            return frames.answer(tr_id, tr_key, frames.MAX_SUBSCRIBE_OVER, ok=False)
        if is_price:
            conn.prices.add(tr_key)
            if tr_key not in self._last:
                with self.sim.lock:
                    now = self.sim.now()
                    self._last[tr_key] = (now, self.sim.market.price(tr_key, now))
        else:
            conn.fills[tr_id] = tr_key
            hub.stats["fill_registrations"] += 1
        hub.registrations += 1
        return frames.answer(
            tr_id,
            tr_key,
            frames.SUBSCRIBED,
            ok=True,
            encrypt_flag=not is_price,
            key_iv=conn.key_iv,
        )

    def _forget_unwatched(self) -> None:
        watched = {code for conn in self._conns for code in conn.prices}
        for code in [c for c in self._last if c not in watched]:
            del self._last[code]

    # The pump: prices, notices, drop switch ----------------------------------------------------
    async def _pump(self) -> None:
        assert self._wake is not None
        while True:
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.tick_seconds)
            try:
                await self._pump_once()
            except Exception:
                logger.exception("the stream pump failed once (it goes on)")

    async def _pump_once(self) -> None:
        hub = self.sim.hub
        for conn in [c for c in self._conns if c.drops_seen < hub.switches.drops]:
            conn.drops_seen = hub.switches.drops
            hub.stats["sockets_dropped"] += 1
            conn.ws.transport.abort()  # no close frame: a dead network, not a goodbye
        listening = any(conn.fills for conn in self._conns)
        if not self._last and not listening:
            self._notices.clear()
            return
        with self.sim.lock:
            # Resting orders whose price came fill now, so their notices go out now.
            if listening:
                self.sim.catch_up()
            ticks = self._price_moves(self.sim.now())
        notices, self._notices = self._notices, []
        if hub.switches.silent():
            return
        for conn in list(self._conns):
            for code in conn.prices & ticks.keys():
                hub.stats["price_frames"] += 1
                await _send(conn, frames.data_frame(frames.PRICE_TR_ID, ticks[code]))
            for tr_id, hts_id in list(conn.fills.items()):
                for order, fill, moment in notices:
                    record = frames.fill_record(order, fill, hts_id, moment)
                    hub.stats["fill_notices"] += 1
                    frame = frames.data_frame(tr_id, [record], encrypted_with=conn.key_iv)
                    await _send(conn, frame)

    def _price_moves(self, now: datetime) -> dict[str, list[list[str]]]:
        """code -> the records of its price changes since the last look (under the lock)."""
        market = self.sim.market
        ticks: dict[str, list[list[str]]] = {}
        for code, (since, price) in list(self._last.items()):
            records: list[list[str]] = []
            if self.trades_per_minute > 0:
                # One record a trade, as KIS sends: a price change shows with the next trade.
                for moment, shares in market.trades(code, since, now, self.trades_per_minute):
                    quote = market.quote(code, moment)
                    records.append(frames.price_record(quote, moment, shares))
                    price = quote.price
            else:
                moves = market.moves(code, since, now)
                # A path replaced through the admin moves the price without an event: look now.
                moves.append((now, market.price(code, now)))
                opening = opening_trade(market.calendar, since, now)
                for moment, moved in moves:
                    if moved != price or (opening is not None and moment >= opening):
                        records.append(frames.price_record(market.quote(code, moment), moment))
                        price = moved
                        opening = None
            self._last[code] = (max(since, now), price)
            if records:
                ticks[code] = records[-MAX_RECORDS_PER_FRAME:]
        return ticks


def opening_trade(calendar: KrxCalendar, since: datetime, now: datetime) -> datetime | None:
    """The open in ``(since, now]``, if any: its first trade (the opening match) is sent even
    at an unchanged price, as KIS sends every trade, so a subscriber hears of the open at once."""
    session = calendar.session(now.astimezone(KST).date())
    if session is None or not since < session.opens <= now:
        return None
    return session.opens


async def _send(conn: _Conn, text: str) -> None:
    with contextlib.suppress(ConnectionClosed):
        await conn.ws.send(text)


def _is_pingpong(text: str) -> bool:
    if frames.PINGPONG not in text:
        return False
    try:
        data = json.loads(text)
    except ValueError:
        return False
    header = data.get("header") if isinstance(data, dict) else None
    return isinstance(header, dict) and header.get("tr_id") == frames.PINGPONG
