"""Flask routes: KIS paths go through the simulator's pipeline, ``/sim/`` paths to admin."""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from services.kis_sim import admin, codes
from services.kis_sim.protocol import (
    DROPPED_ENVIRON_KEY,
    RAW_HEADERS_ENVIRON_KEY,
    KisRequest,
    Reply,
    dumps,
)
from services.kis_sim.rules import SERVED_PATHS, TRADING_TRS
from services.kis_sim.simulator import APPROVAL_PATH, HASHKEY_PATH, TOKEN_PATH, Simulator

logger = logging.getLogger(__name__)

POST_PATHS = frozenset({TOKEN_PATH, APPROVAL_PATH, HASHKEY_PATH}) | frozenset(
    path for path, trs in TRADING_TRS.items() if any(tr.method == "POST" for tr in trs.values())
)
"""KIS paths called with POST; every other served path is a GET."""


def create_app(sim: Simulator) -> Flask:
    """The WSGI app serving ``sim``."""
    app = Flask("kis_sim")

    def kis() -> Response:
        arrival = time.monotonic()
        kis_request = KisRequest(
            method=request.method,
            path=request.path,
            headers=_headers(),
            query=request.args.to_dict(flat=True),
            body=request.get_data(cache=True),
            arrival_monotonic=arrival,
        )
        reply = sim.handle(kis_request)
        if reply.drop:
            _drop_connection()
        return _response(reply)

    for path in sorted(SERVED_PATHS | POST_PATHS):
        method = "POST" if path in POST_PATHS else "GET"
        app.add_url_rule(path, endpoint=f"kis:{path}", view_func=kis, methods=[method])

    def admin_route(
        rule: str, method: str, action: Callable[..., dict[str, object]], with_body: bool = False
    ) -> None:
        def view(**kwargs: Any) -> Response:
            try:
                if with_body:
                    result = action(sim, request.get_json(force=True, silent=True), **kwargs)
                else:
                    result = action(sim, **kwargs)
            except admin.AdminError as e:
                return _json(400, {"ok": False, "error": str(e)})
            return _json(200, result)

        app.add_url_rule(rule, endpoint=f"admin:{method}:{rule}", view_func=view, methods=[method])

    admin_route("/sim/health", "GET", admin.health)
    admin_route("/sim/stats", "GET", admin.stats)
    admin_route("/sim/orders", "GET", admin.orders)
    admin_route("/sim/prices", "POST", admin.set_prices, with_body=True)
    admin_route("/sim/bars", "POST", admin.replay_bars, with_body=True)
    admin_route("/sim/price/<code>", "GET", admin.price)
    admin_route("/sim/accounts", "POST", admin.put_account, with_body=True)
    admin_route("/sim/faults", "POST", admin.arm_fault, with_body=True)
    admin_route("/sim/faults", "DELETE", admin.clear_faults)
    admin_route("/sim/tokens/expire", "POST", admin.expire_tokens)
    admin_route("/sim/stream", "GET", admin.stream)
    admin_route("/sim/stream/faults", "POST", admin.stream_fault, with_body=True)
    admin_route("/sim/stream/faults", "DELETE", admin.clear_stream_fault)
    admin_route("/sim/reset", "POST", admin.reset)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        # Never an HTML error page: a KIS client must always find a JSON envelope.
        status = error.code or 500
        msg_cd = {404: codes.NOT_FOUND, 405: codes.METHOD_NOT_ALLOWED}.get(status, codes.INTERNAL)
        message = f"{error.name}: {request.method} {request.path}"
        return _json(status, {"rt_cd": "1", "msg_cd": msg_cd, "msg1": message})

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        logger.exception("unhandled error on %s %s", request.method, request.path)
        body = {"rt_cd": "1", "msg_cd": codes.INTERNAL, "msg1": f"simulator error: {error!r}"}
        return _json(500, body)

    return app


def _headers() -> dict[str, str]:
    raw = request.environ.get(RAW_HEADERS_ENVIRON_KEY)
    pairs = raw if isinstance(raw, list) else list(request.headers.items())
    return {str(name).lower(): str(value) for name, value in pairs}


def _response(reply: Reply) -> Response:
    response = Response(reply.body, status=reply.status, content_type=reply.content_type)
    for name, value in reply.headers.items():
        response.headers[name] = value
    return response


def _json(status: int, payload: object) -> Response:
    return _response(Reply(status, dumps(payload)))


def _drop_connection() -> None:
    # The request has been executed; now vanish like a network failure. The server then fails
    # to write the response with EPIPE, which werkzeug treats as a dropped client, quietly.
    sock = request.environ.get("werkzeug.socket")
    if not isinstance(sock, socket.socket):
        logger.warning("drop_response fault: no socket in the WSGI environ, answering instead")
        return
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
    request.environ[DROPPED_ENVIRON_KEY] = True
