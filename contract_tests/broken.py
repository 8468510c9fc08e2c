"""A deliberately broken sandbox for the harness's self-test: an ASGI wrapper around the real
sandbox app that changes its behaviour in one way each. It lives here, never in the product.

Each break says which operation it hits and which check must catch it; the self-tests in
`tests/contract_harness/` run a reduced suite against the wrapped app and prove the suite fails
naming both. Most breaks edit an answer; a few rewrite the request first (a PUT that merges, a
filter that is ignored), which is how a server that misreads the documented semantics behaves.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode

from contract_tests.prose import RULES

Message = dict[str, Any]
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]
Answer = tuple[int, list[tuple[bytes, bytes]], bytes]


@dataclass(frozen=True)
class Exchange:
    """The request as the broken server sees it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    @property
    def params(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.query, keep_blank_values=True).items()}

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def without_param(self, name: str) -> Exchange:
        params = {k: v for k, v in self.params.items() if k != name}
        return replace(self, query=urlencode(params))

    def with_json(self, body: Any) -> Exchange:
        return replace(self, body=json.dumps(body).encode())


Fetch = Callable[[str], Awaitable[Answer]]  # (method) -> the real sandbox's answer, same path
Change = Callable[[Exchange, Answer], Answer]
Rewrite = Callable[[Exchange, Fetch], Awaitable[Exchange]]


def _unchanged(ex: Exchange, answer: Answer) -> Answer:
    return answer


@dataclass(frozen=True)
class Break:
    name: str
    operation: str  # the operationId whose behaviour changes
    check: str  # the check that must fail
    selection: str  # the reduced suite that must catch it (a pytest path or node id) ...
    operations: str  # ... with the conformance tests narrowed to these operationIds
    change: Change = _unchanged  # (request, answer) -> answer
    rewrite: Rewrite | None = field(default=None)  # the request, before the sandbox sees it


def _json_change(edit: Callable[[Any], Any]) -> Callable[[Answer], Answer]:
    def apply(answer: Answer) -> Answer:
        status, headers, body = answer
        try:
            data = json.loads(body)
        except ValueError:
            return answer
        return status, headers, json.dumps(edit(data)).encode()

    return apply


def _drop_created_at(ex: Exchange, answer: Answer) -> Answer:
    if ex.method == "POST" and ex.path == "/patients" and answer[0] == 200:
        return _json_change(lambda d: {k: v for k, v in d.items() if k != "created_at"})(answer)
    return answer


def _status_201(ex: Exchange, answer: Answer) -> Answer:
    if ex.method == "POST" and ex.path == "/patients" and answer[0] == 200:
        return 201, answer[1], answer[2]
    return answer


def _rename_webhook_status(ex: Exchange, answer: Answer) -> Answer:
    def rename(data: Any) -> Any:
        if isinstance(data, dict) and data.get("status") == "active":
            return {**data, "status": "enabled"}
        return data

    if ex.method == "POST" and ex.path == "/webhooks" and answer[0] == 200:
        return _json_change(rename)(answer)
    return answer


def _rename_not_found_code(ex: Exchange, answer: Answer) -> Answer:
    def rename(data: Any) -> Any:
        error = data.get("error") if isinstance(data, dict) else None
        if isinstance(error, dict) and error.get("code") == "resource_not_found":
            return {"error": {**error, "code": "not_found"}}
        return data

    return _json_change(rename)(answer) if answer[0] == 404 else answer


def _drop_request_id(ex: Exchange, answer: Answer) -> Answer:
    status, headers, body = answer
    return status, [(k, v) for k, v in headers if k.lower() != b"x-request-id"], body


def _skip_first_item_of_later_pages(ex: Exchange, answer: Answer) -> Answer:
    def skip(data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("data"), list) and data["data"]:
            return {**data, "data": data["data"][1:]}
        return data

    if (
        ex.method == "GET"
        and ex.path == "/patients"
        and "starting_after" in ex.params
        and answer[0] == 200
    ):
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
# -- breaks of the rules stated only in prose (one per rule of `contract_tests.prose`) ------------

PROSE_SELECTION = "contract_tests/test_prose.py::test_prose_rule[{}]"


def _segments(ex: Exchange) -> list[str]:
    return ex.path.strip("/").split("/")


def _error(answer: Answer, status: int, type_: str, code: str, param: str | None) -> Answer:
    """The documented envelope, with the answer's own request id."""
    headers = [(k, v) for k, v in answer[1] if k.lower() != b"content-type"]
    request_id = next((v.decode() for k, v in headers if k.lower() == b"x-request-id"), None)
    error = {
        "type": type_,
        "code": code,
        "message": "deliberately broken",
        "param": param,
        "doc_url": "https://docs.medblocks.com/errors",
        "request_id": request_id,
    }
    headers.append((b"content-type", b"application/json"))
    return status, headers, json.dumps({"error": error}).encode()


def _when(test: Callable[[Exchange, int], bool], edit: Callable[[Any], Any]) -> Change:
    """Edit the JSON answer of the requests `test` picks (by request and status)."""

    def change(ex: Exchange, answer: Answer) -> Answer:
        return _json_change(edit)(answer) if test(ex, answer[0]) else answer

    return change


def _dropping(param: str, test: Callable[[Exchange], bool]) -> Rewrite:
    """A server that ignores a filter: the parameter never reaches the sandbox."""

    async def rewrite(ex: Exchange, fetch: Fetch) -> Exchange:
        return ex.without_param(param) if test(ex) else ex

    return rewrite


def _items(data: Any, edit: Callable[[dict], dict]) -> Any:
    return {**data, "data": [edit(item) for item in data["data"]]}


def _sessions(edit: Callable[[dict], dict]) -> Change:
    """Edit every patient session in an answer (creation and retrieval)."""

    def apply(data: Any) -> Any:
        is_session = isinstance(data, dict) and data.get("resource_type") == "patient_session"
        return edit(dict(data)) if is_session else data

    return _when(lambda ex, status: status == 200, apply)


def _later(timestamp: str, seconds: int) -> str:
    moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00")) + timedelta(seconds=seconds)
    return moment.isoformat().replace("+00:00", "Z")


def _patient(ex: Exchange, status: int) -> bool:
    return ex.method == "GET" and len(_segments(ex)) == 2 and _segments(ex)[0] == "patients"


def _records(ex: Exchange) -> bool:
    return ex.path.endswith("/records") and ex.method == "GET"


def _events(ex: Exchange, status: int) -> bool:
    return ex.method == "GET" and ex.path.endswith("/events") and status == 200


async def _merge_put(ex: Exchange, fetch: Fetch) -> Exchange:
    """PUT read as a merge: fields left out or null keep their stored values."""
    body = ex.json()
    if ex.method != "PUT" or _segments(ex)[0] != "patients" or not isinstance(body, dict):
        return ex
    status, _headers, stored = await fetch("GET")
    if status != 200:
        return ex
    current = json.loads(stored)
    kept = {f: current[f] for f in ("name", "email", "metadata") if body.get(f) is None}
    return ex.with_json({**body, **kept})


async def _https_for_http(ex: Exchange, fetch: Fetch) -> Exchange:
    body = ex.json()
    url = body.get("url") if isinstance(body, dict) else None
    if ex.method == "POST" and ex.path == "/webhooks" and str(url).startswith("http://"):
        return ex.with_json({**body, "url": "https://" + url.removeprefix("http://")})
    return ex


async def _star_wins(ex: Exchange, fetch: Fetch) -> Exchange:
    body = ex.json()
    events = body.get("events") if isinstance(body, dict) else None
    if ex.method == "POST" and isinstance(events, list) and "*" in events:
        return ex.with_json({**body, "events": ["*"]})
    return ex


async def _patch_resets_metadata(ex: Exchange, fetch: Fetch) -> Exchange:
    body = ex.json()
    if ex.method == "PATCH" and isinstance(body, dict) and "metadata" not in body:
        return ex.with_json({**body, "metadata": {}})
    return ex


async def _ignored_filters(ex: Exchange, fetch: Fetch) -> Exchange:
    """A server that ignores the patient_id and email filters of the patient list."""
    if ex.method == "GET" and ex.path == "/patients":
        return ex.without_param("patient_id").without_param("email")
    return ex


async def _active_ignored(ex: Exchange, fetch: Fetch) -> Exchange:
    body = ex.json()
    if ex.method == "PATCH" and isinstance(body, dict) and body.get("status") == "active":
        return ex.with_json({k: v for k, v in body.items() if k != "status"})
    return ex


def _base_url_refused_on_sessions(ex: Exchange, answer: Answer) -> Answer:
    body = ex.json()
    source = body.get("connection_id") if isinstance(body, dict) else None
    by_base_url = bool(source) and not str(source).startswith("fhirsrc_")
    if ex.method == "POST" and ex.path == "/patient-sessions" and by_base_url:
        return _error(answer, 404, "not_found_error", "resource_not_found", "connection_id")
    return answer


def _health_wants_key(ex: Exchange, answer: Answer) -> Answer:
    if ex.path == "/health" and "authorization" not in ex.headers:
        return _error(answer, 401, "authentication_error", "missing_api_key", None)
    return answer


def _version_required(ex: Exchange, answer: Answer) -> Answer:
    if ex.path != "/health" and "version" not in ex.headers:
        return _error(answer, 400, "invalid_request_error", "unsupported_api_version", "Version")
    return answer


def _plain_405(ex: Exchange, answer: Answer) -> Answer:
    if answer[0] != 405:
        return answer
    headers = [(k, v) for k, v in answer[1] if k.lower() != b"content-type"]
    return 405, [*headers, (b"content-type", b"text/plain")], b"Method Not Allowed"


def _case_sensitive_q(ex: Exchange, answer: Answer) -> Answer:
    q = ex.params.get("q")
    if ex.path != "/connections" or not q or answer[0] != 200:
        return answer
    return _json_change(lambda d: {**d, "data": [s for s in d["data"] if q in s["name"]]})(answer)


def _base_url_unknown(ex: Exchange, answer: Answer) -> Answer:
    # The path is decoded: a fhir_base_url passed as one segment shows its own slashes.
    rest = ex.path.removeprefix("/connections/")
    if ex.method == "GET" and rest != ex.path and not rest.startswith("fhirsrc_"):
        return _error(answer, 404, "not_found_error", "resource_not_found", "id")
    return answer


def _delete_twice(ex: Exchange, answer: Answer) -> Answer:
    segments = _segments(ex)
    if ex.method != "DELETE" or len(segments) != 2 or segments[0] != "patients":
        return answer
    if answer[0] != 404:
        return answer
    tombstone = {"id": segments[1], "resource_type": "patient", "deleted": True}
    headers = [(k, v) for k, v in answer[1] if k.lower() != b"content-type"]
    headers.append((b"content-type", b"application/json"))
    return 200, headers, json.dumps(tombstone).encode()


def _history_kept(ex: Exchange, answer: Answer) -> Answer:
    if ex.method == "GET" and ex.path.endswith("/events") and answer[0] == 404:
        empty = {"resource_type": "list", "data": [], "has_more": False, "next_cursor": None}
        headers = [(k, v) for k, v in answer[1] if k.lower() != b"content-type"]
        headers.append((b"content-type", b"application/json"))
        return 200, headers, json.dumps(empty).encode()
    return answer


UNKNOWN_SOURCE = "fhirsrc_01ZZZZZZZZZZZZZZZZZZZZZZZZ"
PROSE_BREAKS: dict[str, tuple[Change, Rewrite | None]] = {
    "health-needs-no-key": (_health_wants_key, None),
    "version-header-optional": (_version_required, None),
    "errors-always-enveloped": (_plain_405, None),
    "patients-filter-exact": (_unchanged, _ignored_filters),
    "catalog-search-case-insensitive": (_case_sensitive_q, None),
    "catalog-type-filter": (_unchanged, _dropping("type", lambda ex: ex.path == "/connections")),
    "source-by-fhir-base-url": (_base_url_unknown, None),
    "sessions-status-filter": (
        _unchanged,
        _dropping("status", lambda ex: ex.path.endswith("/patient-sessions")),
    ),
    "health-server-time-iso8601": (
        _when(lambda ex, st: ex.path == "/health", lambda d: {**d, "server_time": "1777100000"}),
        None,
    ),
    "timestamps-iso8601": (
        _when(
            lambda ex, st: ex.method == "POST" and ex.path == "/patients" and st == 200,
            lambda d: {**d, "created_at": "25/04/2026 10:00:00"},
        ),
        None,
    ),
    "put-full-replace": (_unchanged, _merge_put),
    "patient-detail-on-get-only": (
        _when(
            lambda ex, st: ex.method == "POST" and ex.path == "/patients" and st == 200,
            lambda d: {**d, "connections": []},
        ),
        None,
    ),
    "patient-delete-is-final": (_delete_twice, None),
    "detail-connections-most-recent-first": (
        _when(_patient, lambda d: {**d, "connections": d["connections"][::-1]}),
        None,
    ),
    "failure-fields-only-when-failed": (
        _when(
            _patient,
            lambda d: {
                **d,
                "connections": [
                    {**c, "failure_at": c["failure_at"] or c["created_at"]}
                    for c in d["connections"]
                ],
            },
        ),
        None,
    ),
    "session-echoes-return-url": (
        _sessions(lambda s: {**s, "return_url": s["return_url"].split("?")[0]}),
        None,
    ),
    "session-label-null-by-default": (
        _sessions(lambda s: {**s, "return_button_label": s["return_button_label"] or "Done"}),
        None,
    ),
    "session-direct-mode-no-recommendations": (
        _sessions(
            lambda s: {**s, "recommended_connection_ids": s["recommended_connection_ids"] or []}
        ),
        None,
    ),
    "session-connections-empty-at-start": (
        _sessions(
            lambda s: {
                **s,
                "connections": s["connections"]
                or [{"id": None, "connection_id": s["connection_id"], "status": "failed"}],
            }
        ),
        None,
    ),
    "session-url-is-a-hosted-page": (
        _sessions(lambda s: {**s, "url": s["url"].replace("/c/", "/connect?token=")}),
        None,
    ),
    "session-accepts-fhir-base-url": (_base_url_refused_on_sessions, None),
    "session-default-expiry": (
        _sessions(lambda s: {**s, "expires_at": _later(s["created_at"], 3600)}),
        None,
    ),
    "session-lists-its-own-attempts": (
        _sessions(lambda s: {**s, "connections": [c for c in s["connections"] if c["id"]]}),
        None,
    ),
    "records-type-filter": (_unchanged, _dropping("type", _records)),
    "records-since-narrows": (_unchanged, _dropping("since", _records)),
    "records-source-resolves": (
        _when(
            lambda ex, st: _records(ex) and st == 200,
            lambda d: _items(d, lambda r: {**r, "source": UNKNOWN_SOURCE}),
        ),
        None,
    ),
    "records-page-backwards": (
        _when(
            lambda ex, st: _records(ex) and "ending_before" in ex.params,
            lambda d: {**d, "data": []},
        ),
        None,
    ),
    "webhook-url-https-only": (_unchanged, _https_for_http),
    "webhook-star-never-mixed": (_unchanged, _star_wins),
    "webhook-patch-is-partial": (_unchanged, _patch_resets_metadata),
    "webhook-secret-only-on-create-and-rotate": (
        _when(
            lambda ex, st: ex.method == "GET" and _segments(ex)[0] == "webhooks" and st == 200,
            lambda d: {**d, "secret": "whsec_" + "0" * 32} if "url" in d else d,
        ),
        None,
    ),
    "webhook-delete-drops-history": (_history_kept, None),
    "webhooks-status-filter": (_unchanged, _dropping("status", lambda ex: ex.path == "/webhooks")),
    "webhook-status-active-reenables": (_unchanged, _active_ignored),
    "events-belong-to-their-endpoint": (
        _when(_events, lambda d: _items(d, lambda e: {**e, "webhook_endpoint_id": "wh_other"})),
        None,
    ),
    "webhook-api-version-on-events": (
        _when(_events, lambda d: _items(d, lambda e: {**e, "api_version": "2025-01-01"})),
        None,
    ),
    "events-delivered-filter": (
        _unchanged,
        _dropping("delivered", lambda ex: ex.path.endswith("/events")),
    ),
    "redeliver-sets-last-redelivered-at": (
        _when(_events, lambda d: _items(d, lambda e: {**e, "last_redelivered_at": None})),
        None,
    ),
}
for _rule in RULES.values():
    _change, _rewrite = PROSE_BREAKS[_rule.id]
    BREAKS[_rule.id] = Break(
        _rule.id,
        _rule.operation,
        f"rule:{_rule.id}",
        PROSE_SELECTION.format(_rule.id),
        "",
        _change,
        _rewrite,
    )


UNTOUCHED_PREFIXES = ("/openapi/", "/_sandbox/")


async def _call(app: App, scope: Scope, body: bytes) -> Answer:
    """One request through the real app, its whole answer collected."""
    start: Message = {}
    chunks: list[bytes] = []
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def capture(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, capture)
    return start["status"], list(start.get("headers", [])), b"".join(chunks)


def break_app(app: App, name: str) -> App:
    """`app` with the named break applied to its HTTP traffic (the served spec and the sandbox
    controls excepted)."""
    if name not in BREAKS:
        raise ValueError(f"unknown break {name!r}; known: {', '.join(BREAKS)}")
    seeded = BREAKS[name]

    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(UNTOUCHED_PREFIXES):
            await app(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = scope.get("query_string", b"").decode("latin-1")
        ex = Exchange(scope["method"], scope["path"], query, headers, body)
        if seeded.rewrite is not None:

            async def fetch(method: str) -> Answer:
                bodyless = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"]
                get = {**scope, "method": method, "query_string": b"", "headers": bodyless}
                return await _call(app, get, b"")

            ex = await seeded.rewrite(ex, fetch)
        inner_headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"]
        inner_headers.append((b"content-length", str(len(ex.body)).encode()))
        inner = {**scope, "query_string": ex.query.encode(), "headers": inner_headers}
        status, headers_out, body_out = seeded.change(ex, await _call(app, inner, ex.body))
        headers_out = [(k, v) for k, v in headers_out if k.lower() != b"content-length"]
        headers_out.append((b"content-length", str(len(body_out)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers_out})
        await send({"type": "http.response.body", "body": body_out})

    return broken
