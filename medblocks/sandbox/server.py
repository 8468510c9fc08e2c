"""Running the sandbox with uvicorn: in a background thread (tests, dashboard, contract suite)
or in the foreground (`python -m medblocks.sandbox`)."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType

import uvicorn
from starlette.applications import Starlette

from medblocks.sandbox.app import create_app
from medblocks.sandbox.config import SandboxConfig

STARTUP_TIMEOUT = 30.0


def uvicorn_config(app: Starlette, host: str, port: int) -> uvicorn.Config:
    """The server settings shared by the thread helper and the command line."""
    return uvicorn.Config(
        app, host=host, port=port, log_level="warning", access_log=False, lifespan="auto"
    )


@dataclass
class RunningSandbox:
    """A sandbox served on loopback by a background thread; `stop()` shuts it down."""

    base_url: str
    api_key: str
    app: Starlette
    server: uvicorn.Server = field(repr=False)
    thread: threading.Thread = field(repr=False)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.app.state.sandbox.store.close()

    def __enter__(self) -> RunningSandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_in_thread(config: SandboxConfig | None = None, host: str = "127.0.0.1") -> RunningSandbox:
    """Serve a new sandbox on a free port of `host` and return once it accepts connections."""
    app = create_app(config)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this: without it, Nagle's algorithm and delayed ACKs add
    # about 40 ms to every small loopback response.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn_config(app, host, port))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="medblocks-sandbox", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("the sandbox did not start")
        time.sleep(0.01)
    return RunningSandbox(
        base_url=f"http://{host}:{port}",
        api_key=app.state.sandbox.api_key,
        app=app,
        server=server,
        thread=thread,
    )
