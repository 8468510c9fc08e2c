"""The in-process sandbox: the sandbox's ASGI app in this process, no socket, no port.

Not the dashboard's embedded sandbox (`medblocks.dashboard.target.embedded_sandbox`, served on
loopback by `medblocks.sandbox.start_in_thread` so that a browser and webhooks can reach it).
`start_in_process_sandbox()` is the one way the command line (`spec check` with nothing
configured) and the contract suite start one, and `in_process_client()` the one httpx client
into an app in-process: httpx's own `ASGITransport` is async, so `InProcessTransport` drives it
through an anyio blocking portal (a thread running the event loop) for callers that are not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from anyio.from_thread import start_blocking_portal

from medblocks.sandbox import SandboxConfig, create_app

IN_PROCESS_BASE_URL = "http://in-process.invalid"  # never resolved: requests go to the app
TIMEOUT = httpx.Timeout(20.0)  # per request; the contract suite uses it over the network too


@dataclass(frozen=True)
class InProcessSandbox:
    """A fresh in-process sandbox (in memory) and the API key it accepts."""

    app: Any = field(repr=False)
    api_key: str = field(repr=False)

    def client(self, *, headers: dict[str, str] | None = None) -> httpx.Client:
        """A synchronous httpx client whose requests reach this sandbox in-process."""
        return in_process_client(self.app, headers=headers)


def start_in_process_sandbox(*, seed_demo: bool = True) -> InProcessSandbox:
    """An in-process sandbox with an in-memory store (and its demo organisation unless
    `seed_demo` is False); its key is MEDBLOCKS_SANDBOX_API_KEY or one it mints."""
    app = create_app(SandboxConfig(db_path=None, seed_demo=seed_demo))
    return InProcessSandbox(app=app, api_key=app.state.sandbox.api_key)


def in_process_client(app: Any, *, headers: dict[str, str] | None = None) -> httpx.Client:
    """A synchronous httpx client whose requests reach the ASGI `app` in-process (at
    `IN_PROCESS_BASE_URL`); closing it stops its transport's thread."""
    return httpx.Client(
        base_url=IN_PROCESS_BASE_URL,
        headers=headers,
        timeout=TIMEOUT,
        transport=InProcessTransport(app),
    )


class InProcessTransport(httpx.BaseTransport):
    """A synchronous httpx transport into an ASGI app (httpx's `ASGITransport` behind an anyio
    blocking portal); closing it stops the portal's thread."""

    def __init__(self, app: Any) -> None:
        self._asgi = httpx.ASGITransport(app=app)
        self._portal_cm = start_blocking_portal()
        self._portal = self._portal_cm.__enter__()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def send() -> httpx.Response:
            response = await self._asgi.handle_async_request(request)
            content = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=content)

        return self._portal.call(send)

    def close(self) -> None:
        self._portal_cm.__exit__(None, None, None)
