"""Errors raised by the client: one base class carrying the whole error envelope.

Every non-2xx answer becomes a `MedblocksError` (a subclass chosen by HTTP status), whatever
its body: a body that is not the documented envelope (an HTML page from a proxy, an empty
body, truncated JSON) still yields an error with the status and the `X-Request-Id` header.
`str(error)` starts with the request id, so a log line or a page that shows the error shows
the id support needs. Messages never contain the API key; the server's `message` is kept
as sent.
"""

from __future__ import annotations

import email.utils
import json
import time
from typing import Any

import httpx

NO_REQUEST_ID = "no-request-id"


class MedblocksError(Exception):
    """A failed Medblocks call: HTTP status, the envelope's six fields, and where it happened."""

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        type: str | None = None,
        code: str | None = None,
        param: str | None = None,
        doc_url: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        envelope: dict[str, Any] | None = None,
        operation: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.type = type
        self.code = code
        self.param = param
        self.doc_url = doc_url
        self.request_id = request_id
        self.retry_after = retry_after
        self.envelope = envelope
        self.operation = operation

    def __str__(self) -> str:
        status = f"HTTP {self.http_status}" if self.http_status is not None else "no response"
        kind = "/".join(part for part in (self.type, self.code) if part)
        where = f" [{self.operation}]" if self.operation else ""
        head = f"{self.request_id or NO_REQUEST_ID}: {status}"
        return f"{head} {kind}{where}: {self.message}" if kind else f"{head}{where}: {self.message}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(http_status={self.http_status!r}, type={self.type!r}, "
            f"code={self.code!r}, request_id={self.request_id!r}, operation={self.operation!r})"
        )


class BadRequestError(MedblocksError):
    """400: the request was malformed or failed validation (`invalid_request_error`)."""


class AuthenticationError(MedblocksError):
    """401: the key is missing, invalid or expired (`authentication_error`)."""


class BillingError(MedblocksError):
    """402: the plan does not allow this (`billing_error`)."""


class PermissionDeniedError(MedblocksError):
    """403: the key may not do this (`permission_error`)."""


class NotFoundError(MedblocksError):
    """404: no such resource, or a route this API version does not have (`not_found_error`)."""


class ConflictError(MedblocksError):
    """409: the request clashes with existing state (`conflict_error`)."""


class PayloadTooLargeError(MedblocksError):
    """413: the body is too large (`invalid_request_error` / `payload_too_large`)."""


class RateLimitError(MedblocksError):
    """429: throttled or over a quota; `retry_after` holds the server's wait in seconds."""


class InternalServerError(MedblocksError):
    """500: Medblocks failed (`api_error`)."""


class UpstreamError(MedblocksError):
    """502: an EHR, OAuth, email or storage dependency failed (`ehr_error`)."""


class APIConnectionError(MedblocksError):
    """No HTTP answer: the connection could not be made or broke off."""


class APITimeoutError(APIConnectionError):
    """No HTTP answer within the timeout."""


class ResponseValidationError(MedblocksError):
    """A 2xx answer whose body does not match the pinned spec's schema for the operation."""


STATUS_CLASSES: dict[int, type[MedblocksError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: BillingError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    429: RateLimitError,
    500: InternalServerError,
    502: UpstreamError,
}


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or an HTTP date)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    return max(seconds, 0.0)


def _envelope_of(response: httpx.Response) -> dict[str, Any] | None:
    """The decoded envelope when the body is one (an `error` object of strings), else None."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        return None
    return body


def _describe_body(response: httpx.Response) -> str:
    content_type = response.headers.get("content-type", "no content type")
    size = len(response.content)
    if size == 0:
        return "an empty body"
    return f"a body that is not the error envelope ({content_type}, {size} bytes)"


def error_from_response(response: httpx.Response, operation: str | None) -> MedblocksError:
    """The `MedblocksError` subclass for a non-2xx response, keeping every envelope field."""
    status = response.status_code
    cls = STATUS_CLASSES.get(status, MedblocksError)
    header_request_id = response.headers.get("x-request-id")
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    envelope = _envelope_of(response)
    if envelope is None:
        return cls(
            f"HTTP {status} with {_describe_body(response)}",
            http_status=status,
            request_id=header_request_id,
            retry_after=retry_after,
            operation=operation,
        )
    fields = envelope["error"]

    def text(name: str) -> str | None:
        value = fields.get(name)
        return value if isinstance(value, str) else None

    return cls(
        text("message") or f"HTTP {status} without a message",
        http_status=status,
        type=text("type"),
        code=text("code"),
        param=text("param"),
        doc_url=text("doc_url"),
        request_id=text("request_id") or header_request_id,
        retry_after=retry_after,
        envelope=envelope,
        operation=operation,
    )


def error_from_transport(exc: httpx.TransportError, operation: str) -> APIConnectionError:
    """The client error for a call that got no HTTP answer (the URL is left out on purpose)."""
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(f"no answer in time ({type(exc).__name__})", operation=operation)
    return APIConnectionError(f"connection failed ({type(exc).__name__})", operation=operation)
