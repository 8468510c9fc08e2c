"""The levers of a local sandbox (`/_sandbox/`), and what each will do, for the Sandbox page.

The `/_sandbox/` routes are not Medblocks API routes (they are documented in
`medblocks/spec/overlay.json`, not in the pinned `medblocks.json`), so they are called here with
httpx through the target's base URL and key, never through the Medblocks client. Every call
answers its JSON or raises `LeverError`, whose text starts with the request id. The failure
codes and the `Faults` type are the sandbox's own, read rather than copied (the personas:
`personas.py`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import quote

import httpx

from medblocks.dashboard.target import Target
from medblocks.sandbox import FAILURE_CODES, Faults
from medblocks.spec.failure_codes import failure_wording

PREFIX = "/_sandbox"
TIMEOUT = httpx.Timeout(30.0, connect=5.0)  # a clock advance runs due deliveries first


class LeverError(Exception):
    """A lever call that failed: the status, the sandbox's words and the request id."""

    def __init__(self, status: int | None, message: str, request_id: str | None) -> None:
        self.status = status
        self.message = message
        self.request_id = request_id
        where = f"HTTP {status}" if status is not None else "no answer"
        super().__init__(f"request id {request_id or 'none'}: {where}: {message}")


@dataclass(frozen=True)
class Clock:
    now: str
    offset_seconds: float


@dataclass(frozen=True)
class ForcedOutcome:
    """What `POST /_sandbox/patient-sessions/{id}/complete` answered."""

    patient_session: dict[str, Any]
    redirect_url: str


def failure_codes() -> dict[str, str]:
    """The failure codes a forced outcome may carry, with what the patient is told (the one
    wording table, `medblocks.spec.failure_codes`)."""
    return {code: failure_wording(code).what_happened for code in FAILURE_CODES}


class SandboxLevers:
    """The `/_sandbox/` routes of one target (an embedded or loopback sandbox)."""

    def __init__(self, target: Target, *, transport: httpx.BaseTransport | None = None) -> None:
        self._target = target
        self._transport = transport

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self._target.api_key}"}
        try:
            with httpx.Client(
                base_url=self._target.base_url, timeout=TIMEOUT, transport=self._transport
            ) as http:
                answer = http.request(method, PREFIX + path, json=body, headers=headers)
        except httpx.TransportError as exc:
            raise LeverError(
                None, f"{self._target.base_url} did not answer ({type(exc).__name__})", None
            ) from None
        request_id = answer.headers.get("X-Request-Id")
        try:
            data = answer.json()
        except ValueError:
            data = None
        if answer.is_success and data is not None:
            return data
        error = data.get("error") if isinstance(data, dict) else None
        if isinstance(error, dict):
            message = str(error.get("message") or error.get("code") or "refused")
            request_id = str(error.get("request_id") or request_id or "") or None
        elif answer.status_code == 404:
            message = "this server has no /_sandbox/ controls (is it a sandbox?)"
        else:
            message = "the answer was not the sandbox's JSON"
        raise LeverError(answer.status_code, message, request_id)

    def clock(self) -> Clock:
        return Clock(**_clock_fields(self._call("GET", "/clock")))

    def advance_clock(self, seconds: int) -> Clock:
        return Clock(**_clock_fields(self._call("POST", "/clock/advance", {"seconds": seconds})))

    def faults(self) -> Faults:
        return Faults.from_body(self._call("GET", "/faults"))

    def set_faults(self, faults: Faults) -> Faults:
        return Faults.from_body(self._call("PUT", "/faults", asdict(faults)))

    def clear_faults(self) -> Faults:
        return Faults.from_body(self._call("DELETE", "/faults"))

    def force_outcome(
        self,
        session_id: str,
        outcome: str,
        *,
        failure_code: str | None = None,
        connection_id: str | None = None,
        refresh_fails_after_seconds: int | None = None,
        records_sync_fails: bool = False,
    ) -> ForcedOutcome:
        body = force_body(
            outcome,
            failure_code=failure_code,
            connection_id=connection_id,
            refresh_fails_after_seconds=refresh_fails_after_seconds,
            records_sync_fails=records_sync_fails,
        )
        path = f"/patient-sessions/{quote(session_id, safe='')}/complete"
        data = self._call("POST", path, body)
        return ForcedOutcome(data["patient_session"], str(data["redirect_url"]))

    def reset(self, *, seed_demo: bool = True) -> dict[str, Any]:
        answer: dict[str, Any] = self._call("POST", "/reset", {"seed_demo": seed_demo})
        return answer


def _clock_fields(data: dict[str, Any]) -> dict[str, Any]:
    return {"now": str(data["now"]), "offset_seconds": float(data["offset_seconds"])}


def force_body(
    outcome: str,
    *,
    failure_code: str | None = None,
    connection_id: str | None = None,
    refresh_fails_after_seconds: int | None = None,
    records_sync_fails: bool = False,
) -> dict[str, Any]:
    """The complete-control body: only the fields overlay.json allows with that outcome."""
    body: dict[str, Any] = {"outcome": outcome}
    if connection_id:
        body["connection_id"] = connection_id
    if outcome == "failed":
        body["failure_code"] = failure_code or "user_denied"
    else:
        if refresh_fails_after_seconds:
            body["refresh_fails_after_seconds"] = refresh_fails_after_seconds
        if records_sync_fails:
            body["records_sync_fails"] = True
    return body


# -- what each lever will do, in words (shown before the button) ---------------------------------


def describe_force(session: dict[str, Any], body: dict[str, Any], source_name: str) -> str:
    """What forcing this outcome on this session does, as the sandbox will do it."""
    mode = "direct" if session.get("connection_id") else "picker"
    who = f"session {session.get('id')} (patient {session.get('patient_id')}, {mode} mode)"
    if body["outcome"] == "failed":
        attempt = (
            f"records one failed attempt at {source_name} with failure code "
            f"{body['failure_code']} ({failure_wording(body['failure_code']).what_happened})"
        )
    else:
        extras = []
        if body.get("refresh_fails_after_seconds"):
            extras.append(
                f"it turns refresh_failed {body['refresh_fails_after_seconds']} s later on the "
                "sandbox clock"
            )
        if body.get("records_sync_fails"):
            extras.append("its records sync fails (records.sync.failed)")
        attempt = f"connects {source_name} as active" + (
            "; " + "; ".join(extras) if extras else " and syncs synthetic records"
        )
    if mode == "picker":
        after = "then presses Done: the session becomes complete and its link stops working"
    elif body["outcome"] == "active":
        after = "the direct-mode session becomes complete"
    else:
        after = "the direct-mode session stays open (the link can be opened again)"
    return f"Acts as the patient on {who}: {attempt}; {after}. Webhook events are sent as usual."


def describe_advance(seconds: int, clock: Clock) -> str:
    return (
        f"Moves the sandbox clock {seconds:,} s forward from {clock.now}, then fires what falls "
        "due: refresh failures, webhook retries, session expiry (open sessions past their "
        "expires_at read as expired). The clock cannot be moved back except by a reset."
    )


def describe_faults(new: Faults, old: Faults | None = None) -> str:
    """The API routes' behaviour with `new` (faults never touch /_sandbox/ or /c/); "unchanged"
    when `new` is what `old` already is."""
    parts = []
    if new.latency_ms:
        parts.append(f"every API request waits {new.latency_ms} ms before it is answered")
    if new.error_rate:
        parts.append(
            f"{new.error_rate:.0%} of API requests answer 500 internal_error or 502 fhir_error"
        )
    if new.rate_limit_burst:
        parts.append(
            f"the next {new.rate_limit_burst} API requests answer 429 throttled with "
            f"Retry-After {new.retry_after} s"
        )
    if new.rate_limit_per_second:
        parts.append(
            f"each key may make {new.rate_limit_per_second} API requests per second; more "
            "answer 429 throttled"
        )
    if not parts:
        return "API requests are answered normally: no latency, no errors, no rate limit."
    change = " (unchanged)" if new == old else ""
    return "From now on " + "; ".join(parts) + "." + change


def describe_reset(seed_demo: bool) -> str:
    seeded = (
        "then reseeds the catalog and the demo organisation"
        if seed_demo
        else "then reseeds the catalog only (no patients)"
    )
    return (
        "Deletes every patient, session, connection, record, webhook endpoint and event, the "
        f"clock offset and the faults, {seeded}. This cannot be undone."
    )
