"""The threaded werkzeug server: access log without query strings, quiet on dropped sockets."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from services.kis_sim.protocol import DROPPED_ENVIRON_KEY, RAW_HEADERS_ENVIRON_KEY

logger = logging.getLogger("kis_sim.access")


class RequestHandler(WSGIRequestHandler):
    """Keeps every header, and logs ``METHOD path status`` only (queries carry account numbers)."""

    def make_environ(self) -> dict[str, Any]:
        """The WSGI environ plus the raw headers.

        werkzeug leaves headers with an underscore out of the environ (against spoofing behind
        proxies), but KIS's own headers are ``tr_id`` and ``tr_cont``.
        """
        environ = super().make_environ()
        environ[RAW_HEADERS_ENVIRON_KEY] = list(self.headers.items())
        return environ

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """One access-log line per request."""
        path = self.path.split("?", 1)[0]
        environ = getattr(self, "environ", None) or {}
        if environ.get(DROPPED_ENVIRON_KEY):
            code = "dropped (drop_response fault: executed, no answer sent)"
        logger.info("%s %s %s", self.command, path, code)

    def log(self, type: str, message: str, *args: Any) -> None:
        """Route werkzeug's own messages to our logger."""
        getattr(logger, type if type in ("info", "warning", "error") else "info")(
            message.rstrip(), *args
        )


def build_server(host: str, port: int, app: Flask) -> BaseWSGIServer:
    """werkzeug's threaded server for ``app``."""
    return make_server(host, port, app, threaded=True, request_handler=RequestHandler)
