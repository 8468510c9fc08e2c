"""Serving the receiver from a background thread of another process (the dashboard, tests):
uvicorn on a free loopback port, stopped by `stop()`."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.applications import Starlette

from medblocks.mirror.receiver import WEBHOOK_PATH
from medblocks.served_thread import ServedApp, serve_on_free_port


@dataclass
class RunningReceiver:
    base_url: str
    app: Starlette
    served: ServedApp = field(repr=False)

    @property
    def webhook_url(self) -> str:
        return self.base_url + WEBHOOK_PATH

    def stop(self) -> None:
        self.served.stop()


def serve_in_thread(app: Starlette, host: str = "127.0.0.1") -> RunningReceiver:
    """Serve `app` on a free port of `host`; returns once it accepts connections."""
    served = serve_on_free_port(
        app,
        host,
        thread_name="medblocks-mirror-receiver",
        what="the mirror's webhook receiver",
        lifespan="on",
    )
    return RunningReceiver(served.base_url, app=app, served=served)
