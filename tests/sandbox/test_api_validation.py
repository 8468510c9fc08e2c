"""Spec-driven validation and the error cases of the request pipeline: each answer is the
documented envelope naming the field, and bad input never produces a 500."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

ErrorCheck = Callable[..., dict[str, Any]]
SESSION = {"patient_id": "user_validation", "return_url": "https://app.example.test/back"}


def test_invalid_email_names_email(api: httpx.Client, assert_error: ErrorCheck):
    response = api.post("/patients", json={"patient_id": "p_email", "email": "not-an-email"})
    assert_error(response, 400, "invalid_request_error", "invalid_data", param="email")


def test_missing_required_field_names_it(api: httpx.Client, assert_error: ErrorCheck):
    response = api.post("/patients", json={"email": "a@example.test"})
    assert_error(response, 400, "invalid_request_error", "invalid_data", param="patient_id")


def test_too_long_name_names_name(api: httpx.Client, assert_error: ErrorCheck):
    response = api.post("/patients", json={"patient_id": "p_long", "name": "x" * 201})
    assert_error(response, 400, "invalid_request_error", "invalid_data", param="name")


def test_wrong_type_names_the_field(api: httpx.Client, assert_error: ErrorCheck):
    response = api.post("/patients", json={"patient_id": 42})
    assert_error(response, 400, "invalid_request_error", "invalid_data", param="patient_id")


def test_extra_property_on_session_input_names_it(api: httpx.Client, assert_error: ErrorCheck):
    response = api.post("/patient-sessions", json={**SESSION, "colour": "blue"})
    assert_error(response, 400, "invalid_request_error", "invalid_data", param="colour")


def test_return_url_must_be_a_uri(api: httpx.Client, assert_error: ErrorCheck):
    response = api.post("/patient-sessions", json={**SESSION, "return_url": "not a uri"})
    assert_error(response, 400, "invalid_request_error", "invalid_data", param="return_url")


def test_expires_in_out_of_range_names_it(api: httpx.Client, assert_error: ErrorCheck):
    response = api.post("/patient-sessions", json={**SESSION, "expires_in": 59})
    assert_error(response, 400, "invalid_request_error", "invalid_data", param="expires_in")


def test_connection_id_with_recommended_ids_names_the_param(
    api: httpx.Client, assert_error: ErrorCheck
):
    source = api.get("/connections", params={"limit": 1}).json()["data"][0]["id"]
    response = api.post(
        "/patient-sessions",
        json={**SESSION, "connection_id": source, "recommended_connection_ids": [source]},
    )
    assert_error(
        response, 400, "invalid_request_error", "invalid_data", param="recommended_connection_ids"
    )


@pytest.mark.parametrize("prefix", ["pat_", "pf_", "conn_", "fhirsrc_", "wh_", "evt_"])
def test_reserved_patient_id_prefixes_are_rejected(
    api: httpx.Client, assert_error: ErrorCheck, prefix: str
):
    response = api.post("/patients", json={"patient_id": f"{prefix}123"})
    assert_error(response, 400, "invalid_request_error", "invalid_data", param="patient_id")


@pytest.mark.parametrize("limit", ["0", "101", "abc", "1.5", "-3"])
def test_limit_outside_1_to_100_names_limit(
    api: httpx.Client, assert_error: ErrorCheck, limit: str
):
    response = api.get("/patients", params={"limit": limit})
    assert_error(response, 400, "invalid_request_error", "invalid_data", param="limit")


def test_empty_limit_falls_back_to_the_default(api: httpx.Client):
    response = api.get("/patients?limit=")
    assert response.status_code == 200
    assert len(response.json()["data"]) == 10


def test_enum_query_parameter_is_checked(api: httpx.Client, assert_error: ErrorCheck):
    response = api.get("/webhooks", params={"status": "paused"})
    assert_error(response, 400, "invalid_request_error", "invalid_data", param="status")


def test_since_must_be_a_date_or_date_time(api: httpx.Client, assert_error: ErrorCheck):
    response = api.get("/patients/user_1000/records", params={"since": "yesterday"})
    assert_error(response, 400, "invalid_request_error", "invalid_data", param="since")


def test_launch_context_id_must_be_a_uuid(api: httpx.Client, assert_error: ErrorCheck):
    response = api.get("/launch-contexts/not-a-uuid")
    assert_error(response, 400, "invalid_request_error", "invalid_data", param="id")


def test_unknown_query_parameters_are_ignored(api: httpx.Client):
    assert api.get("/patients", params={"colour": "blue"}).status_code == 200


def test_malformed_json_is_400_bad_request(api: httpx.Client, assert_error: ErrorCheck):
    response = api.post(
        "/patients", content=b'{"patient_id": ', headers={"Content-Type": "application/json"}
    )
    assert_error(response, 400, "invalid_request_error", "bad_request")


def test_lone_surrogate_in_json_is_400_not_500(api: httpx.Client, assert_error: ErrorCheck):
    response = api.post(
        "/patients",
        content=b'{"patient_id": "\\ud800"}',
        headers={"Content-Type": "application/json"},
    )
    assert_error(response, 400, "invalid_request_error", "bad_request")


def test_body_that_is_not_an_object_is_invalid_data(api: httpx.Client, assert_error: ErrorCheck):
    response = api.post("/patients", json=["patient_id"])
    assert_error(response, 400, "invalid_request_error", "invalid_data")


def test_missing_required_body_is_invalid_data(api: httpx.Client, assert_error: ErrorCheck):
    response = api.post("/patients")
    assert_error(response, 400, "invalid_request_error", "invalid_data")


def test_body_over_one_megabyte_is_413(api: httpx.Client, assert_error: ErrorCheck):
    big = {"patient_id": "p_big", "metadata": {"blob": "x" * (1024 * 1024)}}
    response = api.post("/patients", json=big)
    assert_error(response, 413, "invalid_request_error", "payload_too_large")
    assert api.get("/patients/p_big").status_code == 404


def test_unknown_route_is_404_in_the_envelope(api: httpx.Client, assert_error: ErrorCheck):
    assert_error(api.get("/v1/patients"), 404, "not_found_error", "resource_not_found")


def test_old_docs_sessions_route_is_404(api: httpx.Client, assert_error: ErrorCheck):
    response = api.post("/sessions", json=SESSION)
    assert_error(response, 404, "not_found_error", "resource_not_found")


def test_encoded_newline_in_path_is_404_in_the_envelope(
    api: httpx.Client, assert_error: ErrorCheck
):
    response = api.post("/events/%0Aabc/redeliver")
    assert_error(response, 404, "not_found_error", "resource_not_found", param="id")


def test_undeclared_method_is_405_with_allow(api: httpx.Client, assert_error: ErrorCheck):
    response = api.put("/health")
    assert_error(response, 405, "invalid_request_error", "bad_request")
    assert response.headers["allow"] == "GET"


def test_spec_is_served_verbatim(api: httpx.Client):
    from medblocks.spec import PINNED_PATH

    response = api.get("/openapi/medblocks.json")
    assert response.status_code == 200
    assert response.content == PINNED_PATH.read_bytes()
