"""One API call, described once and sent by either client.

`Call` says what to send (operation, method, path, query, body) and how to read the answer
(a pydantic model); `CallRunner` holds what both clients share: the headers, request
building, the reading of answers into models or errors, the retry decisions and the log
lines. The sync and async clients only differ in how they send and sleep.

Log lines (logger `medblocks.client`): one per retry and one per failure, `key=value` pairs
with the operation, HTTP status, error type and code, request id and the patient, session,
webhook or event id the call was about. Never the key, the URL's query (it can hold an
email), a request body or the server's message.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypedDict, TypeVar

import httpx
from pydantic import ValidationError

from medblocks.client import retries
from medblocks.client.errors import (
    MedblocksError,
    ResponseValidationError,
    error_from_response,
    error_from_transport,
)
from medblocks.client.models import MedblocksModel

logger = logging.getLogger("medblocks.client")

ModelT = TypeVar("ModelT", bound=MedblocksModel)
TimeoutArg = float | httpx.Timeout | None

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
DEFAULT_MAX_RETRIES = 2


class CallOptions(TypedDict, total=False):
    """Per-call overrides accepted by every client method."""

    max_retries: int
    timeout: float | httpx.Timeout


@dataclass(frozen=True)
class Call(Generic[ModelT]):
    """What to send for one operation and the model its 200 answer is read into."""

    operation: str
    method: str
    path: str
    model: type[ModelT]
    params: Mapping[str, str | int] | None = None
    body: dict[str, Any] | None = None
    subject: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Retry:
    """Wait `delay` seconds, then send the same request again."""

    delay: float


def as_timeout(timeout: TimeoutArg) -> httpx.Timeout:
    """`None` means the defaults (connect 5 s, read 30 s); a number applies to every phase."""
    if timeout is None:
        return DEFAULT_TIMEOUT
    return timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)


def log_call(
    level: int, event: str, call: Call[Any], error: MedblocksError, **more: object
) -> None:
    """One `key=value` line; the same pairs go in `record.medblocks` for structured handlers."""
    pairs = {
        "operation": call.operation,
        "http_status": error.http_status,
        "type": error.type,
        "code": error.code,
        "request_id": error.request_id,
        **call.subject,
        **more,
    }
    fields = {key: value for key, value in pairs.items() if value is not None}
    text = " ".join(
        f"{key}={value!r}" if isinstance(value, str) and " " in value else f"{key}={value}"
        for key, value in fields.items()
    )
    logger.log(level, "medblocks call %s %s", event, text, extra={"medblocks": fields})


class CallRunner:
    """Headers, request building, answer reading and retry decisions shared by both clients."""

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        timeout: httpx.Timeout,
        max_retries: int,
    ) -> None:
        self.base_url = base_url
        self.headers = dict(headers)
        self.body_headers = {**self.headers, "Content-Type": "application/json"}
        self.timeout = timeout
        self.max_retries = max_retries

    def build(
        self, http: httpx.Client | httpx.AsyncClient, call: Call[Any], options: CallOptions
    ) -> httpx.Request:
        timeout = as_timeout(options["timeout"]) if "timeout" in options else self.timeout
        url = self.base_url + call.path
        if call.body is None:
            return http.build_request(
                call.method, url, params=call.params, headers=self.headers, timeout=timeout
            )
        content = json.dumps(call.body, separators=(",", ":")).encode()
        return http.build_request(
            call.method,
            url,
            params=call.params,
            headers=self.body_headers,
            content=content,
            timeout=timeout,
        )

    def retries_for(self, options: CallOptions) -> int:
        return options.get("max_retries", self.max_retries)

    def on_response(
        self, call: Call[ModelT], response: httpx.Response, retries_done: int, max_retries: int
    ) -> ModelT | Retry:
        """The model for a 2xx answer, a `Retry`, or raise the error for the status."""
        if response.is_success:
            return self.parse(call, response)
        error = error_from_response(response, call.operation)
        decision = retries.after_status(
            call.method, response.status_code, error.retry_after, retries_done, max_retries
        )
        return self._retry_or_raise(call, error, decision, retries_done, max_retries)

    def on_exception(
        self, call: Call[Any], exc: httpx.TransportError, retries_done: int, max_retries: int
    ) -> Retry:
        """A `Retry` for a call that got no answer, or raise `APIConnectionError`."""
        error = error_from_transport(exc, call.operation)
        decision = retries.after_exception(call.method, exc, retries_done, max_retries)
        try:
            return self._retry_or_raise(call, error, decision, retries_done, max_retries)
        except MedblocksError as final:
            raise final from exc

    def parse(self, call: Call[ModelT], response: httpx.Response) -> ModelT:
        """The answer as `call.model`, carrying the response's request id in `_request_id`."""
        try:
            model = call.model.model_validate_json(response.content)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in item['loc']) or 'body'}: {item['type']}"
                for item in exc.errors(include_url=False, include_input=False)[:5]
            )
            error = ResponseValidationError(
                f"the answer does not match the pinned spec ({problems})",
                http_status=response.status_code,
                request_id=response.headers.get("x-request-id"),
                operation=call.operation,
            )
            log_call(logging.ERROR, "failed", call, error, reason="invalid-response")
            raise error from None
        model._request_id = response.headers.get("x-request-id")
        return model

    def _retry_or_raise(
        self,
        call: Call[Any],
        error: MedblocksError,
        decision: retries.Decision,
        retries_done: int,
        max_retries: int,
    ) -> Retry:
        if decision.retry:
            log_call(
                logging.WARNING,
                "retrying",
                call,
                error,
                retry=f"{retries_done + 1}/{max_retries}",
                delay=f"{decision.delay:.2f}s",
                reason=decision.reason,
            )
            return Retry(decision.delay)
        log_call(logging.ERROR, "failed", call, error, reason=decision.reason)
        if decision.reason.startswith(("gave up", "Retry-After")):
            error.add_note(decision.reason)
        raise error
