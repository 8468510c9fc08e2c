"""Patient sessions, the FHIR source catalog and launch contexts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from medblocks.in_process import IN_PROCESS_BASE_URL
from medblocks.sandbox.runtime import SandboxRuntime

ErrorCheck = Callable[..., dict[str, Any]]
RETURN_URL = "https://app.example.test/medblocks/return?from=tests"


def _sources(api: httpx.Client) -> list[dict[str, Any]]:
    sources: list[dict[str, Any]] = api.get("/connections", params={"limit": 100}).json()["data"]
    return sources


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_picker_session_defaults(api: httpx.Client):
    source = _sources(api)[0]["id"]
    response = api.post(
        "/patient-sessions",
        json={"patient_id": "s1", "return_url": RETURN_URL, "recommended_connection_ids": [source]},
    )
    assert response.status_code == 200
    session = response.json()
    assert session["id"].startswith("ps_") and len(session["id"]) == 3 + 26
    assert session["status"] == "open"
    assert session["url"].startswith(f"{IN_PROCESS_BASE_URL}/c/")
    assert len(session["url"].rsplit("/", 1)[1]) == 32
    assert session["return_url"] == RETURN_URL
    assert (session["connection_id"], session["recommended_connection_ids"]) == (None, [source])
    assert (session["return_button_label"], session["connections"]) == (None, [])
    lifetime = _when(session["expires_at"]) - _when(session["created_at"])
    assert lifetime == timedelta(seconds=1800)


def test_direct_session_by_fhir_base_url_resolves_the_source(api: httpx.Client):
    source = _sources(api)[3]
    session = api.post(
        "/patient-sessions",
        json={
            "patient_id": "s2",
            "return_url": RETURN_URL,
            "connection_id": source["fhir_base_url"],
            "expires_in": 60,
            "return_button_label": "Acme",
        },
    ).json()
    assert session["connection_id"] == source["id"]
    assert session["recommended_connection_ids"] is None
    assert _when(session["expires_at"]) - _when(session["created_at"]) == timedelta(seconds=60)


def test_session_creation_upserts_the_patient(api: httpx.Client):
    api.post(
        "/patient-sessions",
        json={
            "patient_id": "s3",
            "return_url": RETURN_URL,
            "patient_email": "first@example.test",
            "patient_name": "First",
        },
    )
    patient = api.get("/patients/s3").json()
    assert (patient["email"], patient["name"]) == ("first@example.test", "First")
    api.post(
        "/patient-sessions",
        json={"patient_id": "s3", "return_url": RETURN_URL, "patient_email": "second@example.test"},
    )
    patient = api.get("/patients/s3").json()
    assert (patient["email"], patient["name"]) == ("second@example.test", "First")


def test_unknown_source_ids_are_404_naming_the_param(api: httpx.Client, assert_error: ErrorCheck):
    base = {"patient_id": "s4", "return_url": RETURN_URL}
    response = api.post("/patient-sessions", json={**base, "connection_id": "fhirsrc_nope"})
    assert_error(response, 404, "not_found_error", "resource_not_found", param="connection_id")
    response = api.post(
        "/patient-sessions", json={**base, "recommended_connection_ids": ["fhirsrc_nope"]}
    )
    assert_error(
        response, 404, "not_found_error", "resource_not_found", param="recommended_connection_ids"
    )
    assert api.get("/patients/s4").status_code == 404


def test_session_expires_when_the_clock_passes_expires_at(
    api: httpx.Client, runtime: SandboxRuntime
):
    session = api.post(
        "/patient-sessions", json={"patient_id": "s5", "return_url": RETURN_URL, "expires_in": 60}
    ).json()
    runtime.clock.advance(59)
    assert api.get(f"/patient-sessions/{session['id']}").json()["status"] == "open"
    runtime.clock.advance(1)
    assert api.get(f"/patient-sessions/{session['id']}").json()["status"] == "expired"
    listed = api.get("/patients/s5/patient-sessions", params={"status": "expired"}).json()
    assert [s["id"] for s in listed["data"]] == [session["id"]]
    assert api.get("/patients/s5/patient-sessions", params={"status": "open"}).json()["data"] == []


def test_list_sessions_filters_by_status(api: httpx.Client):
    for status in ("open", "complete", "expired"):
        page = api.get(
            "/patients/user_1001/patient-sessions", params={"status": status, "limit": 100}
        ).json()
        assert page["data"], status
        assert {s["status"] for s in page["data"]} == {status}


def test_completed_session_lists_its_attempts_failed_ones_with_null_id(api: httpx.Client):
    sessions = api.get("/patients/user_1003/patient-sessions", params={"limit": 100}).json()
    attempts = [a for s in sessions["data"] for a in s["connections"]]
    assert attempts and attempts[0]["status"] == "failed"
    assert attempts[0]["id"] is None and attempts[0]["failure_code"]


def test_list_sessions_for_unknown_patient_is_404(api: httpx.Client, assert_error: ErrorCheck):
    response = api.get("/patients/nobody/patient-sessions")
    assert_error(response, 404, "not_found_error", "resource_not_found", param="id")


def test_unknown_session_is_404(api: httpx.Client, assert_error: ErrorCheck):
    response = api.get("/patient-sessions/ps_nope")
    assert_error(response, 404, "not_found_error", "resource_not_found", param="id")


def test_catalog_has_at_least_12_sources_across_vendors(api: httpx.Client):
    sources = _sources(api)
    assert len(sources) >= 12
    assert {"epic", "cerner", "athena", "meditech"} <= {s["type"] for s in sources}
    for source in sources:
        assert source["id"].startswith("fhirsrc_")
        assert ".example.test/" in source["fhir_base_url"]
        assert source["logo_url"] is None or source["logo_url"].startswith("data:")


def test_catalog_q_is_a_case_insensitive_substring_of_the_name(api: httpx.Client):
    names = [s["name"] for s in api.get("/connections", params={"q": "HOSP"}).json()["data"]]
    assert names and all("hosp" in name.lower() for name in names)


def test_catalog_type_filter_is_exact(api: httpx.Client):
    data = api.get("/connections", params={"type": "epic", "limit": 100}).json()["data"]
    assert data and {s["type"] for s in data} == {"epic"}
    assert api.get("/connections", params={"type": "EPIC"}).json()["data"] == []


def test_catalog_pages_with_cursors(api: httpx.Client):
    first = api.get("/connections", params={"limit": 5}).json()
    second = api.get(
        "/connections", params={"limit": 5, "starting_after": first["next_cursor"]}
    ).json()
    ids = [s["id"] for s in first["data"] + second["data"]]
    assert len(set(ids)) == 10
    assert ids == [s["id"] for s in _sources(api)[:10]]


def test_get_source_by_id_and_by_encoded_fhir_base_url(api: httpx.Client):
    source = _sources(api)[2]
    assert api.get(f"/connections/{source['id']}").json() == source
    by_url = api.get(f"/connections/{quote(source['fhir_base_url'], safe='')}")
    assert by_url.status_code == 200
    assert by_url.json() == source


def test_unknown_source_is_404(api: httpx.Client, assert_error: ErrorCheck):
    response = api.get("/connections/fhirsrc_nope")
    assert_error(response, 404, "not_found_error", "resource_not_found", param="id")


def test_seeded_launch_context_is_readable(api: httpx.Client, runtime: SandboxRuntime):
    context_id = runtime.store.query_one("SELECT id FROM launch_contexts")["id"]  # type: ignore[index]
    context = api.get(f"/launch-contexts/{context_id}").json()
    assert context["resource_type"] == "launch_context"
    assert context["status"] == "ready"
    assert context["patient"].startswith("Patient/")


def test_unknown_launch_context_is_404(api: httpx.Client, assert_error: ErrorCheck):
    response = api.get("/launch-contexts/00000000-0000-4000-8000-000000000000")
    assert_error(response, 404, "not_found_error", "resource_not_found", param="id")


def test_session_lists_page_newest_first(api: httpx.Client):
    created = [
        api.post("/patient-sessions", json={"patient_id": "s6", "return_url": RETURN_URL}).json()
        for _ in range(3)
    ]
    first = api.get("/patients/s6/patient-sessions", params={"limit": 2}).json()
    second = api.get(
        "/patients/s6/patient-sessions", params={"starting_after": first["next_cursor"]}
    ).json()
    listed = [s["id"] for s in first["data"] + second["data"]]
    assert listed == [s["id"] for s in reversed(created)]
    assert second["has_more"] is False


async def test_session_url_uses_the_base_url_the_caller_used(sandbox_app: Any, api_key: str):
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox_app),
        base_url="https://sandbox.example.test:8443",
        headers={"Authorization": f"Bearer {api_key}"},
    ) as client:
        body = {"patient_id": "s7", "return_url": RETURN_URL}
        session = (await client.post("/patient-sessions", json=body)).json()
    assert session["url"].startswith("https://sandbox.example.test:8443/c/")
