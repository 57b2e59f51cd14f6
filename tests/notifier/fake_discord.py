"""A local HTTP server that behaves like a Discord webhook: limits, rate limits and outages."""

from __future__ import annotations

import contextlib
import json
import math
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

WEBHOOK_ID = "1234567890123"
WEBHOOK_TOKEN = "TOKEN-abcdefghijklmnopqrstuvwxyz0123456789"
UNKNOWN_WEBHOOK = {"message": "Unknown Webhook", "code": 10015}
RATE_LIMITED = {"message": "You are being rate limited.", "global": False}


def validate(payload: Any) -> list[str]:
    """Discord's checks of a webhook message body; an empty list when Discord would take it."""
    if not isinstance(payload, Mapping):
        return ["body: not an object"]
    errors = []
    content = payload.get("content") or ""
    embeds = payload.get("embeds") or []
    if len(content) > 2000:
        errors.append("content: Must be 2000 or fewer in length.")
    if not content and not embeds:
        errors.append("Cannot send an empty message")
    if len(embeds) > 10:
        errors.append("embeds: Must be 10 or fewer in length.")
    total = 0
    for i, embed in enumerate(embeds):
        where = f"embeds.{i}"
        for key, limit in (("title", 256), ("description", 4096)):
            if len(embed.get(key) or "") > limit:
                errors.append(f"{where}.{key}: Must be {limit} or fewer in length.")
        footer = (embed.get("footer") or {}).get("text") or ""
        author = (embed.get("author") or {}).get("name") or ""
        if len(footer) > 2048:
            errors.append(f"{where}.footer.text: Must be 2048 or fewer in length.")
        if len(author) > 256:
            errors.append(f"{where}.author.name: Must be 256 or fewer in length.")
        fields = embed.get("fields") or []
        if len(fields) > 25:
            errors.append(f"{where}.fields: Must be 25 or fewer in length.")
        for j, field in enumerate(fields):
            for key, limit in (("name", 256), ("value", 1024)):
                value = field.get(key) or ""
                if not value or len(value) > limit:
                    errors.append(f"{where}.fields.{j}.{key}: Must be between 1 and {limit}.")
        total += len(embed.get("title") or "") + len(embed.get("description") or "")
        total += sum(len(f.get("name") or "") + len(f.get("value") or "") for f in fields)
        total += len(footer) + len(author)
    if total > 6000:
        errors.append("embeds: Embed size exceeds maximum size of 6000")
    return errors


class FakeDiscord:
    """Records accepted messages in order, and misbehaves as asked.

    - ``outage``: ``"503"`` (refused, try again) or ``"drop"`` (read, not posted, no answer);
    - :meth:`go_down` / :meth:`come_back`: nothing listens on the port (connection refused);
    - ``answer_delay``: seconds between posting a message and answering (a slow Discord);
    - ``lose_answers``: how many of the next accepted messages get no answer at all (posted,
      then the connection is closed: the answer is lost on the way back);
    - ``deleted``: the webhook was deleted in Discord: every request answers 404 ``Unknown
      Webhook`` (code 10015), as Discord does, until it is set back.
    """

    def __init__(self, limit: int = 5, window: float = 1.0, rate_headers: bool = True) -> None:
        self.limit = limit
        self.window = window
        self.rate_headers = rate_headers
        self.outage: str | None = None
        self.answer_delay = 0.0
        self.lose_answers = 0
        self.deleted = False
        self.lost = 0
        self.accepted: list[dict[str, Any]] = []
        self.rejected: list[tuple[Any, list[str]]] = []
        self.bodies: list[bytes] = []
        self.limited = 0
        self.failed = 0
        self.looks = 0
        """GETs of the webhook (what a client asks to learn Discord is there, posting nothing)."""
        self._times: deque[float] = deque()
        self._lock = threading.Lock()
        self._server = self._listen(0)
        self.port = int(self._server.server_address[1])
        self._up = False

    def _listen(self, port: int) -> ThreadingHTTPServer:
        server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        server.daemon_threads = True
        return server

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/webhooks/{WEBHOOK_ID}/{WEBHOOK_TOKEN}"

    def start(self) -> FakeDiscord:
        thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        self._up = True
        return self

    def stop(self) -> None:
        if self._up:
            self._server.shutdown()
            self._server.server_close()
            self._up = False

    def go_down(self) -> None:
        """Stop listening: a connection is refused, so no request ever reaches us."""
        self.stop()

    def come_back(self) -> None:
        """Listen again on the same port."""
        self._server = self._listen(self.port)
        self.start()

    def texts(self) -> Iterator[str]:
        """Every string of every accepted message, in order."""
        for message in list(self.accepted):
            yield from _strings(message)

    # The server side ---------------------------------------------------------------------------
    def answer(self, path: str, body: bytes) -> tuple[int, dict[str, str], Any]:
        """Status, headers and JSON body (None: drop the connection) for one request."""
        with self._lock:
            self.bodies.append(body)
            if self.outage == "drop":
                self.failed += 1
                return 0, {}, None
            if self.outage:
                self.failed += 1
                return 503, {}, {"message": "upstream connect error", "code": 0}
            if self._unknown(path):
                return 404, {}, UNKNOWN_WEBHOOK
            now = time.monotonic()
            while self._times and self._times[0] <= now - self.window:
                self._times.popleft()
            reset_after = self._times[0] + self.window - now if self._times else self.window
            if len(self._times) >= self.limit:
                self.limited += 1
                wait = math.ceil(reset_after * 1000) / 1000
                headers = {"Retry-After": str(math.ceil(wait))} | self._headers(0, wait)
                return 429, headers, RATE_LIMITED | {"retry_after": wait}
            self._times.append(now)
            reset_after = self._times[0] + self.window - now
            headers = self._headers(self.limit - len(self._times), reset_after)
            try:
                payload = json.loads(body)
            except ValueError:
                return 400, headers, {"message": "The request body contains invalid JSON."}
            errors = validate(payload)
            if errors:
                self.rejected.append((payload, errors))
                return (
                    400,
                    headers,
                    {"code": 50035, "errors": errors, "message": "Invalid Form Body"},
                )
            self.accepted.append(payload)
            if self.lose_answers > 0:
                self.lose_answers -= 1
                self.lost += 1
                return 0, {}, None
            return 200, headers, {"id": str(len(self.accepted)), **payload}

    def _unknown(self, path: str) -> bool:
        """True when Discord would not know this webhook: another token, or it was deleted."""
        return self.deleted or urlsplit(path).path != f"/api/webhooks/{WEBHOOK_ID}/{WEBHOOK_TOKEN}"

    def _headers(self, remaining: int, reset_after: float) -> dict[str, str]:
        if not self.rate_headers:
            return {}
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset-After": f"{math.ceil(reset_after * 1000) / 1000:.3f}",
            "X-RateLimit-Bucket": "fake",
        }

    def look(self, path: str) -> tuple[int, Any]:
        """``GET /api/webhooks/<id>/<token>``: the webhook object (None: drop the connection)."""
        with self._lock:
            self.looks += 1
            if self.outage == "drop":
                return 0, None
            if self.outage:
                return 503, {"message": "upstream connect error", "code": 0}
            if self._unknown(path):
                return 404, UNKNOWN_WEBHOOK
            return 200, {"type": 1, "id": WEBHOOK_ID, "name": "fake", "token": WEBHOOK_TOKEN}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, answer = fake.look(self.path)
                if answer is None:
                    self.close_connection = True
                    return
                self._answer(status, {}, answer)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, headers, answer = fake.answer(self.path, body)
                if answer is None:
                    self.close_connection = True
                    return
                if status < 300 and fake.answer_delay:
                    time.sleep(fake.answer_delay)
                self._answer(status, headers, answer)

            def _answer(self, status: int, headers: dict[str, str], answer: Any) -> None:
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                # A client that stopped waiting (a slow answer) has gone: not our error.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
