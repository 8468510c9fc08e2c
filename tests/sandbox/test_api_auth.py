"""Auth, `Version` and request-id behaviour of every sandbox response."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

ErrorCheck = Callable[..., dict[str, Any]]
VERSION = "2026-04-25"


def test_missing_authorization_is_401_missing_api_key(raw: httpx.Client, assert_error: ErrorCheck):
    response = raw.get("/patients")
    assert_error(response, 401, "authentication_error", "missing_api_key")


def test_non_bearer_authorization_is_401_missing_api_key(
    raw: httpx.Client, api_key: str, assert_error: ErrorCheck
):
    response = raw.get("/patients", headers={"Authorization": f"Basic {api_key}"})
    assert_error(response, 401, "authentication_error", "missing_api_key")


def test_wrong_key_is_401_invalid_api_key(raw: httpx.Client, assert_error: ErrorCheck):
    response = raw.get("/patients", headers={"Authorization": "Bearer mb_sk_sbx_wrong"})
    assert_error(response, 401, "authentication_error", "invalid_api_key")


def test_expired_key_is_401_expired_api_key(
    raw: httpx.Client, expired_key: str, assert_error: ErrorCheck
):
    response = raw.get("/patients", headers={"Authorization": f"Bearer {expired_key}"})
    assert_error(response, 401, "authentication_error", "expired_api_key")


def test_live_key_is_401_invalid_api_key(raw: httpx.Client, api_key: str, assert_error: ErrorCheck):
    live = "mb_sk_live_" + api_key.removeprefix("mb_sk_sbx_")
    response = raw.get("/patients", headers={"Authorization": f"Bearer {live}"})
    assert_error(response, 401, "authentication_error", "invalid_api_key")


def test_unsupported_version_is_400_naming_version(api: httpx.Client, assert_error: ErrorCheck):
    response = api.get("/patients", headers={"Version": "2025-01-01"})
    assert_error(response, 400, "invalid_request_error", "unsupported_api_version", param="Version")


def test_old_docs_version_date_in_another_format_is_rejected(
    api: httpx.Client, assert_error: ErrorCheck
):
    response = api.get("/patients", headers={"Version": "2026-4-25"})
    assert_error(response, 400, "invalid_request_error", "unsupported_api_version", param="Version")


def test_omitted_version_uses_the_keys_pinned_version(raw: httpx.Client, api_key: str):
    response = raw.get("/patients", headers={"Authorization": f"Bearer {api_key}"})
    assert response.status_code == 200
    assert response.json()["resource_type"] == "list"


def test_webhook_api_version_is_the_pinned_version_when_version_is_omitted(
    raw: httpx.Client, api_key: str
):
    response = raw.post(
        "/webhooks",
        headers={"Authorization": f"Bearer {api_key}"},
        json={"url": "https://hooks.example.test/a", "events": ["*"]},
    )
    assert response.status_code == 200
    assert response.json()["api_version"] == VERSION


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer {key}", "Bearer mb_sk_sbx_not_this_one", "Basic abc"],
    ids=["no key", "the key", "another key", "another scheme"],
)
def test_health_answers_200_with_or_without_a_key(
    raw: httpx.Client, api_key: str, authorization: str | None
):
    # Medblocks documents /health as unauthenticated: monitors call it without a key.
    headers = {} if authorization is None else {"Authorization": authorization.format(key=api_key)}
    response = raw.get("/health", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["ok"] is True
    assert response.headers["x-request-id"]


def test_every_other_operation_still_needs_the_key(raw: httpx.Client, assert_error: ErrorCheck):
    assert_error(raw.get("/patients"), 401, "authentication_error", "missing_api_key")
    assert_error(raw.put("/health"), 401, "authentication_error", "missing_api_key")


def test_every_response_has_a_fresh_uuid_request_id(api: httpx.Client):
    ids = {api.get("/health").headers["x-request-id"] for _ in range(3)}
    ids.add(api.get("/openapi/medblocks.json").headers["x-request-id"])
    ids.add(api.get("/patients/nobody").headers["x-request-id"])
    assert len(ids) == 5
    for value in ids:
        uuid.UUID(value)


def test_error_request_id_echoes_the_header(api: httpx.Client, assert_error: ErrorCheck):
    error = assert_error(
        api.get("/patients/nobody"), 404, "not_found_error", "resource_not_found", param="id"
    )
    assert error["message"]
