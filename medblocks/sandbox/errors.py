"""The error envelope and the documented (type, code) pairs, the only ones the sandbox emits."""

from __future__ import annotations

import json
from typing import Any

DOC_URL = "https://medblocks.com/docs/reference/errors#{code}"

# (type, code) -> HTTP status, as published (medblocks-api.md §7).
ERROR_CODES: dict[tuple[str, str], int] = {
    ("authentication_error", "not_authenticated"): 401,
    ("authentication_error", "invalid_credentials"): 401,
    ("authentication_error", "session_expired"): 401,
    ("authentication_error", "missing_api_key"): 401,
    ("authentication_error", "invalid_api_key"): 401,
    ("authentication_error", "expired_api_key"): 401,
    ("permission_error", "forbidden"): 403,
    ("permission_error", "org_access_denied"): 403,
    ("permission_error", "role_insufficient"): 403,
    ("permission_error", "patient_access_denied"): 403,
    ("permission_error", "scope_violation"): 403,
    ("permission_error", "insufficient_scope"): 403,
    ("invalid_request_error", "bad_request"): 400,
    ("invalid_request_error", "invalid_data"): 400,
    ("invalid_request_error", "payload_too_large"): 413,
    ("invalid_request_error", "invalid_image"): 400,
    ("invalid_request_error", "unsupported_api_version"): 400,
    ("invalid_request_error", "oauth_state_expired"): 400,
    ("not_found_error", "resource_not_found"): 404,
    ("conflict_error", "resource_conflict"): 409,
    ("conflict_error", "already_linked"): 409,
    ("conflict_error", "external_id_already_exists"): 409,
    ("rate_limit_error", "throttled"): 429,
    ("rate_limit_error", "quota_exceeded"): 429,
    ("rate_limit_error", "api_key_limit_exceeded"): 429,
    ("billing_error", "feature_not_enabled"): 402,
    ("billing_error", "quota_exceeded"): 402,
    ("ehr_error", "fhir_error"): 502,
    ("ehr_error", "oauth_error"): 502,
    ("ehr_error", "email_error"): 502,
    ("ehr_error", "token_exchange_failed"): 502,
    ("ehr_error", "token_unavailable"): 502,
    ("ehr_error", "storage_error"): 502,
    ("api_error", "internal_error"): 500,
    ("api_error", "db_error"): 500,
    ("api_error", "config_missing"): 500,
}


class ApiError(Exception):
    """A documented API error; raising it anywhere in a handler answers with the envelope.

    `status` defaults to the pair's documented status; it is given explicitly only where the
    sandbox answers a pair under another status (405 for an undeclared method).
    """

    def __init__(
        self,
        type_: str,
        code: str,
        message: str,
        *,
        param: str | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        if (type_, code) not in ERROR_CODES:
            raise ValueError(f"undocumented error pair ({type_!r}, {code!r})")
        super().__init__(message)
        self.type = type_
        self.code = code
        self.message = message
        self.param = param
        self.status = status if status is not None else ERROR_CODES[(type_, code)]
        self.headers = headers or {}


def envelope(
    type_: str, code: str, message: str, request_id: str, param: str | None = None
) -> dict[str, Any]:
    """The documented `{"error": {...}}` object with all six fields."""
    if (type_, code) not in ERROR_CODES:
        raise ValueError(f"undocumented error pair ({type_!r}, {code!r})")
    return {
        "error": {
            "type": type_,
            "code": code,
            "message": message,
            "param": param,
            "doc_url": DOC_URL.format(code=code),
            "request_id": request_id,
        }
    }


def error_body(error: ApiError, request_id: str) -> bytes:
    """The encoded envelope for a raised `ApiError`."""
    body = envelope(error.type, error.code, error.message, request_id, error.param)
    return json.dumps(body, allow_nan=False).encode()


def invalid_data(message: str, param: str | None) -> ApiError:
    return ApiError("invalid_request_error", "invalid_data", message, param=param)


def bad_request(message: str, param: str | None = None) -> ApiError:
    return ApiError("invalid_request_error", "bad_request", message, param=param)


def not_found(message: str, param: str | None = None) -> ApiError:
    return ApiError("not_found_error", "resource_not_found", message, param=param)


def method_not_allowed(allow: str) -> ApiError:
    """405 for a method the path does not serve, naming the ones it does in `Allow`."""
    return ApiError(
        "invalid_request_error",
        "bad_request",
        f"Method not allowed here; allowed: {allow}.",
        status=405,
        headers={"Allow": allow},
    )
