"""The sandbox ASGI application.

`create_app` returns a Starlette app whose routes are the pinned spec document and the routes
other parts of the sandbox add (the `/_sandbox/` controls and the hosted `/c/` pages); the
router's default, reached by every other path, serves the API from the pinned spec. It is a
lean pure-ASGI dispatcher (`ApiDispatcher`): route match on the raw path, auth, `Version`,
method, parameters and body against precompiled validators, then the handler.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from medblocks.sandbox.api import webhooks
from medblocks.sandbox.api.operations import HANDLERS, Call
from medblocks.sandbox.api.validation import (
    coerce_parameters,
    match_path,
    parse_json_body,
    validate_body,
)
from medblocks.sandbox.asgi import (
    Receive,
    RequestIdMiddleware,
    Scope,
    Send,
    authenticate,
    header,
    request_id_of,
    send_error,
    send_json,
)
from medblocks.sandbox.config import SandboxConfig
from medblocks.sandbox.errors import ApiError, method_not_allowed
from medblocks.sandbox.hosted import outcomes, pages
from medblocks.sandbox.levers import controls, faults
from medblocks.sandbox.runtime import SandboxRuntime

MAX_BODY_BYTES = 1024 * 1024
SPEC_ROUTE = "/openapi/medblocks.json"


def base_url_of(scope: Scope) -> str:
    """The base URL the caller used (for the hosted session `url`)."""
    host = header(scope, b"host")
    if host is None:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}{scope.get('root_path', '')}"


log = logging.getLogger("medblocks.sandbox")


class ApiDispatcher:
    """Serves every operation of the pinned spec; anything else is 404 in the envelope."""

    def __init__(self, runtime: SandboxRuntime) -> None:
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request_id = request_id_of(scope)
        try:
            status, payload = await self._dispatch(scope, receive)
        except ApiError as error:
            await send_error(send, error, request_id)
            return
        except Exception:
            log.exception("sandbox request %s failed", request_id)
            await send_error(
                send,
                ApiError("api_error", "internal_error", "The sandbox failed unexpectedly."),
                request_id,
            )
            return
        await send_json(send, status, json.dumps(payload, separators=(",", ":")).encode())

    def _check_version(self, scope: Scope) -> None:
        version = header(scope, b"version")
        if version is not None and version.strip() != self.runtime.api_version:
            raise ApiError(
                "invalid_request_error",
                "unsupported_api_version",
                f"Unsupported Version; this sandbox serves {self.runtime.api_version}.",
                param="Version",
            )

    async def _dispatch(self, scope: Scope, receive: Receive) -> tuple[int, Any]:
        raw_path = scope.get("raw_path") or scope["path"].encode()
        path = raw_path.decode("latin-1").split("?", 1)[0]
        matched = match_path(self.runtime.paths, path)
        if matched is None:
            raise ApiError("not_found_error", "resource_not_found", "No such route in this API.")
        entry, path_values = matched
        operation = entry.operations.get(scope["method"])
        # Every operation, `/health` included, follows the document's global security.
        authenticate(self.runtime, scope)
        if operation is None:
            raise method_not_allowed(entry.allow)
        if operation.declares_version:
            self._check_version(scope)
        path_params = coerce_parameters(operation.path_params, path_values)
        raw_query = scope.get("query_string", b"").decode("latin-1")
        query_values: dict[str, str] = {}
        for name, value in parse_qsl(raw_query, keep_blank_values=True):
            query_values.setdefault(name, value)
        query = coerce_parameters(operation.query_params, query_values)
        body: Any = None
        if operation.body_validator is not None:
            raw_body = await read_body(scope, receive)
            if raw_body.strip():
                body = parse_json_body(raw_body)
                validate_body(operation, body)
            elif operation.body_required:
                raise ApiError(
                    "invalid_request_error",
                    "invalid_data",
                    "A JSON request body is required.",
                )
        call = Call(
            runtime=self.runtime,
            path=path_params,
            query=query,
            body=body,
            base_url=base_url_of(scope),
        )
        return 200, HANDLERS[operation.operation_id](call)


async def read_body(scope: Scope, receive: Receive) -> bytes:
    """The whole request body, or 413 `payload_too_large` past 1 MB."""
    too_large = ApiError(
        "invalid_request_error", "payload_too_large", "The request body is larger than 1 MB."
    )
    declared = header(scope, b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise too_large
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


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
