"""Hand-written requests of the error and behaviour tests: each call is recorded in the run
(status codes per operation) and each expectation is a named check, so a failure in the report
names the operation, the check and the request id."""

from __future__ import annotations

from collections.abc import Collection
from functools import lru_cache
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from jsonschema import Draft202012Validator

from contract_tests.run import RunState
from medblocks.spec import dereferenced_pinned

ANY = object()
RETURN_URL = "https://example.test/connected"
SANDBOX_CONTROLS = "/_sandbox"


@lru_cache(maxsize=1)
def _envelope_validator() -> Draft202012Validator:
    schema = dereferenced_pinned()["components"]["schemas"]["ErrorEnvelope"]
    return Draft202012Validator(schema)


def path_id(value: str) -> str:
    return quote(value, safe="")


class Expectation:
    """Collects what one response got wrong; `verify` records the outcome and raises."""

    def __init__(
        self, state: RunState, operation: str, check: str, response: httpx.Response | None
    ):
        self.state = state
        self.operation = operation
        self.check = check
        self.response = response
        self.problems: list[str] = []
        if response is not None:
            state.saw(operation, response.status_code)
            if not self.request_id and state.request_id_missing(operation):
                self.problems.append(
                    "no X-Request-Id header (request_id_echoed; counted, not failed again, "
                    "on later answers)"
                )

    @property
    def request_id(self) -> str | None:
        return None if self.response is None else self.response.headers.get("x-request-id")

    def body(self) -> Any:
        try:
            return None if self.response is None else self.response.json()
        except ValueError:
            return None

    def require(self, condition: bool, problem: str) -> None:
        if not condition:
            self.problems.append(problem)

    def verify(self) -> None:
        if not self.problems:
            self.state.passed(self.operation, self.check)
            return
        message = f"{self.operation}: {self.check}: " + "; ".join(self.problems)
        response = self.response
        self.state.fail(
            self.operation,
            self.check,
            message,
            self.request_id,
            status=None if response is None else response.status_code,
            curl=None if response is None else self.state.curl(response.request),
        )
        raise AssertionError(f"{message} (request id {self.request_id})")


def expect_error(
    state: RunState,
    operation: str,
    response: httpx.Response,
    *,
    status: int,
    type_: str,
    code: str | Collection[str],
    param: object = ANY,
) -> dict[str, Any]:
    """The documented error: status, type, code, param, the envelope's shape, and
    `X-Request-Id` equal to `error.request_id`. `param` may be a value or a set of values."""
    codes = {code} if isinstance(code, str) else set(code)
    expectation = Expectation(
        state, operation, f"documented_error:{'/'.join(sorted(codes))}", response
    )
    expectation.require(
        response.status_code == status, f"status {response.status_code}, expected {status}"
    )
    body = expectation.body()
    shape_errors = [e.message for e in _envelope_validator().iter_errors(body)]
    expectation.require(not shape_errors, f"not the error envelope: {shape_errors[:3]}")
    error = body.get("error", {}) if isinstance(body, dict) else {}
    error = error if isinstance(error, dict) else {}
    expectation.require(
        error.get("type") == type_, f"type {error.get('type')!r}, expected {type_!r}"
    )
    expectation.require(
        error.get("code") in codes, f"code {error.get('code')!r}, expected {sorted(codes)}"
    )
    if param is not ANY:
        allowed = param if isinstance(param, (set, frozenset)) else {param}
        expectation.require(
            error.get("param") in allowed, f"param {error.get('param')!r}, expected {allowed}"
        )
    header = expectation.request_id
    if header:
        expectation.require(
            error.get("request_id") == header,
            f"error.request_id {error.get('request_id')!r} != X-Request-Id {header!r}",
        )
    expectation.verify()
    return error


def expect_ok(state: RunState, operation: str, check: str, response: httpx.Response) -> Any:
    """A 200 with a JSON body (and `X-Request-Id`); returns the body."""
    expectation = Expectation(state, operation, check, response)
    expectation.require(
        response.status_code == 200,
        f"status {response.status_code}, expected 200: {response.text[:300]}",
    )
    expectation.verify()
    return response.json()


def behaviour(
    state: RunState, operation: str, check: str, response: httpx.Response | None = None
) -> Expectation:
    """An expectation the caller fills with `require(...)` and closes with `verify()`;
    `response` is the one it is about, when there is a single one."""
    return Expectation(state, operation, check, response)


def skip_for_time(state: RunState, nodeid: str) -> None:
    """Skip a test the budget left no time for: listed as not run, and the run is not green."""
    why = f"time budget of {state.budget_seconds:.0f}s exhausted before it started"
    state.not_run[nodeid] = why
    pytest.skip(why)


def keep_if_created(state: RunState, response: httpx.Response, patient_id: str) -> None:
    """A request meant to be refused that created the patient anyway (200) leaves it for
    clean-up, not behind."""
    if response.status_code == 200:
        state.created_patient(patient_id)


def create_patient(api: httpx.Client, state: RunState, name: str, **fields: Any) -> dict[str, Any]:
    """A run-prefixed patient (recorded for clean-up)."""
    patient_id = state.patient_id(name, unique=True)
    response = api.post("/patients", json={"patient_id": patient_id, **fields})
    body = expect_ok(state, "api.createPatient", "create_run_patient", response)
    state.created_patient(patient_id)
    return body


def create_webhook(api: httpx.Client, state: RunState, url: str) -> dict[str, Any]:
    """A webhook endpoint for every event (recorded for clean-up)."""
    response = api.post("/webhooks", json={"url": url, "events": ["*"]})
    body = expect_ok(state, "api.createWebhook", "create_run_webhook", response)
    state.created_webhook(body["id"])
    return body


def connected_session(
    api: httpx.Client, state: RunState, name: str, source_id: str
) -> dict[str, Any]:
    """A direct-mode session for a new run patient, completed with an active connection
    through the sandbox controls; skips on a target without them (a real Medblocks workspace:
    connecting an EHR there takes a person in a browser)."""
    patient_id = state.patient_id(name, unique=True)
    body = {"patient_id": patient_id, "return_url": RETURN_URL, "connection_id": source_id}
    response = api.post("/patient-sessions", json=body)
    session = expect_ok(state, "api.initPatientSession", "create_run_session", response)
    state.created_patient(patient_id)
    state.created_session(session)
    completed = api.post(
        f"{SANDBOX_CONTROLS}/patient-sessions/{path_id(session['id'])}/complete",
        json={"outcome": "active"},
    )
    if completed.status_code == 404:
        pytest.skip("this target has no sandbox controls to connect an EHR without a browser")
    assert completed.status_code == 200, f"sandbox control: {completed.text[:400]}"
    return dict(session)


def webhook_event(api: httpx.Client, state: RunState, source_id: str) -> dict[str, Any]:
    """An event delivered to an endpoint this run owns (never someone else's endpoint)."""
    endpoint = create_webhook(api, state, "http://localhost:9/contract-run")
    connected_session(api, state, "webhook-event", source_id)
    response = api.get(f"/webhooks/{path_id(endpoint['id'])}/events")
    events = expect_ok(state, "api.listWebhookEvents", "run_endpoint_has_events", response)
    assert events["data"], "api.listWebhookEvents: a completed session made no event for '*'"
    return dict(events["data"][0])
