"""A TCP relay in front of the server whose connections a test can cut, like a network drop.

The browser loads the page through the relay, so its WebSocket goes through it too; `drop()` closes
every relayed connection at once (both ends see a reset, as when Wi-Fi goes away).
"""

from __future__ import annotations

import contextlib
import socket
import threading

BUFFER_BYTES = 1 << 16


class TcpRelay:
    """Forward 127.0.0.1:`port` to 127.0.0.1:`target_port` until `close()`."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.dropped = 0
        threading.Thread(target=self._accept, name="relay-accept", daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=10)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self.lock:
                self.sockets |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), name="relay-pump", daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(BUFFER_BYTES):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            self._close(source, sink)

    def _close(self, *sockets: socket.socket) -> None:
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
            with self.lock:
                self.sockets.discard(sock)

    def drop(self) -> None:
        """Cut every connection now relayed (new ones are still accepted)."""
        with self.lock:
            current = list(self.sockets)
        self.dropped += len(current) // 2
        self._close(*current)

    def close(self) -> None:
        self.listener.close()
        self.drop()
