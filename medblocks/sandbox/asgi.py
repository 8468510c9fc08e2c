"""The ASGI helpers every part of the sandbox shares: request ids, JSON answers, the error
envelope, header reading and the key check (API routes and `/_sandbox/` controls alike).

Nothing here imports another part of the sandbox but its errors, ids and runtime, so the
API, the hosted pages and the controls can all import it without a cycle.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from medblocks.sandbox.errors import ApiError, error_body
from medblocks.sandbox.ids import new_request_id
from medblocks.sandbox.runtime import SandboxRuntime

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("medblocks.sandbox")

INTERNAL_ERROR = ApiError("api_error", "internal_error", "The sandbox failed unexpectedly.")
DEFAULT_PORTS = {"http": 80, "https": 443}


def request_id_of(scope: Scope) -> str:
    """The request id `RequestIdMiddleware` gave this request (a fresh one if it did not run)."""
    state = scope.setdefault("state", {})
    if "request_id" not in state:
        state["request_id"] = new_request_id()
    return str(state["request_id"])


class RequestIdMiddleware:
    """Give every HTTP request a fresh id (`request.state.request_id`) and answer it in
    `X-Request-Id`, whichever route produced the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})["request_id"] = request_id = new_request_id()
        header = (b"x-request-id", request_id.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != header[0]]
                message["headers"] = [*headers, header]
            await send(message)

        started = False

        async def send_tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send_with_id(message)

        try:
            await self.app(scope, receive, send_tracked)
        except Exception:
            # Whatever route failed, the caller still gets the envelope and the request id
            # (never Starlette's plain-text 500); the traceback goes to the log only.
            log.exception("sandbox request %s failed", request_id)
            if started:
                raise
            await send_error(send_with_id, INTERNAL_ERROR, request_id)


async def send_json(
    send: Send, status: int, body: bytes, extra_headers: dict[str, str] | None = None
) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    for name, value in (extra_headers or {}).items():
        headers.append((name.lower().encode(), value.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def send_error(send: Send, error: ApiError, request_id: str) -> None:
    """Answer `error` in the documented envelope, its request id the one in `X-Request-Id`."""
    await send_json(send, error.status, error_body(error, request_id), error.headers)


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of the lower-case header `name`, or None."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def authenticate(runtime: SandboxRuntime, scope: Scope) -> None:
    """Accept only `Authorization: Bearer <the sandbox key>` (API routes and controls alike)."""
    scheme, _, key = (header(scope, b"authorization") or "").strip().partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        raise ApiError(
            "authentication_error",
            "missing_api_key",
            "No API key: send Authorization: Bearer <key>.",
        )
    if key in runtime.config.expired_api_keys:
        raise ApiError("authentication_error", "expired_api_key", "This API key has expired.")
    if not hmac.compare_digest(key.encode(), runtime.api_key.encode()):
        raise ApiError(
            "authentication_error",
            "invalid_api_key",
            "This API key is not valid for this sandbox.",
        )


def public_base_url(runtime: SandboxRuntime, scope: Scope) -> str:
    """The base of every URL the sandbox hands out (session `url`s): the configured public URL,
    else the address the request reached (the server socket, never the `Host` header, which
    the caller chooses)."""
    if runtime.config.public_url:
        return runtime.config.public_url
    scheme = scope.get("scheme", "http")
    host, port = scope.get("server") or ("127.0.0.1", None)
    if ":" in host:
        host = f"[{host}]"
    authority = host if port in (None, DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    return f"{scheme}://{authority}{scope.get('root_path', '')}"
