"""A deliberately broken sandbox for the harness's self-test: an ASGI wrapper around the real
sandbox app that changes its answers in one way each. It lives here, never in the product.

Each break says which operation it hits and which check must catch it; the self-test runs a
reduced suite against the wrapped app and proves the suite fails naming both.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

Message = dict[str, Any]
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]
Answer = tuple[int, list[tuple[bytes, bytes]], bytes]


@dataclass(frozen=True)
class Break:
    name: str
    operation: str  # the operationId whose answer changes
    check: str  # the check that must fail
    selection: str  # the reduced suite that must catch it (a pytest path or node id) ...
    operations: str  # ... with the conformance tests narrowed to these operationIds
    change: Callable[[str, str, str, Answer], Answer]  # (method, path, query, answer) -> answer


def _json_change(edit: Callable[[Any], Any]) -> Callable[[Answer], Answer]:
    def apply(answer: Answer) -> Answer:
        status, headers, body = answer
        try:
            data = json.loads(body)
        except ValueError:
            return answer
        return status, headers, json.dumps(edit(data)).encode()

    return apply


def _drop_created_at(method: str, path: str, query: str, answer: Answer) -> Answer:
    if method == "POST" and path == "/patients" and answer[0] == 200:
        return _json_change(lambda d: {k: v for k, v in d.items() if k != "created_at"})(answer)
    return answer


def _status_201(method: str, path: str, query: str, answer: Answer) -> Answer:
    if method == "POST" and path == "/patients" and answer[0] == 200:
        return 201, answer[1], answer[2]
    return answer


def _rename_webhook_status(method: str, path: str, query: str, answer: Answer) -> Answer:
    def rename(data: Any) -> Any:
        if isinstance(data, dict) and data.get("status") == "active":
            return {**data, "status": "enabled"}
        return data

    if method == "POST" and path == "/webhooks" and answer[0] == 200:
        return _json_change(rename)(answer)
    return answer


def _rename_not_found_code(method: str, path: str, query: str, answer: Answer) -> Answer:
    def rename(data: Any) -> Any:
        error = data.get("error") if isinstance(data, dict) else None
        if isinstance(error, dict) and error.get("code") == "resource_not_found":
            return {"error": {**error, "code": "not_found"}}
        return data

    return _json_change(rename)(answer) if answer[0] == 404 else answer


def _drop_request_id(method: str, path: str, query: str, answer: Answer) -> Answer:
    status, headers, body = answer
    return status, [(k, v) for k, v in headers if k.lower() != b"x-request-id"], body


def _skip_first_item_of_later_pages(method: str, path: str, query: str, answer: Answer) -> Answer:
    def skip(data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("data"), list) and data["data"]:
            return {**data, "data": data["data"][1:]}
        return data

    if method == "GET" and path == "/patients" and "starting_after=" in query and answer[0] == 200:
        return _json_change(skip)(answer)
    return answer


CONFORMANCE = "contract_tests/test_conformance.py"
BREAKS: dict[str, Break] = {
    b.name: b
    for b in (
        Break(
            "required-field-dropped",
            "api.createPatient",
            "response_schema_conformance",
            CONFORMANCE,
            "api.createPatient",
            _drop_created_at,
        ),
        Break(
            "status-code-changed",
            "api.createPatient",
            "status_code_conformance",
            CONFORMANCE,
            "api.createPatient",
            _status_201,
        ),
        Break(
            "enum-value-renamed",
            "api.createWebhook",
            "response_schema_conformance",
            CONFORMANCE,
            "api.createWebhook",
            _rename_webhook_status,
        ),
        Break(
            "error-code-changed",
            "api.getPatient",
            "documented_error:resource_not_found",
            "contract_tests/test_errors.py::test_unknown_patient_is_resource_not_found",
            "",
            _rename_not_found_code,
        ),
        Break(
            "request-id-missing",
            "api.listPatients",
            "request_id_echoed",
            CONFORMANCE,
            "api.listPatients",
            _drop_request_id,
        ),
        Break(
            "pagination-skips-item",
            "api.listPatients",
            "pagination_every_item_once",
            "contract_tests/test_behaviour.py::test_pagination_returns_every_patient_once",
            "",
            _skip_first_item_of_later_pages,
        ),
    )
}
UNTOUCHED_PREFIXES = ("/openapi/", "/_sandbox/")


def break_app(app: App, name: str) -> App:
    """`app` with the named break applied to its HTTP answers (the served spec excepted)."""
    if name not in BREAKS:
        raise ValueError(f"unknown break {name!r}; known: {', '.join(BREAKS)}")
    change = BREAKS[name].change

    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(UNTOUCHED_PREFIXES):
            await app(scope, receive, send)
            return
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    await replay()

        async def replay() -> None:
            query = scope.get("query_string", b"").decode("latin-1")
            answer = (start["status"], list(start.get("headers", [])), b"".join(chunks))
            status, headers, body = change(scope["method"], scope["path"], query, answer)
            headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await app(scope, receive, capture)

    return broken
