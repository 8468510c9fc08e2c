"""Patients: create, list with cursors and filters, detail, full replace, delete, disconnect."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

ErrorCheck = Callable[..., dict[str, Any]]


def test_create_returns_the_patient_with_200(api: httpx.Client):
    response = api.post(
        "/patients",
        json={
            "patient_id": "user_42",
            "email": "jane@example.test",
            "name": "Jane",
            "metadata": {"a": 1},
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == "user_42"
    assert body["resource_type"] == "patient"
    assert (body["email"], body["name"], body["metadata"]) == (
        "jane@example.test",
        "Jane",
        {"a": 1},
    )
    assert body["created_at"].endswith("Z")


def test_duplicate_patient_id_is_409(api: httpx.Client, assert_error: ErrorCheck):
    assert api.post("/patients", json={"patient_id": "dup"}).status_code == 200
    response = api.post("/patients", json={"patient_id": "dup"})
    assert_error(response, 409, "conflict_error", "external_id_already_exists", param="patient_id")


def test_omitted_optional_fields_are_null_and_metadata_empty(api: httpx.Client):
    body = api.post("/patients", json={"patient_id": "bare"}).json()
    assert (body["email"], body["name"], body["metadata"]) == (None, None, {})


def test_list_pages_stay_correct_when_rows_are_inserted_between_pages(api: httpx.Client):
    seen: list[str] = []
    first = api.get("/patients", params={"limit": 4}).json()
    seen += [p["id"] for p in first["data"]]
    assert first["has_more"] is True and first["next_cursor"]
    for index in range(3):
        assert api.post("/patients", json={"patient_id": f"late_{index}"}).status_code == 200
    cursor = first["next_cursor"]
    while cursor:
        page = api.get("/patients", params={"limit": 7, "starting_after": cursor}).json()
        seen += [p["id"] for p in page["data"]]
        assert (page["next_cursor"] is None) == (page["has_more"] is False)
        cursor = page["next_cursor"]
    assert len(seen) == len(set(seen)) == 28
    assert not any(s.startswith("late_") for s in seen)


def test_default_limit_is_10_and_last_page_has_no_cursor(api: httpx.Client):
    page = api.get("/patients").json()
    assert set(page) == {"resource_type", "data", "has_more", "next_cursor"}
    assert len(page["data"]) == 10
    last = api.get("/patients", params={"limit": 100}).json()
    assert (last["has_more"], last["next_cursor"]) == (False, None)


def test_unknown_cursor_is_404_naming_starting_after(api: httpx.Client, assert_error: ErrorCheck):
    response = api.get("/patients", params={"starting_after": "user_1000"})
    assert_error(response, 404, "not_found_error", "resource_not_found", param="starting_after")


def test_filters_are_exact_matches(api: httpx.Client):
    api.post("/patients", json={"patient_id": "f1", "email": "same@example.test"})
    api.post("/patients", json={"patient_id": "f2", "email": "same@example.test"})
    by_email = api.get("/patients", params={"email": "same@example.test"}).json()["data"]
    assert sorted(p["id"] for p in by_email) == ["f1", "f2"]
    assert api.get("/patients", params={"email": "same@example"}).json()["data"] == []
    by_id = api.get("/patients", params={"patient_id": "f1"}).json()["data"]
    assert [p["id"] for p in by_id] == ["f1"]
    assert api.get("/patients", params={"patient_id": "f"}).json()["data"] == []


def test_detail_lists_every_connection_most_recent_first(api: httpx.Client):
    detail = api.get("/patients/user_1002").json()
    connections = detail["connections"]
    assert len(connections) == 2
    assert connections[0]["created_at"] >= connections[1]["created_at"]
    for connection in connections:
        assert connection["id"].startswith("conn_")
        assert connection["connection_id"].startswith("fhirsrc_")
    assert (
        "connections"
        not in api.get("/patients", params={"patient_id": "user_1002"}).json()["data"][0]
    )


def test_put_is_a_full_replace(api: httpx.Client):
    api.post(
        "/patients",
        json={"patient_id": "rep", "email": "r@example.test", "name": "R", "metadata": {"k": 1}},
    )
    body = api.put("/patients/rep", json={"patient_id": "rep", "name": "New"}).json()
    assert (body["email"], body["name"], body["metadata"]) == (None, "New", {})
    body = api.put("/patients/rep", json={"patient_id": "rep", "email": None, "name": None}).json()
    assert (body["email"], body["name"]) == (None, None)


def test_put_with_a_different_patient_id_is_400(api: httpx.Client, assert_error: ErrorCheck):
    api.post("/patients", json={"patient_id": "keep"})
    response = api.put("/patients/keep", json={"patient_id": "other"})
    assert_error(response, 400, "invalid_request_error", "invalid_data", param="patient_id")


def test_put_unknown_patient_is_404(api: httpx.Client, assert_error: ErrorCheck):
    response = api.put("/patients/ghost", json={"patient_id": "ghost"})
    assert_error(response, 404, "not_found_error", "resource_not_found", param="id")


def test_put_may_share_an_email_with_another_patient(api: httpx.Client):
    api.post("/patients", json={"patient_id": "e1", "email": "shared@example.test"})
    api.post("/patients", json={"patient_id": "e2"})
    response = api.put("/patients/e2", json={"patient_id": "e2", "email": "shared@example.test"})
    assert response.status_code == 200


def test_delete_is_a_tombstone_and_removes_connections_and_sessions(
    api: httpx.Client, assert_error: ErrorCheck
):
    sessions = api.get("/patients/user_1000/patient-sessions").json()["data"]
    response = api.delete("/patients/user_1000")
    assert response.status_code == 200
    assert response.json() == {"id": "user_1000", "resource_type": "patient", "deleted": True}
    assert_error(
        api.get("/patients/user_1000"), 404, "not_found_error", "resource_not_found", param="id"
    )
    assert_error(
        api.get(f"/patient-sessions/{sessions[0]['id']}"),
        404,
        "not_found_error",
        "resource_not_found",
        param="id",
    )
    assert api.post("/patients", json={"patient_id": "user_1000"}).status_code == 200
    assert api.get("/patients/user_1000").json()["connections"] == []


def test_disconnect_sets_disconnected(api: httpx.Client):
    connection = api.get("/patients/user_1000").json()["connections"][0]
    assert connection["status"] == "active"
    response = api.delete(f"/patients/user_1000/connections/{connection['id']}")
    assert response.status_code == 200
    assert response.json() == {
        "id": connection["id"],
        "resource_type": "connection",
        "disconnected": True,
    }
    after = api.get("/patients/user_1000").json()["connections"][0]
    assert (after["status"], after["failure_code"], after["failure_at"]) == (
        "disconnected",
        None,
        None,
    )


def test_disconnect_unknown_connection_is_404(api: httpx.Client, assert_error: ErrorCheck):
    response = api.delete("/patients/user_1000/connections/conn_nope")
    assert_error(response, 404, "not_found_error", "resource_not_found", param="connection_id")


def test_demo_patients_cover_every_connection_status(api: httpx.Client):
    statuses: set[str] = set()
    failure_codes: set[str] = set()
    for patient in api.get("/patients", params={"limit": 100}).json()["data"]:
        for connection in api.get(f"/patients/{patient['id']}").json()["connections"]:
            statuses.add(connection["status"])
            if connection["status"] == "failed":
                failure_codes.add(connection["failure_code"])
                assert connection["failure_at"]
            else:
                assert connection["failure_code"] is None and connection["failure_at"] is None
    assert statuses == {"active", "failed", "refresh_failed", "expired", "disconnected"}
    assert len(failure_codes) >= 2
