"""Running the sandbox with uvicorn in a background thread (tests, dashboard, contract suite);
`python -m medblocks.sandbox` serves it in the foreground with the same settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import TracebackType

from starlette.applications import Starlette

from medblocks.sandbox.app import create_app
from medblocks.sandbox.config import SandboxConfig
from medblocks.served_thread import ServedApp, serve_on_free_port


@dataclass
class RunningSandbox:
    """A sandbox served on loopback by a background thread; `stop()` shuts it down."""

    base_url: str
    api_key: str
    app: Starlette
    served: ServedApp = field(repr=False)

    def stop(self) -> None:
        self.served.stop()
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
    served = serve_on_free_port(app, host, thread_name="medblocks-sandbox", what="the sandbox")
    return RunningSandbox(
        base_url=served.base_url, api_key=app.state.sandbox.api_key, app=app, served=served
    )
