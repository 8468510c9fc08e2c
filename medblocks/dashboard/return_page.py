"""The return page's logic: validate the query string, re-read the session, name the outcome.

The query string is only a hint (anyone can type one). The outcome comes from
`GET /patient-sessions/{id}`; success means a connection whose status is `active`. Every
outcome carries a next step in the patient's words; a failure's words come from the shared
failure-code table (`medblocks.spec.failure_codes`), which the hosted page also reads.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from medblocks.client import Medblocks
from medblocks.client.errors import NotFoundError
from medblocks.mirror.store import text as plain
from medblocks.spec.failure_codes import FailureWording, failure_wording

SESSION_ID = re.compile(r"^ps_[A-Za-z0-9]{1,64}$")
CODE = re.compile(r"^[a-z0-9_.\-]{1,64}$")
SOURCE_ID = re.compile(r"^\S{1,500}$")

State = Literal["connected", "partly_connected", "failed", "abandoned", "expired", "invalid"]

HEADLINES: dict[str, str] = {
    "connected": "Connected — pulling records",
    "partly_connected": "Partly connected",
    "failed": "Connection failed",
    "abandoned": "No connection attempted",
    "expired": "Session expired",
    "invalid": "This return link cannot be checked",
}

NEXT_STEPS: dict[str, str] = {
    "connected": "Nothing more to do: your records arrive in the background. "
    "You can close this page.",
    "abandoned": "No hospital was connected. To share your records, ask for a new link and "
    "pick your hospital.",
    "open": "The link is still open: go back to it and pick your hospital, or ask for a new one.",
    "expired": "For your security the link stopped working. Ask for a new link and finish "
    "within its time limit.",
    "invalid": "This page cannot confirm anything from this link. Go back to the app and "
    "start again.",
}


@dataclass(frozen=True)
class Attempt:
    source_id: str
    status: str
    failure_code: str | None
    failure_words: str  # what happened, from the shared table ("" without a code)
    next_step: str  # what to do next, from the shared table ("" without a code)


@dataclass(frozen=True)
class ReturnOutcome:
    state: State
    headline: str
    detail: str
    next_step: str
    patient_id: str | None = None
    session_id: str | None = None
    session_status: str | None = None
    attempts: tuple[Attempt, ...] = ()
    hint_error: str | None = None
    hint_error_description: str | None = None
    request_id: str | None = None
    problems: tuple[str, ...] = field(default=())

    @property
    def is_failure(self) -> bool:
        return self.state != "connected"


@dataclass(frozen=True)
class ReturnHint:
    patient_id: str
    session_id: str
    success: bool | None
    source_id: str | None
    error: str | None
    error_description: str | None


def parse_hint(params: Mapping[str, str]) -> tuple[ReturnHint | None, list[str]]:
    """Check each parameter's shape; a list of problems when the link is unusable."""
    problems: list[str] = []
    patient_id = params.get("patient_id", "")
    session_id = params.get("patient_session_id", "")
    if not patient_id or len(patient_id) > 200:
        problems.append("patient_id is missing or longer than 200 characters")
    if not SESSION_ID.match(session_id):
        problems.append("patient_session_id is missing or is not a ps_ session id")
    success_text = params.get("success")
    success: bool | None = None
    if success_text is not None:
        if success_text not in ("true", "false"):
            problems.append("success must be true or false")
        success = success_text == "true"
    source_id = params.get("connection_id") or None
    if source_id is not None and not SOURCE_ID.match(source_id):
        problems.append("connection_id is not a source id")
    error = params.get("error") or None
    if error is not None and not CODE.match(error):
        problems.append("error is not an error code")
    description = params.get("error_description") or None
    if description is not None and len(description) > 500:
        description = description[:500]
    if problems:
        return None, problems
    return ReturnHint(patient_id, session_id, success, source_id, error, description), []


def verify_return(client: Medblocks, params: Mapping[str, str]) -> ReturnOutcome:
    """Re-read the session named in `params` and decide what happened."""
    hint, problems = parse_hint(params)
    if hint is None:
        return ReturnOutcome(
            "invalid",
            HEADLINES["invalid"],
            "The link is missing parameters or has malformed ones: " + "; ".join(problems) + ".",
            NEXT_STEPS["invalid"],
            problems=tuple(problems),
        )
    try:
        session = client.patient_sessions.retrieve(hint.session_id)
    except NotFoundError as exc:
        return ReturnOutcome(
            "invalid",
            HEADLINES["invalid"],
            "No session with this id exists in this organisation.",
            NEXT_STEPS["invalid"],
            session_id=hint.session_id,
            request_id=exc.request_id,
        )
    if session.patient_id != hint.patient_id:
        return ReturnOutcome(
            "invalid",
            HEADLINES["invalid"],
            "The link's patient does not match the session's patient; the link was altered.",
            NEXT_STEPS["invalid"],
            session_id=session.id,
            request_id=session._request_id,
        )
    attempts = tuple(
        _attempt(a.connection_id, plain(a.status), a.failure_code) for a in session.connections
    )
    status = plain(session.status)
    active = [a for a in attempts if a.status == "active"]
    not_active = [a for a in attempts if a.status != "active"]
    common = {
        "patient_id": session.patient_id,
        "session_id": session.id,
        "session_status": status,
        "attempts": attempts,
        "hint_error": hint.error,
        "hint_error_description": hint.error_description,
        "request_id": session._request_id,
    }
    if active and not not_active:
        detail = (
            "The patient's hospital granted access. Records are pulled in the background "
            "and may take a while to appear."
        )
        return ReturnOutcome(
            "connected", HEADLINES["connected"], detail, NEXT_STEPS["connected"], **common
        )
    if active:
        detail = f"{len(active)} of {len(attempts)} hospital connections are active."
        step = (
            f"The connected hospitals share your records. For the others: {_first_step(not_active)}"
        )
        return ReturnOutcome(
            "partly_connected", HEADLINES["partly_connected"], detail, step, **common
        )
    if attempts:
        codes = ", ".join(sorted({a.failure_code or a.status for a in attempts}))
        detail = f"No connection is active ({codes})."
        return ReturnOutcome("failed", HEADLINES["failed"], detail, _first_step(attempts), **common)
    if hint.error:
        wording = failure_wording(hint.error)
        detail = (
            f"{wording.what_happened} (reported by the redirect; the session records no attempt)."
        )
        return ReturnOutcome("failed", HEADLINES["failed"], detail, wording.next_step, **common)
    if status == "expired":
        detail = "The session's link expired before any hospital was connected."
        return ReturnOutcome(
            "expired", HEADLINES["expired"], detail, NEXT_STEPS["expired"], **common
        )
    if status == "complete":
        detail = "The patient finished the flow without connecting a hospital."
        return ReturnOutcome(
            "abandoned", HEADLINES["abandoned"], detail, NEXT_STEPS["abandoned"], **common
        )
    detail = "The session is still open and no hospital has been connected yet."
    return ReturnOutcome("abandoned", HEADLINES["abandoned"], detail, NEXT_STEPS["open"], **common)


def _attempt(source_id: str, status: str, failure_code: str | None) -> Attempt:
    wording: FailureWording | None = failure_wording(failure_code) if failure_code else None
    return Attempt(
        source_id=source_id,
        status=status,
        failure_code=failure_code,
        failure_words=wording.what_happened if wording else "",
        next_step=wording.next_step if wording else "",
    )


def _first_step(failed: list[Attempt] | tuple[Attempt, ...]) -> str:
    """The next step of the first failed attempt that has a code, else a general one."""
    for attempt in failed:
        if attempt.next_step:
            return attempt.next_step
    return "Try connecting again with a new link."
