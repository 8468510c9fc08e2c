"""The hosted patient page at each session's `url` (`/c/<32 hex token>`).

Picker mode: search the catalog (recommended sources first) → a source's simulated portal
sign-in (sandbox personas) → consent (approve / deny) → result, connect more or finish →
completion screen → "Done — return to {label}" → `return_url?patient_id=…&patient_session_id=…`.
Direct mode: straight to the session's source sign-in, then straight back to `return_url` with
the success or error parameters. The token in the URL is the only capability; every step is a
plain form POST answered with a 303 redirect; an expired session shows the expired page (410).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl, quote, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from medblocks.sandbox.api import resources
from medblocks.sandbox.asgi import public_base_url, request_id_of
from medblocks.sandbox.hosted import html, outcomes
from medblocks.sandbox.runtime import SandboxRuntime
from medblocks.sandbox.storage.ehr import SCOPES
from medblocks.sandbox.storage.store import Row

TOKEN_PATTERN = re.compile(r"[0-9a-f]{32}")
MAX_FORM_BYTES = 16 * 1024
PICKER_RESULTS = 25


class _Refused(Exception):
    """Stop the current step and answer with this page."""

    def __init__(self, response: Response) -> None:
        self.response = response


def _message(request: Request, status: int, title: str, text: str, element_id: str) -> HTMLResponse:
    page = html.message(title, text, element_id=element_id, request_id=request_id_of(request.scope))
    return HTMLResponse(page, status_code=status)


def _runtime(request: Request) -> SandboxRuntime:
    runtime: SandboxRuntime = request.app.state.sandbox
    return runtime


def _session(request: Request) -> Row:
    token = request.path_params["token"]
    row = None
    if TOKEN_PATTERN.fullmatch(token):
        row = _runtime(request).store.get_session_by_token(token)
    if row is None:
        raise _Refused(
            _message(
                request, 404, "This link is not valid", "Ask the app for a new link.", "not-found"
            )
        )
    status = resources.session_status(row, _runtime(request).clock.now_iso())
    if status == "expired":
        raise _Refused(
            _message(
                request,
                410,
                "This link has expired",
                "For your security the link stopped working. Go back to the app to start again.",
                "expired",
            )
        )
    if status == "complete":
        raise _Refused(
            _message(
                request,
                409,
                "You're all set",
                "This session is already complete; you can close this window.",
                "complete",
            )
        )
    return row


def _source(request: Request, session: Row) -> Row:
    runtime = _runtime(request)
    source_id = request.path_params["source_id"]
    source = runtime.store.get_source(source_id)
    allowed = session["mode"] == "picker" or session["connection_id"] == source_id
    if source is None or source["id"] != source_id or not allowed:
        raise _Refused(
            _message(
                request, 404, "Unknown health system", "Go back and pick another one.", "no-source"
            )
        )
    return source


def _base(request: Request) -> str:
    return f"/c/{request.path_params['token']}"


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise _Refused(
            _message(request, 413, "Form too large", "Go back and try again.", "too-large")
        )
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _attempt_rows(runtime: SandboxRuntime, session: Row) -> list[html.AttemptRow]:
    rows = []
    for attempt in runtime.store.attempts_for_session(session["id"]):
        source = runtime.store.get_source(attempt["connection_id"])
        name = source["name"] if source is not None else attempt["connection_id"]
        rows.append(html.AttemptRow(name, attempt["status"], attempt["failure_code"]))
    return rows


def _button_label(session: Row) -> str:
    label = session["return_button_label"] or urlsplit(session["return_url"]).hostname or "app"
    return f"Done — return to {label}"


def _base_url(request: Request) -> str:
    """The sandbox's public base URL (for the session `url` in webhook payloads)."""
    return public_base_url(_runtime(request), request.scope)


Step = Callable[[Request], Awaitable[Response]]


# The URL carries the session token: no page may be framed, cached, or leak it as a referrer.
SECURITY_HEADERS = {
    "Content-Security-Policy": html.CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def _guarded(step: Step) -> Step:
    """Answer a refused step with its page; every answer carries the security headers."""

    async def endpoint(request: Request) -> Response:
        try:
            response: Response = await step(request)
        except _Refused as refused:
            response = refused.response
        response.headers.update(SECURITY_HEADERS)
        return response

    return endpoint


async def start(request: Request) -> Response:
    """Picker home (search) or, in direct mode, straight to the source's sign-in."""
    runtime = _runtime(request)
    session = _session(request)
    base = _base(request)
    if session["mode"] == "direct":
        return _see_other(f"{base}/sources/{quote(session['connection_id'])}")
    query = request.query_params.get("q", "").strip()[:200]
    recommended = json.loads(session["recommended_connection_ids"] or "[]")
    lowered = query.lower()
    rows: list[html.SourceRow] = []
    for source_id in recommended:
        source = runtime.store.get_source(source_id)
        if source is not None and lowered in source["name"].lower():
            rows.append(html.SourceRow(source["id"], source["name"], source["type"], True))
    for source in runtime.store.list_sources(
        limit=PICKER_RESULTS + len(recommended), after_seq=None, q=query or None, vendor=None
    ):
        if source["id"] not in recommended:
            rows.append(html.SourceRow(source["id"], source["name"], source["type"], False))
    return HTMLResponse(
        html.picker(base, query=query, sources=rows, attempts=_attempt_rows(runtime, session))
    )


def _sign_in_page(request: Request, source: Row, error: str | None, username: str) -> str:
    personas = [html.PersonaRow(p.username, p.summary) for p in outcomes.PERSONAS.values()]
    return html.sign_in(
        _base(request),
        source_name=source["name"],
        source_id=source["id"],
        personas=personas,
        error=error,
        username=username,
        request_id=request_id_of(request.scope),
    )


async def sign_in_form(request: Request) -> Response:
    session = _session(request)
    source = _source(request, session)
    return HTMLResponse(_sign_in_page(request, source, None, ""))


async def sign_in(request: Request) -> Response:
    session = _session(request)
    source = _source(request, session)
    form = await _form(request)
    username = form.get("username", "").strip()
    if username not in outcomes.PERSONAS:
        error = "Unknown username: use one of the sandbox personas listed below."
    elif form.get("password", "") != outcomes.SANDBOX_PASSWORD:
        error = "Wrong password: every sandbox persona uses pass_good."
    else:
        return _see_other(
            f"{_base(request)}/sources/{quote(source['id'])}/consent?persona={quote(username)}"
        )
    return HTMLResponse(_sign_in_page(request, source, error, username), status_code=400)


async def consent_form(request: Request) -> Response:
    session = _session(request)
    source = _source(request, session)
    persona = request.query_params.get("persona", "")
    if persona not in outcomes.PERSONAS:
        return _see_other(f"{_base(request)}/sources/{quote(source['id'])}")
    return HTMLResponse(
        html.consent(
            _base(request),
            source_name=source["name"],
            source_id=source["id"],
            persona=persona,
            scopes=SCOPES,
        )
    )


async def consent(request: Request) -> Response:
    runtime = _runtime(request)
    session = _session(request)
    source = _source(request, session)
    form = await _form(request)
    persona = outcomes.PERSONAS.get(form.get("persona", ""))
    decision = form.get("decision")
    if persona is None or decision not in ("approve", "deny"):
        return _see_other(f"{_base(request)}/sources/{quote(source['id'])}")
    outcome = persona.approve if decision == "approve" else outcomes.DENIED
    result = outcomes.record_attempt(runtime, session, source["id"], outcome, _base_url(request))
    if session["mode"] == "direct":
        return _see_other(outcomes.direct_return(session, result))
    return _see_other(f"{_base(request)}/sources/{quote(source['id'])}/result")


async def attempt_result(request: Request) -> Response:
    runtime = _runtime(request)
    session = _session(request)
    source = _source(request, session)
    attempts = [
        a
        for a in runtime.store.attempts_for_session(session["id"])
        if a["connection_id"] == source["id"]
    ]
    if not attempts:
        return _see_other(_base(request))
    last = attempts[-1]
    row = html.AttemptRow(source["name"], last["status"], last["failure_code"])
    description = outcomes.FAILURE_CODES.get(last["failure_code"] or "")
    return HTMLResponse(
        html.attempt_result(
            _base(request),
            source_name=source["name"],
            attempt=row,
            description=description,
            request_id=request_id_of(request.scope),
        )
    )


async def completion(request: Request) -> Response:
    runtime = _runtime(request)
    session = _session(request)
    if session["mode"] == "direct":
        return _see_other(_base(request))
    return HTMLResponse(
        html.completion(
            _base(request),
            button_label=_button_label(session),
            attempts=_attempt_rows(runtime, session),
        )
    )


async def done(request: Request) -> Response:
    runtime = _runtime(request)
    session = _session(request)
    if session["mode"] == "direct":
        return _see_other(_base(request))
    outcomes.complete_session(runtime, session, _base_url(request))
    return _see_other(outcomes.picker_return(session))


class _Page:
    """One hosted path as an ASGI app (so every method reaches it): run the step of the
    request's method (HEAD as GET); any other method gets the 405 page with `Allow`, like
    every other refusal of the hosted flow."""

    def __init__(self, steps: dict[str, Step]) -> None:
        by_method = {**steps, "HEAD": steps["GET"]} if "GET" in steps else dict(steps)
        self.allow = ", ".join(sorted(by_method))
        self.steps = {method: _guarded(step) for method, step in by_method.items()}
        self.refuse = _guarded(self._wrong_method)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await self.steps.get(request.method, self.refuse)(request)
        await response(scope, receive, send)

    async def _wrong_method(self, request: Request) -> Response:
        page = _message(
            request,
            405,
            "This page cannot do that",
            "Use the links and buttons on the page.",
            "method-not-allowed",
        )
        page.headers["Allow"] = self.allow
        raise _Refused(page)


ROUTES: list[BaseRoute] = [
    Route("/c/{token}", _Page({"GET": start})),
    Route("/c/{token}/sources/{source_id}", _Page({"GET": sign_in_form})),
    Route("/c/{token}/sources/{source_id}/sign-in", _Page({"POST": sign_in})),
    Route("/c/{token}/sources/{source_id}/consent", _Page({"GET": consent_form, "POST": consent})),
    Route("/c/{token}/sources/{source_id}/result", _Page({"GET": attempt_result})),
    Route("/c/{token}/done", _Page({"GET": completion, "POST": done})),
]
