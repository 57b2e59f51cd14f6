"""A TCP forwarder a test can switch off: the peer it stands for becomes unreachable.

``down()`` stops listening and cuts every open connection, so a client finds its connection
refused, as with a host that went away; ``up()`` listens on the same port again.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class TcpSwitch:
    """Forwards 127.0.0.1:``port`` to ``target`` while up."""

    def __init__(self) -> None:
        self.target: tuple[str, int] | None = None
        self._server = self._listen(0)
        self.port = int(self._server.getsockname()[1])
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._serve()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def down(self) -> None:
        with self._lock:
            self._server.close()
            for s in self._open:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            self._open.clear()

    def up(self) -> None:
        self._server = self._listen(self.port)
        self._serve()

    def _listen(self, port: int) -> socket.socket:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", port))
        server.listen(64)
        return server

    def _serve(self) -> None:
        server = self._server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return  # closed by down()
            assert self.target is not None, "set the target before the first connection"
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(a, b), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)
