"""Fault injection for the API routes: run-wide faults and the per-request `Prefer` header.

Run-wide faults (set with `PUT /_sandbox/faults`, persisted in `sandbox_state`): added latency,
an error rate answered with 500 `api_error/internal_error` or 502 `ehr_error/fhir_error`, and a
burst of 429 `rate_limit_error/throttled` answers carrying `Retry-After`, and a sustained
per-key rate limit (`rate_limit.py`) answering the same 429 once a key sends faster. A Prism-style
`Prefer: code=<status>` header forces one documented error on that request alone. Neither
touches the `/_sandbox/` controls, the hosted `/c/` pages or the served spec document.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import threading
from dataclasses import asdict, dataclass
from typing import Any

from medblocks.sandbox import jsontext
from medblocks.sandbox.api.validation import check_body
from medblocks.sandbox.asgi import ASGIApp, Receive, Scope, Send, header, request_id_of, send_error
from medblocks.sandbox.errors import ApiError
from medblocks.sandbox.levers.rate_limit import OTHER_KEYS, PerKeyLimit
from medblocks.sandbox.levers.schemas import body_validator
from medblocks.sandbox.runtime import SandboxRuntime

log = logging.getLogger("medblocks.sandbox")

FAULTS_KEY = "faults"
FAULTS_PATH = "/_sandbox/faults"
PREFER_CODE = re.compile(r"(?:^|[\s,;])code\s*=\s*\"?(\d{3})\"?", re.IGNORECASE)

# The (type, code) the sandbox answers for each documented error status.
FORCED_ERRORS: dict[int, tuple[str, str, str]] = {
    400: ("invalid_request_error", "bad_request", "Forced by Prefer: code=400."),
    401: ("authentication_error", "invalid_api_key", "Forced by Prefer: code=401."),
    402: ("billing_error", "feature_not_enabled", "Forced by Prefer: code=402."),
    403: ("permission_error", "forbidden", "Forced by Prefer: code=403."),
    404: ("not_found_error", "resource_not_found", "Forced by Prefer: code=404."),
    409: ("conflict_error", "resource_conflict", "Forced by Prefer: code=409."),
    413: ("invalid_request_error", "payload_too_large", "Forced by Prefer: code=413."),
    429: ("rate_limit_error", "throttled", "Forced by Prefer: code=429."),
    500: ("api_error", "internal_error", "Forced by Prefer: code=500."),
    502: ("ehr_error", "fhir_error", "Forced by Prefer: code=502."),
}
ERROR_RATE_ANSWERS = (
    ("api_error", "internal_error", "Injected fault: simulated internal error."),
    ("ehr_error", "fhir_error", "Injected fault: simulated upstream EHR error."),
)


@dataclass
class Faults:
    """The run-wide faults (`GET/PUT /_sandbox/faults`, every field as overlay.json names it);
    `any` is False when none is on (`retry_after` alone is no fault). The dashboard's Sandbox
    page reads and sends this same type."""

    latency_ms: int = 0
    error_rate: float = 0.0
    rate_limit_burst: int = 0
    retry_after: int = 1
    rate_limit_per_second: int = 0

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Faults:
        """Faults from a body valid against the overlay schema (an integer sent as `5.0` is 5)."""
        values = {name: body[name] for name in asdict(cls()) if name in body}
        for name in INTEGER_FIELDS:
            if name in values:
                values[name] = int(values[name])
        return cls(**values)

    @property
    def any(self) -> bool:
        return bool(
            self.latency_ms
            or self.error_rate
            or self.rate_limit_burst
            or self.rate_limit_per_second
        )


INTEGER_FIELDS = ("latency_ms", "rate_limit_burst", "retry_after", "rate_limit_per_second")


def _stored_faults(runtime: SandboxRuntime) -> Faults:
    """The faults kept in the database, or none (reported) when that row is not usable."""
    stored = runtime.store.get_state(FAULTS_KEY)
    if stored is None:
        return Faults()
    try:
        body = jsontext.loads(stored)
        check_body(body_validator(FAULTS_PATH, "PUT"), body)
        return Faults.from_body(body)
    except (ValueError, ApiError):
        log.warning("ignoring the stored sandbox faults (%s): not valid faults", FAULTS_KEY)
        return Faults()


class FaultState:
    """The faults of one sandbox, cached in memory and persisted in `sandbox_state`.

    `SandboxConfig.rate_limit_per_second` (`--rate-limit`), when given, replaces the stored
    limit at start and after a reset; `PUT /_sandbox/faults` changes it later.
    """

    def __init__(self, runtime: SandboxRuntime) -> None:
        self.runtime = runtime
        self._lock = threading.Lock()
        self._rng = random.Random()
        self.faults = _stored_faults(runtime)
        configured = runtime.config.rate_limit_per_second
        if configured is not None:
            self.faults.rate_limit_per_second = configured
        self._limit = self._new_limit()

    def _new_limit(self) -> PerKeyLimit | None:
        per_second = self.faults.rate_limit_per_second
        return PerKeyLimit(per_second) if per_second else None

    def set(self, faults: Faults) -> Faults:
        with self._lock:
            self.faults = faults
            self._limit = self._new_limit()
            self._save()
            return faults

    def _save(self) -> None:
        self.runtime.store.set_state(FAULTS_KEY, jsontext.dumps(asdict(self.faults)))

    def throttle(self, scope: Scope) -> ApiError | None:
        """429 when the caller's key has used up its sustained rate, else None."""
        limit = self._limit
        if limit is None:
            return None
        _, _, key = (header(scope, b"authorization") or "").strip().partition(" ")
        wait = limit.retry_after(key.strip() if key.strip() == self.runtime.api_key else OTHER_KEYS)
        if wait is None:
            return None
        return ApiError(
            "rate_limit_error",
            "throttled",
            f"Too many requests: this sandbox allows {limit.per_second} per second per key.",
            headers={"Retry-After": str(wait)},
        )

    def draw(self) -> ApiError | None:
        """The injected error for one API request, if any (consumes one burst answer)."""
        with self._lock:
            faults = self.faults
            if faults.rate_limit_burst > 0:
                faults.rate_limit_burst -= 1
                self._save()
                return ApiError(
                    "rate_limit_error",
                    "throttled",
                    "Injected fault: rate limit burst.",
                    headers={"Retry-After": str(faults.retry_after)},
                )
            if faults.error_rate and self._rng.random() < faults.error_rate:
                type_, code, message = self._rng.choice(ERROR_RATE_ANSWERS)
                return ApiError(type_, code, message)
            return None


def state_for(runtime: SandboxRuntime) -> FaultState:
    """This sandbox's fault state (kept on the runtime; re-read after a reset)."""
    return runtime.companion(FaultState, FaultState)


def forget(runtime: SandboxRuntime) -> None:
    """Drop the cached state (the store was reset underneath it)."""
    runtime.drop_companion(FaultState)


def prefer_error(header: str, retry_after: int) -> ApiError | None:
    """The error a `Prefer: code=…` header forces (None for a 2xx code or no code at all)."""
    match = PREFER_CODE.search(header)
    if match is None:
        return None
    status = int(match.group(1))
    if 200 <= status < 300:
        return None
    if status not in FORCED_ERRORS:
        documented = ", ".join(str(code) for code in FORCED_ERRORS)
        return ApiError(
            "invalid_request_error",
            "bad_request",
            f"Prefer: code={status} is not a documented status; use one of {documented}.",
            param="Prefer",
        )
    type_, code, message = FORCED_ERRORS[status]
    headers = {"Retry-After": str(retry_after)} if status == 429 else None
    return ApiError(type_, code, message, headers=headers)


class FaultMiddleware:
    """Applies `Prefer` and the run-wide faults to API requests, before the API sees them
    (it wraps the API dispatcher alone, so the controls, the hosted pages and the spec
    document never see a fault)."""

    def __init__(self, app: ASGIApp, runtime: SandboxRuntime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = state_for(self.runtime)
        faults = state.faults
        prefer = header(scope, b"prefer")
        if not faults.any and prefer is None:
            await self.app(scope, receive, send)
            return
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        error = prefer_error(prefer, faults.retry_after) if prefer is not None else None
        if error is None:
            error = state.throttle(scope) or state.draw()
        if error is not None:
            await send_error(send, error, request_id_of(scope))
            return
        await self.app(scope, receive, send)
