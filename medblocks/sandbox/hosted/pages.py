"""The hosted patient page at each session's `url` (`/c/<32 hex token>`).

Picker mode: search the catalog (recommended sources first) → a source's simulated portal
sign-in (sandbox personas) → consent (approve / deny) → result, connect more or finish →
completion screen → "Done — return to {app}" → `return_url?patient_id=…&patient_session_id=…`.
Direct mode: straight to the session's source sign-in, then straight back to `return_url` with
the success or error parameters. The token in the URL is the only capability; every step is a
plain form POST answered with a 303 redirect; an expired session shows the expired page (410).
The app's name is the session's `return_button_label`, else the sandbox's configured
`organisation_name` (the API carries no app name); test mode comes from the config too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl, quote

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


def _page(document: html.Document, status_code: int = 200) -> HTMLResponse:
    """A page with the Content-Security-Policy that allows exactly the images it shows."""
    response = HTMLResponse(document.text, status_code=status_code)
    response.headers["Content-Security-Policy"] = document.content_security_policy
    return response


def _branding(request: Request, session: Row | None = None) -> html.Branding:
    config = _runtime(request).config
    label = session["return_button_label"] if session is not None else None
    return html.Branding(label or config.organisation_name, config.hosted_test_mode)


def _message(
    request: Request,
    status: int,
    title: str,
    text: str,
    element_id: str,
    session: Row | None = None,
) -> HTMLResponse:
    page = html.message(
        title,
        text,
        _branding(request, session),
        element_id=element_id,
        request_id=request_id_of(request.scope),
    )
    return _page(page, status)


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
                row,
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
                row,
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
                request,
                404,
                "Unknown hospital or clinic",
                "Go back and pick another one.",
                "no-source",
                session,
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


def _source_row(source: Row, *, recommended: bool = False) -> html.SourceRow:
    return html.SourceRow(
        source["id"], source["name"], source["type"], source["logo_url"], recommended
    )


def _listed(request: Request, source: Row) -> bool:
    """Whether the picker lists `source`: test servers only in test mode."""
    return _runtime(request).config.hosted_test_mode or not html.is_test_server(source["name"])


def _base_url(request: Request) -> str:
    """The sandbox's public base URL (for the session `url` in webhook payloads)."""
    return public_base_url(_runtime(request), request.scope)


Step = Callable[[Request], Awaitable[Response]]


# The URL carries the session token: no page may be framed, cached, or leak it as a referrer.
# A page that shows logos replaces this policy with its own (`_page`), which differs only in
# `img-src`.
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
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
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
        if source is not None and lowered in source["name"].lower() and _listed(request, source):
            rows.append(_source_row(source, recommended=True))
    for source in runtime.store.list_sources(
        limit=PICKER_RESULTS + len(recommended), after_seq=None, q=query or None, vendor=None
    ):
        if source["id"] not in recommended and _listed(request, source):
            rows.append(_source_row(source))
    return _page(
        html.picker(
            base,
            _branding(request, session),
            query=query,
            sources=rows,
            attempts=_attempt_rows(runtime, session),
        )
    )


def _sign_in_page(
    request: Request, session: Row, source: Row, error: str | None, username: str
) -> html.Document:
    personas = [html.PersonaRow(p.username, p.summary) for p in outcomes.PERSONAS.values()]
    return html.sign_in(
        _base(request),
        _branding(request, session),
        source=_source_row(source),
        can_choose_another=session["mode"] == "picker",
        personas=personas,
        error=error,
        username=username,
        request_id=request_id_of(request.scope),
    )


async def sign_in_form(request: Request) -> Response:
    """The sign-in form; a persona chip (test mode) links here with `?username=` filled in."""
    session = _session(request)
    source = _source(request, session)
    chosen = request.query_params.get("username", "")
    username = (
        chosen if chosen in outcomes.PERSONAS and _runtime(request).config.hosted_test_mode else ""
    )
    return _page(_sign_in_page(request, session, source, None, username))


async def sign_in(request: Request) -> Response:
    session = _session(request)
    source = _source(request, session)
    form = await _form(request)
    username = form.get("username", "").strip()
    test_mode = _runtime(request).config.hosted_test_mode
    if username not in outcomes.PERSONAS:
        error = (
            "Unknown username: pick one of the test patients below."
            if test_mode
            else "That username and password did not match. Check them and try again."
        )
    elif form.get("password", "") != outcomes.SANDBOX_PASSWORD:
        error = (
            "Wrong password: every test patient uses pass_good."
            if test_mode
            else "That username and password did not match. Check them and try again."
        )
    else:
        return _see_other(
            f"{_base(request)}/sources/{quote(source['id'])}/consent?persona={quote(username)}"
        )
    return _page(_sign_in_page(request, session, source, error, username[:200]), 400)


async def consent_form(request: Request) -> Response:
    session = _session(request)
    source = _source(request, session)
    persona = request.query_params.get("persona", "")
    if persona not in outcomes.PERSONAS:
        return _see_other(f"{_base(request)}/sources/{quote(source['id'])}")
    return _page(
        html.consent(
            _base(request),
            _branding(request, session),
            source=_source_row(source),
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
    return _page(
        html.attempt_result(
            _base(request),
            _branding(request, session),
            source=_source_row(source),
            attempt=row,
            request_id=request_id_of(request.scope),
        )
    )


async def completion(request: Request) -> Response:
    runtime = _runtime(request)
    session = _session(request)
    if session["mode"] == "direct":
        return _see_other(_base(request))
    branding = _branding(request, session)
    return _page(
        html.completion(
            _base(request),
            branding,
            button_label=f"Done — return to {branding.app_name}",
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
