"""The waitress server of the status API, refusing a request body whose length is not declared.

See docs/ARCHITECTURE.md, 'Input limits'. waitress reads a chunked body to its end before the
app runs and then hands it over as if it had carried a ``Content-Length``, so the app cannot tell
the two apart; the refusal therefore happens here, in waitress's own request parser, before a
byte of the body is read. A body with a ``Content-Length`` over the app's limit is refused by
Flask (413); waitress's own ceiling is set a little above it, so a liar cannot make it buffer
more than that.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import BaseWSGIServer, MultiSocketServer, create_server
from waitress.utilities import Error

from services.api.errors import LENGTH_REQUIRED

WAITRESS_BODY_CEILING_BYTES = 2 * 1024 * 1024
"""Largest body waitress buffers at all, in bytes (the app refuses anything over its own limit)."""


class LengthRequired(Error):  # type: ignore[misc]
    """411: a body sent without ``Content-Length`` (chunked), answered as the app's JSON errors."""

    code = 411
    reason = "Length Required"

    def to_response(self, ident: str | None = None) -> tuple[str, list[tuple[str, str]], bytes]:
        body = json.dumps({"error": self.body}).encode()
        return f"{self.code} {self.reason}", [("Content-Type", "application/json")], body


class LengthRequiringParser(HTTPRequestParser):  # type: ignore[misc]
    """waitress's parser, finishing a chunked request at its headers with a 411."""

    def parse_header(self, header_plus: bytes) -> None:
        super().parse_header(header_plus)
        if self.chunked:
            self.error = LengthRequired(LENGTH_REQUIRED)
            self.completed = True


class LengthRequiringChannel(HTTPChannel):  # type: ignore[misc]
    """A connection whose requests are parsed by :class:`LengthRequiringParser`."""

    parser_class = LengthRequiringParser


def serve_app(app: Flask, **options: Any) -> BaseWSGIServer | MultiSocketServer:
    """``waitress.create_server`` for ``app``, with chunked bodies refused and bodies capped."""
    server = create_server(app, max_request_body_size=WAITRESS_BODY_CEILING_BYTES, **options)
    # A single listener is the server itself; several are dispatchers in its socket map.
    for dispatcher in [server, *getattr(server, "map", {}).values()]:
        if isinstance(dispatcher, BaseWSGIServer):
            dispatcher.channel_class = LengthRequiringChannel
    return server
