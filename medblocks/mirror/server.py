"""Serving the receiver from a background thread of another process (the dashboard, tests):
uvicorn on a free loopback port, stopped by `stop()`."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette

from medblocks.mirror.receiver import WEBHOOK_PATH

STARTUP_TIMEOUT = 30.0


@dataclass
class RunningReceiver:
    base_url: str
    app: Starlette
    server: uvicorn.Server = field(repr=False)
    thread: threading.Thread = field(repr=False)

    @property
    def webhook_url(self) -> str:
        return self.base_url + WEBHOOK_PATH

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def serve_in_thread(app: Starlette, host: str = "127.0.0.1") -> RunningReceiver:
    """Serve `app` on a free port of `host`; returns once it accepts connections."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # inherited by accepted connections: without it Nagle's algorithm and delayed ACKs hold
    # every small answer back by about 40 ms on loopback
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, 0))
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    )
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="medblocks-mirror-receiver", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("the mirror's webhook receiver did not start")
        time.sleep(0.01)
    return RunningReceiver(
        f"http://{host}:{sock.getsockname()[1]}", app=app, server=server, thread=thread
    )
