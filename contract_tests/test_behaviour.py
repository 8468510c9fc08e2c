"""Behaviour the schema cannot express: pagination returns every item once, `limit` bounds,
session creation upserts the patient, deletes answer tombstones, disconnect changes the status."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from contract_tests.calls import (
    RETURN_URL,
    behaviour,
    connected_session,
    create_patient,
    create_webhook,
    expect_error,
    expect_ok,
    path_id,
)
from contract_tests.run import RunState

MAX_PAGES = 500


def walk(
    api: httpx.Client, state: RunState, operation: str, path: str, limit: int
) -> list[dict[str, Any]]:
    """Every item of a list, page by page through `next_cursor`, checking the page contract:
    at most `limit` items, `has_more` true exactly when `next_cursor` is set."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        params: dict[str, Any] = {"limit": limit}
        if cursor is not None:
            params["starting_after"] = cursor
        response = api.get(path, params=params)
        page = expect_ok(state, operation, "pagination_page", response)
        check = behaviour(state, operation, "pagination_page_contract", response)
        check.require(len(page["data"]) <= limit, f"{len(page['data'])} items > limit {limit}")
        check.require(
            page["has_more"] == (page["next_cursor"] is not None),
            f"has_more {page['has_more']} with next_cursor {page['next_cursor']!r}",
        )
        check.require(bool(page["data"]) or not page["has_more"], "an empty page claims has_more")
        check.verify()
        items += page["data"]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return items
    pytest.fail(f"{operation}: pagination: more than {MAX_PAGES} pages")


def test_pagination_returns_every_patient_once(api: httpx.Client, state: RunState) -> None:
    mine = {create_patient(api, state, f"page-{n}")["id"] for n in range(5)}
    items = walk(api, state, "api.listPatients", "/patients", limit=3)
    ids = [item["id"] for item in items]
    check = behaviour(state, "api.listPatients", "pagination_every_item_once")
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    check.require(not duplicates, f"items returned twice: {duplicates[:5]}")
    check.require(mine <= set(ids), f"items never returned: {sorted(mine - set(ids))}")
    check.verify()


def test_pagination_of_the_catalog_matches_one_big_page(api: httpx.Client, state: RunState) -> None:
    small = [s["id"] for s in walk(api, state, "api.listFhirSources", "/connections", limit=2)]
    big = [s["id"] for s in walk(api, state, "api.listFhirSources", "/connections", limit=100)]
    check = behaviour(state, "api.listFhirSources", "pagination_every_item_once")
    check.require(len(small) == len(set(small)), "a source was returned twice")
    check.require(set(small) == set(big), "pages of 2 and pages of 100 list different sources")
    check.verify()


@pytest.mark.parametrize("limit", [1, 10, 100])
def test_limit_bounds_the_page(api: httpx.Client, state: RunState, limit: int) -> None:
    response = api.get("/patients", params={"limit": limit})
    page = expect_ok(state, "api.listPatients", "limit_in_range_accepted", response)
    check = behaviour(state, "api.listPatients", "limit_bounds_page", response)
    check.require(len(page["data"]) <= limit, f"{len(page['data'])} items for limit={limit}")
    check.verify()


def test_default_limit_is_ten(api: httpx.Client, state: RunState) -> None:
    for n in range(11):
        create_patient(api, state, f"default-limit-{n}")
    response = api.get("/patients")
    page = expect_ok(state, "api.listPatients", "default_limit", response)
    check = behaviour(state, "api.listPatients", "default_limit_is_10", response)
    check.require(len(page["data"]) == 10, f"{len(page['data'])} items without a limit")
    check.verify()


@pytest.mark.parametrize("limit", [0, 101])
def test_limit_out_of_range_is_refused(api: httpx.Client, state: RunState, limit: int) -> None:
    expect_error(
        state,
        "api.listPatients",
        api.get("/patients", params={"limit": limit}),
        status=400,
        type_="invalid_request_error",
        code={"invalid_data", "bad_request"},
        param="limit",
    )


def test_session_creation_upserts_the_patient(api: httpx.Client, state: RunState) -> None:
    patient_id = state.patient_id("upserted", unique=True)
    first = {
        "patient_id": patient_id,
        "return_url": RETURN_URL,
        "patient_name": "Contract Upsert",
        "patient_email": "upsert@example.test",
    }
    session = expect_ok(
        state,
        "api.initPatientSession",
        "session_upserts",
        api.post("/patient-sessions", json=first),
    )
    state.created_patient(patient_id)
    state.created_session(session)
    response = api.get(f"/patients/{path_id(patient_id)}")
    patient = expect_ok(state, "api.getPatient", "upserted_patient_exists", response)
    check = behaviour(state, "api.initPatientSession", "session_upserts_patient", response)
    check.require(session["patient_id"] == patient_id, "session names another patient")
    check.require(patient["name"] == "Contract Upsert", "patient_name not stored")
    check.require(patient["email"] == "upsert@example.test", "patient_email not stored")
    check.verify()
    second = {**first, "patient_name": "Contract Renamed"}
    again = expect_ok(
        state,
        "api.initPatientSession",
        "session_upserts",
        api.post("/patient-sessions", json=second),
    )
    state.created_session(again)
    response = api.get(f"/patients/{path_id(patient_id)}")
    patient = expect_ok(state, "api.getPatient", "upserted_patient_exists", response)
    check = behaviour(state, "api.initPatientSession", "session_overwrites_patient_name", response)
    check.require(patient["name"] == "Contract Renamed", "a second session did not overwrite")
    check.verify()


def _deleted_is_a_tombstone_then_404(
    api: httpx.Client, state: RunState, collection: str, identifier: str, resource_type: str
) -> None:
    noun = "Patient" if collection == "patients" else "Webhook"
    delete_op, get_op = f"api.delete{noun}", f"api.get{noun}"
    response = api.delete(f"/{collection}/{path_id(identifier)}")
    body = expect_ok(state, delete_op, "delete", response)
    check = behaviour(state, delete_op, "tombstone", response)
    check.require(
        body == {"id": identifier, "resource_type": resource_type, "deleted": True},
        f"tombstone {body}",
    )
    check.verify()
    expect_error(
        state,
        get_op,
        api.get(f"/{collection}/{path_id(identifier)}"),
        status=404,
        type_="not_found_error",
        code="resource_not_found",
    )


def test_patient_delete_is_a_tombstone_then_404(api: httpx.Client, state: RunState) -> None:
    patient = create_patient(api, state, "tombstone")
    _deleted_is_a_tombstone_then_404(api, state, "patients", patient["id"], "patient")


def test_webhook_delete_is_a_tombstone_then_404(api: httpx.Client, state: RunState) -> None:
    endpoint = create_webhook(api, state, "http://localhost:9/tombstone")
    _deleted_is_a_tombstone_then_404(api, state, "webhooks", endpoint["id"], "webhook_endpoint")


def test_disconnect_changes_the_connection_status(api: httpx.Client, state: RunState) -> None:
    catalog = expect_ok(state, "api.listFhirSources", "catalog", api.get("/connections"))
    if not catalog["data"]:
        pytest.skip("the target's catalog is empty")
    session = connected_session(api, state, "disconnect", catalog["data"][0]["id"])
    patient_id = session["patient_id"]
    patient = expect_ok(
        state, "api.getPatient", "connected_patient", api.get(f"/patients/{path_id(patient_id)}")
    )
    active = [c for c in patient["connections"] if c["status"] == "active"]
    assert active, f"api.getPatient: connection_active: no active connection {patient}"
    connection = active[0]
    response = api.delete(
        f"/patients/{path_id(patient_id)}/connections/{path_id(connection['id'])}"
    )
    body = expect_ok(state, "api.disconnectPatientConnection", "disconnect", response)
    check = behaviour(state, "api.disconnectPatientConnection", "disconnect_result", response)
    check.require(
        body == {"id": connection["id"], "resource_type": "connection", "disconnected": True},
        f"result {body}",
    )
    check.verify()
    response = api.get(f"/patients/{path_id(patient_id)}")
    after = expect_ok(state, "api.getPatient", "disconnected_patient", response)
    status = {c["id"]: c["status"] for c in after["connections"]}
    check = behaviour(
        state, "api.disconnectPatientConnection", "status_becomes_disconnected", response
    )
    check.require(
        status.get(connection["id"]) == "disconnected",
        f"status after disconnect: {status.get(connection['id'])!r}",
    )
    check.verify()
