"""The documented error behaviour, one named test each: status, type, code, param, the
envelope's shape and `X-Request-Id == error.request_id` (reference §7, §10)."""

from __future__ import annotations

import httpx
import pytest

from contract_tests.calls import (
    RETURN_URL,
    create_patient,
    expect_error,
    expect_ok,
    keep_if_created,
    path_id,
    webhook_event,
)
from contract_tests.run import RunState
from contract_tests.target import ContractTarget


@pytest.fixture(scope="module")
def source_id(api: httpx.Client, state: RunState) -> str:
    body = expect_ok(state, "api.listFhirSources", "catalog_has_a_source", api.get("/connections"))
    if not body["data"]:
        pytest.skip("the target's catalog is empty")
    return str(body["data"][0]["id"])


def test_no_key_is_missing_api_key(target: ContractTarget, state: RunState) -> None:
    with target.client(authenticated=False) as anonymous:
        response = anonymous.get("/patients")
    expect_error(
        state,
        "api.listPatients",
        response,
        status=401,
        type_="authentication_error",
        code="missing_api_key",
        param=None,
    )


def test_wrong_key_is_invalid_api_key(target: ContractTarget, state: RunState) -> None:
    wrong = "mb_sk_sbx_" + "0" * 26
    with target.client(authenticated=False) as client:
        response = client.get("/patients", headers={"Authorization": f"Bearer {wrong}"})
    expect_error(
        state,
        "api.listPatients",
        response,
        status=401,
        type_="authentication_error",
        code="invalid_api_key",
        param=None,
    )


def test_unsupported_version_is_unsupported_api_version(api: httpx.Client, state: RunState) -> None:
    response = api.get("/patients", headers={"Version": "1999-01-01"})
    expect_error(
        state,
        "api.listPatients",
        response,
        status=400,
        type_="invalid_request_error",
        code="unsupported_api_version",
        param={"Version", None},
    )


def test_unknown_patient_is_resource_not_found(api: httpx.Client, state: RunState) -> None:
    response = api.get(f"/patients/{path_id(state.patient_id('never-created'))}")
    expect_error(
        state,
        "api.getPatient",
        response,
        status=404,
        type_="not_found_error",
        code="resource_not_found",
        param={"id", None},
    )


def test_unknown_session_is_resource_not_found(api: httpx.Client, state: RunState) -> None:
    response = api.get("/patient-sessions/ps_01JZZZZZZZZZZZZZZZZZZZZZZZ")
    expect_error(
        state,
        "api.retrievePatientSession",
        response,
        status=404,
        type_="not_found_error",
        code="resource_not_found",
        param={"id", None},
    )


def test_duplicate_patient_is_external_id_already_exists(
    api: httpx.Client, state: RunState
) -> None:
    patient = create_patient(api, state, "duplicate")
    response = api.post("/patients", json={"patient_id": patient["id"]})
    expect_error(
        state,
        "api.createPatient",
        response,
        status=409,
        type_="conflict_error",
        code="external_id_already_exists",
        param={"patient_id", None},
    )


def test_connection_id_with_recommended_ids_is_400_naming_the_param(
    api: httpx.Client, state: RunState, source_id: str
) -> None:
    body = {
        "patient_id": state.patient_id("both-modes", unique=True),
        "return_url": RETURN_URL,
        "connection_id": source_id,
        "recommended_connection_ids": [source_id],
    }
    response = api.post("/patient-sessions", json=body)
    keep_if_created(state, response, body["patient_id"])
    expect_error(
        state,
        "api.initPatientSession",
        response,
        status=400,
        type_="invalid_request_error",
        code={"invalid_data", "bad_request"},
        param={"connection_id", "recommended_connection_ids"},
    )


def test_put_with_mismatched_patient_id_is_400(api: httpx.Client, state: RunState) -> None:
    patient = create_patient(api, state, "put-mismatch")
    response = api.put(
        f"/patients/{path_id(patient['id'])}",
        json={"patient_id": state.patient_id("someone-else")},
    )
    expect_error(
        state,
        "api.updatePatient",
        response,
        status=400,
        type_="invalid_request_error",
        code={"invalid_data", "bad_request"},
        param={"patient_id", "id"},
    )


def test_bad_email_is_invalid_data_naming_email(api: httpx.Client, state: RunState) -> None:
    patient_id = state.patient_id("bad-email", unique=True)
    response = api.post("/patients", json={"patient_id": patient_id, "email": "not-an-email"})
    keep_if_created(state, response, patient_id)
    expect_error(
        state,
        "api.createPatient",
        response,
        status=400,
        type_="invalid_request_error",
        code="invalid_data",
        param="email",
    )


def test_unknown_recommended_source_is_404(api: httpx.Client, state: RunState) -> None:
    body = {
        "patient_id": state.patient_id("unknown-source", unique=True),
        "return_url": RETURN_URL,
        "recommended_connection_ids": ["fhirsrc_01JZZZZZZZZZZZZZZZZZZZZZZZ"],
    }
    response = api.post("/patient-sessions", json=body)
    keep_if_created(state, response, body["patient_id"])
    expect_error(
        state,
        "api.initPatientSession",
        response,
        status=404,
        type_="not_found_error",
        code="resource_not_found",
        param={"recommended_connection_ids", None},
    )


def test_oversized_body_is_413(api: httpx.Client, state: RunState) -> None:
    patient_id = state.patient_id("oversized", unique=True)
    blob = "x" * (2 * 1024 * 1024)
    response = api.post("/patients", json={"patient_id": patient_id, "metadata": {"blob": blob}})
    keep_if_created(state, response, patient_id)
    expect_error(
        state,
        "api.createPatient",
        response,
        status=413,
        type_="invalid_request_error",
        code="payload_too_large",
    )


def test_second_redelivery_within_a_minute_is_429_with_retry_after(
    api: httpx.Client, state: RunState, source_id: str
) -> None:
    event = webhook_event(api, state, source_id)
    first = api.post(f"/events/{path_id(event['id'])}/redeliver")
    expect_ok(state, "api.redeliverWebhookEvent", "first_redelivery_accepted", first)
    second = api.post(f"/events/{path_id(event['id'])}/redeliver")
    expect_error(
        state,
        "api.redeliverWebhookEvent",
        second,
        status=429,
        type_="rate_limit_error",
        code="throttled",
    )
    retry_after = second.headers.get("retry-after", "")
    assert retry_after.isdigit() and 1 <= int(retry_after) <= 60, (
        f"api.redeliverWebhookEvent: retry_after_header: Retry-After {retry_after!r} is not "
        f"whole seconds in 1..60 (request id {second.headers.get('x-request-id')})"
    )
