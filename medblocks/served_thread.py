"""Serving an ASGI app with uvicorn from a background thread of this process: a free port of a
loopback host, returned once it accepts connections, stopped by `stop()`.

The sandbox (tests, dashboard, contract suite) and the mirror's webhook receiver (dashboard,
tests) are both served this way. It imports nothing of the project, so the sandbox (which
depends on `medblocks.spec` and the neutral modules alone) and the mirror (which never imports
the sandbox) share it.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from uvicorn.config import LifespanType

STARTUP_TIMEOUT = 30.0


def uvicorn_config(
    app: Any, host: str, port: int, lifespan: LifespanType = "auto"
) -> uvicorn.Config:
    """The quiet settings (warnings only, no access log) of the servers started here and of
    `python -m medblocks.sandbox`."""
    return uvicorn.Config(
        app, host=host, port=port, log_level="warning", access_log=False, lifespan=lifespan
    )


@dataclass
class ServedApp:
    """An app served by a background thread; `stop()` asks uvicorn to exit and waits for it."""

    base_url: str
    server: uvicorn.Server = field(repr=False)
    thread: threading.Thread = field(repr=False)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def serve_on_free_port(
    app: Any, host: str, *, thread_name: str, what: str, lifespan: LifespanType = "auto"
) -> ServedApp:
    """Serve `app` on a free port of `host` from a daemon thread; returns once it accepts
    connections. Raises RuntimeError("<what> did not start") if its thread dies first or it has
    not started within `STARTUP_TIMEOUT` seconds."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this: without it, Nagle's algorithm and delayed ACKs add
    # about 40 ms to every small loopback response.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn_config(app, host, port, lifespan))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=thread_name, daemon=True
    )
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.01)
    return ServedApp(f"http://{host}:{port}", server=server, thread=thread)
