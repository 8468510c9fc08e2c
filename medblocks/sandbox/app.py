"""The sandbox ASGI application: the parts assembled.

`create_app` returns a Starlette app whose routes are the pinned spec document, the
`/_sandbox/` controls and the hosted `/c/` pages; the router's default, reached by every other
path, is the API dispatcher behind the faults.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from medblocks.sandbox.api import webhooks
from medblocks.sandbox.api.dispatcher import ApiDispatcher
from medblocks.sandbox.asgi import RequestIdMiddleware
from medblocks.sandbox.config import SandboxConfig
from medblocks.sandbox.hosted import outcomes, pages
from medblocks.sandbox.levers import controls, faults
from medblocks.sandbox.runtime import SandboxRuntime

SPEC_ROUTE = "/openapi/medblocks.json"


async def serve_spec(request: Request) -> Response:
    runtime: SandboxRuntime = request.app.state.sandbox
    return Response(runtime.spec_bytes, media_type="application/json")


def create_app(config: SandboxConfig | None = None) -> Starlette:
    """A sandbox app; `app.state.sandbox` is its `SandboxRuntime`."""
    runtime = SandboxRuntime.build(config or SandboxConfig())
    routes: list[BaseRoute] = [
        Route(SPEC_ROUTE, serve_spec, methods=["GET"]),
        *controls.ROUTES,
        *pages.ROUTES,
    ]
    app = Starlette(routes=routes, middleware=[Middleware(RequestIdMiddleware)])
    # Whatever no route above claims goes to the API, through the faults (a router default,
    # unlike a catch-all Mount, also receives paths with control characters such as an
    # encoded newline). The spec document, the controls and the hosted pages never see faults.
    app.router.default = faults.FaultMiddleware(ApiDispatcher(runtime), runtime)
    app.router.redirect_slashes = False
    app.state.sandbox = runtime
    # Background deliveries and scheduled refresh failures.
    webhooks.start_worker(runtime, outcomes.run_due_work)
    return app
