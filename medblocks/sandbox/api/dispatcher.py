"""The API dispatcher: every request no other route claims is an operation of the pinned spec.

A lean pure-ASGI dispatcher: route match on the raw path, the key, the method, `Version`,
parameters and body against the validators compiled at start-up, then the operation's handler.
Its order of checks is the one the README lists.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qsl

from medblocks.sandbox import jsontext
from medblocks.sandbox.api.operations import HANDLERS, Call
from medblocks.sandbox.api.validation import coerce_parameters, match_path, validate_body
from medblocks.sandbox.asgi import (
    Receive,
    Scope,
    Send,
    authenticate,
    header,
    public_base_url,
    request_id_of,
    send_error,
    send_json,
)
from medblocks.sandbox.errors import ApiError, method_not_allowed
from medblocks.sandbox.runtime import SandboxRuntime

log = logging.getLogger("medblocks.sandbox")

MAX_BODY_BYTES = 1024 * 1024
# Operations answered without a key (the prose says so; the document's security does not).
UNAUTHENTICATED = frozenset({"api.health"})


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
        await send_json(send, status, jsontext.encode(payload))

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
        # `/health` is unauthenticated, as Medblocks documents it (monitors call it without a
        # key), though the document's global security covers it; see the README.
        if operation is None or operation.operation_id not in UNAUTHENTICATED:
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
                body = jsontext.parse_body(raw_body)
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
            base_url=public_base_url(self.runtime, scope),
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
