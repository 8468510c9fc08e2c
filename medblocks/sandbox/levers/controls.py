"""Sandbox-only controls under `/_sandbox/` (not part of Medblocks' API).

Authenticated with the sandbox's key, answered with the documented error envelope, request
bodies checked against the schemas in `medblocks/spec/overlay.json` (the one description of
these routes). They complete sessions headless, force connection statuses, advance the
sandbox clock (which fires due refresh failures and webhook retries), reset and seed the
data, and set the run-wide faults.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, replace
from datetime import timedelta
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from medblocks.sandbox import jsontext
from medblocks.sandbox.api import resources, webhooks
from medblocks.sandbox.api.validation import check_body
from medblocks.sandbox.asgi import authenticate, public_base_url, request_id_of
from medblocks.sandbox.clock import SandboxClock
from medblocks.sandbox.errors import (
    ApiError,
    error_body,
    invalid_data,
    method_not_allowed,
    not_found,
)
from medblocks.sandbox.hosted import outcomes
from medblocks.sandbox.levers import faults
from medblocks.sandbox.levers.schemas import body_validator
from medblocks.sandbox.runtime import SandboxRuntime
from medblocks.sandbox.storage.seed import seed_bulk_patients, seed_store

PREFIX = "/_sandbox"
MAX_BODY_BYTES = 64 * 1024


def _runtime(request: Request) -> SandboxRuntime:
    runtime: SandboxRuntime = request.app.state.sandbox
    return runtime


async def _body(request: Request, template: str) -> dict[str, Any]:
    """The JSON body, read as strictly as the API reads its bodies and validated against the
    overlay schema of `template` (the route path)."""
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError("invalid_request_error", "payload_too_large", "Body larger than 64 KB.")
    body = jsontext.parse_body(raw) if raw.strip() else {}
    check_body(body_validator(template, request.method), body)
    result: dict[str, Any] = body
    return result


Endpoint = Callable[[Request], Awaitable[Any]]


class _Control:
    """One control path as an ASGI app (so every method reaches it): authenticate with the
    sandbox key, run the endpoint of the method, answer its JSON or the error envelope
    (405 with `Allow` for a method the path does not serve)."""

    def __init__(self, endpoints: Mapping[str, Endpoint]) -> None:
        self.endpoints = endpoints
        self.allow = ", ".join(endpoints)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await self._answer(request)
        await response(scope, receive, send)

    async def _answer(self, request: Request) -> Response:
        try:
            authenticate(_runtime(request), request.scope)
            endpoint = self.endpoints.get(request.method)
            if endpoint is None:
                raise method_not_allowed(self.allow)
            payload = await endpoint(request)
        except ApiError as error:
            return Response(
                error_body(error, request_id_of(request.scope)),
                status_code=error.status,
                media_type="application/json",
                headers=error.headers,
            )
        return JSONResponse(payload)


# -- sessions and connections ------------------------------------------------------------------


async def complete_session(request: Request) -> dict[str, Any]:
    """Act as the patient: one attempt with the chosen outcome, then what the flow does next."""
    runtime = _runtime(request)
    body = await _body(request, "/_sandbox/patient-sessions/{id}/complete")
    store = runtime.store
    session = store.get_session(request.path_params["id"])
    if session is None:
        raise not_found("No patient session with this id.", "id")
    if not outcomes.session_is_open(runtime, session):
        status = resources.session_status(session, runtime.clock.now_iso())
        raise ApiError(
            "conflict_error", "resource_conflict", f"The session is {status}, not open.", param="id"
        )
    requested = body.get("connection_id") or session["connection_id"]
    if requested is None:
        raise invalid_data("connection_id is required for a picker-mode session.", "connection_id")
    source = store.get_source(requested)
    if source is None:
        raise not_found("No FHIR source with this id or fhir_base_url.", "connection_id")
    if session["mode"] == "direct" and source["id"] != session["connection_id"]:
        raise invalid_data("A direct-mode session connects its own source only.", "connection_id")
    outcome = _outcome(body, runtime.clock)
    base_url = public_base_url(runtime, request.scope)
    result = outcomes.record_attempt(runtime, session, source["id"], outcome, base_url)
    if session["mode"] == "picker":
        outcomes.complete_session(runtime, session, base_url)
        redirect = outcomes.picker_return(session)
    else:
        redirect = outcomes.direct_return(session, result)
    updated = store.get_session(session["id"])
    assert updated is not None
    return {
        "patient_session": resources.patient_session(
            updated, store, runtime.clock.now_iso(), base_url
        ),
        "redirect_url": redirect,
    }


def _outcome(body: dict[str, Any], clock: SandboxClock) -> outcomes.Outcome:
    code = body.get("failure_code")
    if body["outcome"] == "failed":
        if code is None:
            raise invalid_data("failure_code is required when outcome is failed.", "failure_code")
        return outcomes.Outcome.failed(code)
    if code is not None:
        raise invalid_data("failure_code is only allowed when outcome is failed.", "failure_code")
    seconds = body.get("refresh_fails_after_seconds")
    if seconds is not None:
        try:
            clock.later_by(seconds)
        except ValueError as exc:
            raise invalid_data(
                f"refresh_fails_after_seconds: {exc}.", "refresh_fails_after_seconds"
            ) from exc
    return outcomes.Outcome(
        "active",
        refresh_fails_after=None if seconds is None else timedelta(seconds=seconds),
        records_sync_fails=bool(body.get("records_sync_fails", False)),
    )


async def set_connection_status(request: Request) -> dict[str, Any]:
    runtime = _runtime(request)
    body = await _body(request, "/_sandbox/connections/{id}/status")
    connection = runtime.store.connection_by_id(request.path_params["id"])
    if connection is None:
        raise not_found("No patient connection with this id.", "id")
    status, code = body["status"], body.get("failure_code")
    if (status == "failed") != (code is not None):
        raise invalid_data(
            "failure_code is required with status failed, else not allowed.", "failure_code"
        )
    outcomes.force_connection_status(runtime, connection, status, code)
    updated = runtime.store.connection_by_id(connection["id"])
    assert updated is not None
    return resources.connection(updated)


# -- clock ---------------------------------------------------------------------------------------


def _clock_view(runtime: SandboxRuntime) -> dict[str, Any]:
    return {"now": runtime.clock.now_iso(), "offset_seconds": runtime.clock.offset_seconds}


async def read_clock(request: Request) -> dict[str, Any]:
    return _clock_view(_runtime(request))


async def advance_clock(request: Request) -> dict[str, Any]:
    """Move the sandbox clock forward, then run what fell due (refresh failures, deliveries)."""
    runtime = _runtime(request)
    body = await _body(request, "/_sandbox/clock/advance")
    try:
        runtime.clock.advance(body["seconds"])
    except ValueError as exc:
        raise invalid_data(f"seconds: {exc}.", "seconds") from exc
    await run_in_threadpool(outcomes.run_due_work, runtime)
    return _clock_view(runtime)


# -- data ----------------------------------------------------------------------------------------


async def reset(request: Request) -> dict[str, Any]:
    """Empty the sandbox (clock and faults included), then seed the catalog and the demo."""
    runtime = _runtime(request)
    body = await _body(request, "/_sandbox/reset")
    seed_demo = body.get("seed_demo", True)
    runtime.store.erase_everything()
    runtime.clock = SandboxClock(runtime.store)
    faults.forget(runtime)
    seed_store(runtime.store, runtime.clock, replace(runtime.config, seed_demo=seed_demo))
    webhooks.notify(runtime)
    return {"reset": True, "seed_demo": seed_demo, "now": runtime.clock.now_iso()}


async def seed(request: Request) -> dict[str, Any]:
    """Add `patients` synthetic patients with one connection each (once per reset)."""
    runtime = _runtime(request)
    body = await _body(request, "/_sandbox/seed")
    store = runtime.store
    if store.get_patient("bulk_000000") is not None:
        raise ApiError(
            "conflict_error",
            "resource_conflict",
            "Bulk patients are already seeded; POST /_sandbox/reset first.",
            param="patients",
        )
    sources = [row["id"] for row in store.all_sources()]
    seed_bulk_patients(
        store,
        random.Random(runtime.config.random_seed),
        runtime.clock.now(),
        sources,
        body["patients"],
    )
    return {"patients_added": body["patients"]}


# -- faults --------------------------------------------------------------------------------------


async def read_faults(request: Request) -> dict[str, Any]:
    return asdict(faults.state_for(_runtime(request)).faults)


async def put_faults(request: Request) -> dict[str, Any]:
    body = await _body(request, "/_sandbox/faults")
    chosen = faults.Faults.from_body(body)
    return asdict(faults.state_for(_runtime(request)).set(chosen))


async def clear_faults(request: Request) -> dict[str, Any]:
    return asdict(faults.state_for(_runtime(request)).set(faults.Faults()))


ROUTES: list[BaseRoute] = [
    Route(f"{PREFIX}{path}", _Control(endpoints))
    for path, endpoints in {
        "/patient-sessions/{id}/complete": {"POST": complete_session},
        "/connections/{id}/status": {"POST": set_connection_status},
        "/clock": {"GET": read_clock},
        "/clock/advance": {"POST": advance_clock},
        "/reset": {"POST": reset},
        "/seed": {"POST": seed},
        "/faults": {"GET": read_faults, "PUT": put_faults, "DELETE": clear_faults},
    }.items()
]
