"""The sandbox-only `/_sandbox/` controls, fault injection and the `Prefer: code=` header."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from medblocks.sandbox.hosted import outcomes
from medblocks.sandbox.runtime import SandboxRuntime
from medblocks.sandbox.storage import seed

ErrorCheck = Callable[..., dict[str, Any]]
RETURN_URL = "https://app.example.test/back"


def _source(api: httpx.Client, index: int = 0) -> str:
    source: str = api.get("/connections").json()["data"][index]["id"]
    return source


def _session(api: httpx.Client, **extra: Any) -> dict[str, Any]:
    body = {"patient_id": "ctl_1", "return_url": RETURN_URL, **extra}
    session: dict[str, Any] = api.post("/patient-sessions", json=body).json()
    return session


def _complete(api: httpx.Client, session_id: str, **body: Any) -> httpx.Response:
    return api.post(f"/_sandbox/patient-sessions/{session_id}/complete", json=body)


def test_controls_need_the_sandbox_key(raw: httpx.Client, assert_error: ErrorCheck):
    assert_error(raw.post("/_sandbox/reset"), 401, "authentication_error", "missing_api_key")
    wrong = raw.get("/_sandbox/faults", headers={"Authorization": "Bearer mb_sk_sbx_wrong"})
    assert_error(wrong, 401, "authentication_error", "invalid_api_key")


def test_control_bodies_are_validated(api: httpx.Client, assert_error: ErrorCheck):
    session = _session(api)
    assert_error(
        _complete(api, session["id"], outcome="maybe", connection_id=_source(api)),
        400,
        "invalid_request_error",
        "invalid_data",
        "outcome",
    )
    assert_error(
        _complete(api, session["id"], outcome="failed", connection_id=_source(api)),
        400,
        "invalid_request_error",
        "invalid_data",
        "failure_code",
    )
    assert_error(
        _complete(api, session["id"], outcome="active"),
        400,
        "invalid_request_error",
        "invalid_data",
        "connection_id",
    )
    bad_json = api.post(
        "/_sandbox/clock/advance", content=b"{", headers={"Content-Type": "application/json"}
    )
    # Malformed JSON is answered as the API answers it.
    assert_error(bad_json, 400, "invalid_request_error", "bad_request")
    assert_error(
        _complete(api, "ps_missing", outcome="active"),
        404,
        "not_found_error",
        "resource_not_found",
        "id",
    )


def test_complete_picker_session_headless(api: httpx.Client):
    session = _session(api)
    answer = _complete(api, session["id"], outcome="active", connection_id=_source(api))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["patient_session"]["status"] == "complete"
    assert body["patient_session"]["connections"][0]["status"] == "active"
    assert parse_qsl(urlsplit(body["redirect_url"]).query) == [
        ("patient_id", "ctl_1"),
        ("patient_session_id", session["id"]),
    ]
    assert api.get(f"/patient-sessions/{session['id']}").json() == body["patient_session"]
    again = _complete(api, session["id"], outcome="active", connection_id=_source(api))
    assert again.status_code == 409 and again.json()["error"]["code"] == "resource_conflict"


def test_complete_direct_session_headless_with_a_failure(api: httpx.Client):
    session = _session(api, connection_id=_source(api, 3))
    answer = _complete(api, session["id"], outcome="failed", failure_code="oauth_error")
    body = answer.json()
    assert body["patient_session"]["status"] == "open"
    [attempt] = body["patient_session"]["connections"]
    assert (attempt["id"], attempt["failure_code"]) == (None, "oauth_error")
    query = dict(parse_qsl(urlsplit(body["redirect_url"]).query))
    assert (query["success"], query["error"]) == ("false", "oauth_error")
    other = _complete(api, session["id"], outcome="active", connection_id=_source(api, 0))
    assert other.status_code == 400
    success = _complete(api, session["id"], outcome="active").json()
    assert success["patient_session"]["status"] == "complete"
    assert dict(parse_qsl(urlsplit(success["redirect_url"]).query))["success"] == "true"


@pytest.mark.parametrize(
    ("status", "failure_code"),
    [("failed", "token_exchange_failed"), ("expired", None), ("disconnected", None)],
)
def test_force_a_connection_status(api: httpx.Client, status: str, failure_code: str | None):
    session = _session(api)
    _complete(api, session["id"], outcome="active", connection_id=_source(api))
    [connection] = api.get("/patients/ctl_1").json()["connections"]
    body = {"status": status, **({"failure_code": failure_code} if failure_code else {})}
    forced = api.post(f"/_sandbox/connections/{connection['id']}/status", json=body)
    assert forced.status_code == 200, forced.text
    assert (forced.json()["status"], forced.json()["failure_code"]) == (status, failure_code)
    assert (forced.json()["failure_at"] is None) == (failure_code is None)
    assert api.get("/patients/ctl_1").json()["connections"][0] == forced.json()


def test_force_status_rules(api: httpx.Client, assert_error: ErrorCheck, runtime: SandboxRuntime):
    session = _session(api)
    _complete(api, session["id"], outcome="active", connection_id=_source(api))
    [connection] = api.get("/patients/ctl_1").json()["connections"]
    url = f"/_sandbox/connections/{connection['id']}/status"
    assert_error(
        api.post(url, json={"status": "failed"}),
        400,
        "invalid_request_error",
        "invalid_data",
        "failure_code",
    )
    assert_error(
        api.post(url, json={"status": "active", "failure_code": "user_denied"}),
        400,
        "invalid_request_error",
        "invalid_data",
        "failure_code",
    )
    assert_error(
        api.post("/_sandbox/connections/conn_missing/status", json={"status": "active"}),
        404,
        "not_found_error",
        "resource_not_found",
        "id",
    )
    refreshed = api.post(url, json={"status": "refresh_failed"}).json()
    assert (refreshed["status"], refreshed["failure_code"]) == ("refresh_failed", None)
    events = runtime.store.query(
        "SELECT data FROM webhook_events WHERE type = 'connection.token_refresh_failed'"
    )
    assert any(connection["id"] in row["data"] for row in events)


def test_clock_advance_expires_sessions_at_expires_at(api: httpx.Client, raw: httpx.Client):
    session = _session(api, expires_in=120)
    before = api.get("/_sandbox/clock").json()
    moved = api.post("/_sandbox/clock/advance", json={"seconds": 110}).json()
    assert moved["offset_seconds"] == before["offset_seconds"] + 110
    assert moved["now"] > before["now"]
    assert api.get(f"/patient-sessions/{session['id']}").json()["status"] == "open"
    api.post("/_sandbox/clock/advance", json={"seconds": 10})
    assert api.get(f"/patient-sessions/{session['id']}").json()["status"] == "expired"
    listed = api.get("/patients/ctl_1/patient-sessions", params={"status": "expired"}).json()
    assert [s["id"] for s in listed["data"]] == [session["id"]]
    assert raw.get(urlsplit(session["url"]).path).status_code == 410
    assert (
        _complete(api, session["id"], outcome="active", connection_id=_source(api)).status_code
        == 409
    )


def test_clock_advance_fires_scheduled_refresh_failures(
    api: httpx.Client, assert_error: ErrorCheck
):
    session = _session(api)
    _complete(
        api,
        session["id"],
        outcome="active",
        connection_id=_source(api),
        refresh_fails_after_seconds=600,
    )
    api.post("/_sandbox/clock/advance", json={"seconds": 590})
    assert api.get("/patients/ctl_1").json()["connections"][0]["status"] == "active"
    api.post("/_sandbox/clock/advance", json={"seconds": 10})
    [connection] = api.get("/patients/ctl_1").json()["connections"]
    assert (connection["status"], connection["failure_code"]) == ("refresh_failed", None)
    backwards = api.post("/_sandbox/clock/advance", json={"seconds": -1})
    assert_error(backwards, 400, "invalid_request_error", "invalid_data", "seconds")


def test_reset_empties_and_reseeds(api: httpx.Client):
    demo_patients = api.get("/patients", params={"limit": 100}).json()["data"]
    assert demo_patients
    _session(api)
    api.post("/_sandbox/clock/advance", json={"seconds": 3600})
    api.put("/_sandbox/faults", json={"latency_ms": 5})
    reset = api.post("/_sandbox/reset")
    assert reset.status_code == 200 and reset.json()["seed_demo"] is True
    assert api.get("/patients/ctl_1").status_code == 404
    again = api.get("/patients", params={"limit": 100}).json()["data"]
    assert [p["id"] for p in again] == [p["id"] for p in demo_patients]
    assert api.get("/_sandbox/clock").json()["offset_seconds"] == 0
    assert api.get("/_sandbox/faults").json()["latency_ms"] == 0
    empty = api.post("/_sandbox/reset", json={"seed_demo": False})
    assert empty.json()["seed_demo"] is False
    assert api.get("/patients").json()["data"] == []
    assert api.get("/connections").json()["data"], "the catalog is always there"


def test_seed_adds_bulk_patients_once(api: httpx.Client, assert_error: ErrorCheck):
    api.post("/_sandbox/reset", json={"seed_demo": False})
    seeded = api.post("/_sandbox/seed", json={"patients": 25})
    assert seeded.json() == {"patients_added": 25}
    listed = api.get("/patients", params={"limit": 100}).json()["data"]
    assert len(listed) == 25 and all(p["id"].startswith("bulk_") for p in listed)
    assert_error(
        api.post("/_sandbox/seed", json={"patients": 5}),
        409,
        "conflict_error",
        "resource_conflict",
        "patients",
    )


# -- faults --------------------------------------------------------------------------------------


def test_rate_limit_burst_answers_429_with_retry_after(
    api: httpx.Client, raw: httpx.Client, assert_error: ErrorCheck
):
    set_faults = api.put("/_sandbox/faults", json={"rate_limit_burst": 2, "retry_after": 7})
    assert set_faults.json() == {
        "latency_ms": 0,
        "error_rate": 0.0,
        "rate_limit_burst": 2,
        "retry_after": 7,
        "rate_limit_per_second": 0,
    }
    # Controls and hosted pages are not API routes: no fault applies there.
    assert api.get("/_sandbox/faults").status_code == 200
    assert raw.get("/c/" + "0" * 32).status_code == 404
    for _ in range(2):
        throttled = api.get("/patients")
        assert_error(throttled, 429, "rate_limit_error", "throttled")
        assert throttled.headers["retry-after"] == "7"
    assert api.get("/patients").status_code == 200
    assert api.get("/_sandbox/faults").json()["rate_limit_burst"] == 0


def test_error_rate_answers_documented_5xx(api: httpx.Client, assert_error: ErrorCheck):
    api.put("/_sandbox/faults", json={"error_rate": 1})
    seen = set()
    for _ in range(30):
        response = api.get("/connections")
        expected = {500: ("api_error", "internal_error"), 502: ("ehr_error", "fhir_error")}
        assert response.status_code in expected
        assert_error(response, response.status_code, *expected[response.status_code])
        seen.add(response.status_code)
    assert seen == {500, 502}
    cleared = api.delete("/_sandbox/faults").json()
    assert cleared["error_rate"] == 0
    assert api.get("/connections").status_code == 200


def test_latency_is_added_to_api_requests_only(api: httpx.Client):
    api.put("/_sandbox/faults", json={"latency_ms": 600})
    started = time.monotonic()
    assert api.get("/connections").status_code == 200
    assert time.monotonic() - started >= 0.6
    started = time.monotonic()
    api.get("/_sandbox/faults")
    assert time.monotonic() - started < 0.6


DOCUMENTED = [
    (400, "invalid_request_error", "bad_request"),
    (401, "authentication_error", "invalid_api_key"),
    (402, "billing_error", "feature_not_enabled"),
    (403, "permission_error", "forbidden"),
    (404, "not_found_error", "resource_not_found"),
    (409, "conflict_error", "resource_conflict"),
    (413, "invalid_request_error", "payload_too_large"),
    (429, "rate_limit_error", "throttled"),
    (500, "api_error", "internal_error"),
    (502, "ehr_error", "fhir_error"),
]


@pytest.mark.parametrize(("status", "type_", "code"), DOCUMENTED)
def test_prefer_forces_one_documented_error(
    api: httpx.Client, assert_error: ErrorCheck, status: int, type_: str, code: str
):
    forced = api.get("/patients", headers={"Prefer": f"code={status}"})
    assert_error(forced, status, type_, code)
    if status == 429:
        assert forced.headers["retry-after"] == "1"
    assert api.get("/patients").status_code == 200, "only the one request"


def test_prefer_extras_and_unknown_codes(api: httpx.Client, assert_error: ErrorCheck):
    forced = api.post(
        "/patients", json={"patient_id": "p"}, headers={"Prefer": "code=409, example=duplicate"}
    )
    assert_error(forced, 409, "conflict_error", "resource_conflict")
    assert api.get("/patients/p").status_code == 404, "the forced request did nothing"
    assert api.get("/patients", headers={"Prefer": "code=200"}).status_code == 200
    assert_error(
        api.get("/patients", headers={"Prefer": "code=418"}),
        400,
        "invalid_request_error",
        "bad_request",
        "Prefer",
    )
    assert api.get("/_sandbox/clock", headers={"Prefer": "code=500"}).status_code == 200


def test_another_method_on_a_control_is_405_in_the_envelope(
    api: httpx.Client, assert_error: ErrorCheck
):
    answer = api.get("/_sandbox/reset")
    assert_error(answer, 405, "invalid_request_error", "bad_request")
    assert answer.headers["allow"] == "POST"
    assert api.patch("/_sandbox/faults").headers["allow"] == "GET, PUT, DELETE"


def test_the_seeded_failure_codes_are_ones_the_controls_accept():
    assert set(seed.SEEDED_FAILURE_CODES) <= set(outcomes.FAILURE_CODES)
    assert {p.approve.failure_code for p in outcomes.PERSONAS.values()} - {None} <= set(
        outcomes.FAILURE_CODES
    )
