"""Every documented error code maps to its class and keeps the whole envelope; bodies that are
not the envelope still give a MedblocksError with the status and request id."""

from __future__ import annotations

import httpx
import pytest

from medblocks import APIConnectionError, APITimeoutError, MedblocksError
from medblocks.client import errors
from tests.client.mocks import Recorder, envelope

# The 36 public (type, code, status) rows of the API reference, section 7.
DOCUMENTED_CODES = [
    ("authentication_error", "not_authenticated", 401),
    ("authentication_error", "invalid_credentials", 401),
    ("authentication_error", "session_expired", 401),
    ("authentication_error", "missing_api_key", 401),
    ("authentication_error", "invalid_api_key", 401),
    ("authentication_error", "expired_api_key", 401),
    ("permission_error", "forbidden", 403),
    ("permission_error", "org_access_denied", 403),
    ("permission_error", "role_insufficient", 403),
    ("permission_error", "patient_access_denied", 403),
    ("permission_error", "scope_violation", 403),
    ("permission_error", "insufficient_scope", 403),
    ("invalid_request_error", "bad_request", 400),
    ("invalid_request_error", "invalid_data", 400),
    ("invalid_request_error", "payload_too_large", 413),
    ("invalid_request_error", "invalid_image", 400),
    ("invalid_request_error", "unsupported_api_version", 400),
    ("invalid_request_error", "oauth_state_expired", 400),
    ("not_found_error", "resource_not_found", 404),
    ("conflict_error", "resource_conflict", 409),
    ("conflict_error", "already_linked", 409),
    ("conflict_error", "external_id_already_exists", 409),
    ("rate_limit_error", "throttled", 429),
    ("rate_limit_error", "quota_exceeded", 429),
    ("rate_limit_error", "api_key_limit_exceeded", 429),
    ("billing_error", "feature_not_enabled", 402),
    ("billing_error", "quota_exceeded", 402),
    ("ehr_error", "fhir_error", 502),
    ("ehr_error", "oauth_error", 502),
    ("ehr_error", "email_error", 502),
    ("ehr_error", "token_exchange_failed", 502),
    ("ehr_error", "token_unavailable", 502),
    ("ehr_error", "storage_error", 502),
    ("api_error", "internal_error", 500),
    ("api_error", "db_error", 500),
    ("api_error", "config_missing", 500),
]

EXPECTED_CLASS = {
    400: errors.BadRequestError,
    401: errors.AuthenticationError,
    402: errors.BillingError,
    403: errors.PermissionDeniedError,
    404: errors.NotFoundError,
    409: errors.ConflictError,
    413: errors.PayloadTooLargeError,
    429: errors.RateLimitError,
    500: errors.InternalServerError,
    502: errors.UpstreamError,
}


def test_the_table_has_the_36_documented_rows() -> None:
    assert len(DOCUMENTED_CODES) == 36
    assert len(set(DOCUMENTED_CODES)) == 36
    assert {status for *_, status in DOCUMENTED_CODES} == set(EXPECTED_CLASS)


@pytest.mark.parametrize(("type_", "code", "status"), DOCUMENTED_CODES)
def test_each_code_maps_to_its_class_and_keeps_the_envelope(
    mock_client, type_: str, code: str, status: int
) -> None:
    body = envelope(type_, code, f"{code} happened", param="patient_id")
    rid = body["error"]["request_id"]
    headers = {"X-Request-Id": rid, "Retry-After": "61"} if status == 429 else {"X-Request-Id": rid}
    recorder = Recorder(httpx.Response(status, json=body, headers=headers))
    client = mock_client(recorder, max_retries=0)
    with pytest.raises(MedblocksError) as caught:
        client.patients.retrieve("user_42")
    error = caught.value
    assert type(error) is EXPECTED_CLASS[status]
    assert error.http_status == status
    assert (error.type, error.code, error.message) == (type_, code, f"{code} happened")
    assert error.param == "patient_id"
    assert error.doc_url == "https://docs.medblocks.com/errors"
    assert error.request_id == rid
    assert error.envelope == body
    assert error.operation == "api.getPatient"
    assert error.retry_after == (61.0 if status == 429 else None)
    assert str(error).startswith(rid)
    assert len(recorder.requests) == 1


def test_quota_exceeded_is_told_apart_by_status(mock_client) -> None:
    billing = Recorder(httpx.Response(402, json=envelope("billing_error", "quota_exceeded")))
    with pytest.raises(errors.BillingError):
        mock_client(billing).patients.create("user_1")
    throttled = Recorder(httpx.Response(429, json=envelope("rate_limit_error", "quota_exceeded")))
    with pytest.raises(errors.RateLimitError):
        mock_client(throttled).patients.create("user_1")


@pytest.mark.parametrize(
    ("status", "body", "content_type", "described"),
    [
        (502, b"<html><body>Bad gateway</body></html>", "text/html", "text/html"),
        (500, b"", "application/json", "an empty body"),
        (400, b'{"error": {"type": "invalid_request_error", "co', "application/json", "bytes"),
        (404, b'{"message": "not the envelope"}', "application/json", "bytes"),
        (503, b"upstream connect error", "text/plain", "text/plain"),
    ],
)
def test_a_body_that_is_not_the_envelope_still_gives_status_and_request_id(
    mock_client, status: int, body: bytes, content_type: str, described: str
) -> None:
    response = httpx.Response(
        status, content=body, headers={"Content-Type": content_type, "X-Request-Id": "req-proxy-1"}
    )
    client = mock_client(Recorder(response), max_retries=0)
    with pytest.raises(MedblocksError) as caught:
        client.patients.retrieve("user_42")
    error = caught.value
    assert type(error) is EXPECTED_CLASS.get(status, MedblocksError)
    assert error.http_status == status
    assert error.request_id == "req-proxy-1"
    assert error.envelope is None and error.code is None
    assert described in error.message
    assert str(error).startswith("req-proxy-1")


def test_missing_request_id_is_said_plainly(mock_client) -> None:
    client = mock_client(Recorder(httpx.Response(500, content=b"")), max_retries=0)
    with pytest.raises(errors.InternalServerError) as caught:
        client.health()
    assert str(caught.value).startswith(errors.NO_REQUEST_ID)


def test_connection_and_timeout_errors(mock_client) -> None:
    refused = mock_client(Recorder(httpx.ConnectError("refused")), max_retries=0)
    with pytest.raises(APIConnectionError) as caught:
        refused.patients.list_page()
    assert caught.value.http_status is None
    assert caught.value.operation == "api.listPatients"
    assert isinstance(caught.value.__cause__, httpx.ConnectError)

    slow = mock_client(Recorder(httpx.ReadTimeout("slow")), max_retries=0)
    with pytest.raises(APITimeoutError):
        slow.patients.list_page()


def test_invalid_2xx_body_is_a_response_validation_error(mock_client) -> None:
    bad = {"id": "user_42", "resource_type": "patient", "email": "jane@example.com"}
    client = mock_client(Recorder(httpx.Response(200, json=bad, headers={"X-Request-Id": "r-9"})))
    with pytest.raises(errors.ResponseValidationError) as caught:
        client.patients.create("user_42")
    message = str(caught.value)
    assert message.startswith("r-9")
    assert "created_at" in message and "jane@example.com" not in message


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert errors.parse_retry_after("7") == 7.0
    assert errors.parse_retry_after(None) is None
    assert errors.parse_retry_after("soon") is None
    assert errors.parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now=1445412500.0) == 10.0
