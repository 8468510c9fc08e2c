"""A loopback server that answers every connection with a response a byte at a time (the status
line and headers included), as a stalled or hostile server does: what a fetch's deadline is
measured against."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


@contextmanager
def trickling(every: float, response: bytes = RESPONSE) -> Iterator[str]:
    """Serve on a free loopback port, sending `response` one byte every `every` seconds to each
    connection until it ends or the client goes; yields the base URL."""
    stop = threading.Event()
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)

    def answer(conn: socket.socket) -> None:
        with conn, suppress(OSError):
            conn.recv(65536)  # the request (small, in one read on loopback)
            for index in range(len(response)):
                conn.sendall(response[index : index + 1])
                if stop.wait(every):
                    return

    def accept() -> None:
        while not stop.is_set():
            with suppress(TimeoutError):
                conn, _ = listener.accept()
                threading.Thread(target=answer, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=10)
        listener.close()
