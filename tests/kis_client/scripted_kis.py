"""A tiny HTTP server that answers like KIS with whatever a test scripts: exact envelopes,
statuses, unreadable bodies, dropped connections and slow answers.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOLD_LIMIT_SECONDS = 30.0
"""The longest a held reply waits for its event."""
TOKEN_BODY = {
    "access_token": "scripted-token-1",
    "token_type": "Bearer",
    "expires_in": 86400,
    "access_token_token_expired": "2099-12-31 23:59:59",
}


@dataclass
class Reply:
    """One scripted answer."""

    status: int = 200
    body: Any = None
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    delay: float = 0.0
    hold: threading.Event | None = None
    """Answer only once this event is set (at most HOLD_LIMIT_SECONDS): a test orders what
    happens meanwhile."""


@dataclass
class Seen:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class ScriptedKis:
    """Serve scripted replies per path prefix, in order; tokens are always issued."""

    def __init__(self) -> None:
        self.replies: dict[str, deque[Reply]] = {}
        self.seen: list[Seen] = []
        self.tokens_issued = 0
        self._lock = threading.Lock()
        handler = self._handler()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def script(self, path: str, *replies: Reply) -> None:
        with self._lock:
            self.replies.setdefault(path, deque()).extend(replies)

    def requests_to(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path.startswith(path)]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _next(self, path: str) -> Reply:
        with self._lock:
            for prefix, queue in self.replies.items():
                if path.startswith(prefix) and queue:
                    return queue.popleft() if len(queue) > 1 else queue[0]
        return Reply(200, {"rt_cd": "0", "msg_cd": "MCA00000", "msg1": "ok", "output": {}})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path
                owner.seen.append(Seen(self.command, path, dict(self.headers.items()), body))
                if path.startswith("/oauth2/tokenP"):
                    owner.tokens_issued += 1
                    token = dict(TOKEN_BODY, access_token=f"scripted-token-{owner.tokens_issued}")
                    reply = owner._next(path) if path in owner.replies else Reply(200, token)
                else:
                    reply = owner._next(path)
                if reply.hold is not None:
                    reply.hold.wait(HOLD_LIMIT_SECONDS)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.drop:
                    self.close_connection = True
                    self.connection.close()
                    return
                payload = reply.raw if reply.raw is not None else json.dumps(reply.body).encode()
                self.send_response(reply.status)
                self.send_header("content-type", "application/json; charset=utf-8")
                self.send_header("content-length", str(len(payload)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = _serve
            do_POST = _serve

        return Handler


def kis_error(msg_cd: str, msg1: str = "scripted error", status: int = 200) -> Reply:
    """A KIS business/gateway error envelope."""
    return Reply(status, {"rt_cd": "1", "msg_cd": msg_cd, "msg1": msg1})


def kis_ok(output: Any, **headers: str) -> Reply:
    """A KIS success envelope."""
    body = {"rt_cd": "0", "msg_cd": "MCA00000", "msg1": "정상처리 되었습니다.", "output": output}
    return Reply(200, body, headers=headers)
