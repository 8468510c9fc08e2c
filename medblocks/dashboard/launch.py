"""The Launch page's logic: what each mode does, the form's validation, one
session per intent (the intent id travels in the page's URL and is claimed in the shared ledger
before the API call), and the launched session's progress in words."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeGuard
from urllib.parse import urlencode, urlsplit

from medblocks.client import Medblocks
from medblocks.client.models import PatientSession
from medblocks.dashboard.audit import perform, refuse_unless
from medblocks.dashboard.connection_guidance import failure_in_words
from medblocks.dashboard.error_messages import explain
from medblocks.dashboard.ledger import LaunchRecord, Ledger
from medblocks.dashboard.roles import Actor
from medblocks.dashboard.sources import source_name
from medblocks.spec.ids import RESERVED_PATIENT_PREFIXES

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
Mode = Literal["picker", "direct"]

MODE_GUIDANCE: dict[Mode, str] = {
    "picker": "The patient sees a list of hospitals and clinics (your recommended ones first), "
    "finds theirs, signs in to its portal and approves; they may connect several before "
    "returning to you.",
    "direct": "The patient goes straight to the sign-in of the one source you choose, approves, "
    "and is sent back to you as soon as it succeeds or fails.",
}


@dataclass(frozen=True)
class LaunchForm:
    """What a person typed on the Launch page, as strings and lists."""

    mode: Mode
    patient_id: str
    return_url: str
    patient_name: str = ""
    patient_email: str = ""
    source_ids: tuple[str, ...] = ()
    return_button_label: str = ""
    expires_in: int = 1800
    metadata_json: str = ""


@dataclass(frozen=True)
class LaunchRequest:
    """A validated form: the arguments of one `patient_sessions.create` call, typed."""

    patient_id: str
    return_url: str
    expires_in: int
    connection_id: str | None = None
    recommended_connection_ids: tuple[str, ...] = ()
    patient_name: str | None = None
    patient_email: str | None = None
    return_button_label: str | None = None
    metadata: dict[str, Any] | None = None

    @property
    def mode(self) -> Mode:
        return "direct" if self.connection_id is not None else "picker"

    def create_session(self, client: Medblocks) -> PatientSession:
        return client.patient_sessions.create(
            patient_id=self.patient_id,
            return_url=self.return_url,
            connection_id=self.connection_id,
            recommended_connection_ids=list(self.recommended_connection_ids) or None,
            patient_name=self.patient_name,
            patient_email=self.patient_email,
            return_button_label=self.return_button_label,
            expires_in=self.expires_in,
            metadata=self.metadata,
        )

    def without_phi(self) -> dict[str, Any]:
        """What the ledger keeps of the request: the arguments given, never the name or email."""
        kept = {
            "patient_id": self.patient_id,
            "return_url": self.return_url,
            "connection_id": self.connection_id,
            "recommended_connection_ids": list(self.recommended_connection_ids),
            "return_button_label": self.return_button_label,
            "metadata": self.metadata,
            "expires_in": self.expires_in,
        }
        return {key: value for key, value in kept.items() if value}


@dataclass(frozen=True)
class CheckedLaunch:
    """The form checked: a `request` when every field is usable, else `errors` by field."""

    request: LaunchRequest | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.request is not None


def validate_launch(form: LaunchForm) -> CheckedLaunch:
    errors: dict[str, str] = {}
    patient_id = form.patient_id.strip()
    if not patient_id:
        errors["patient_id"] = "Patient id is required."
    elif len(patient_id) > 200:
        errors["patient_id"] = f"Patient id is {len(patient_id)} characters; the limit is 200."
    elif patient_id.startswith(RESERVED_PATIENT_PREFIXES):
        errors["patient_id"] = (
            "Patient id must not start with a reserved prefix ("
            + ", ".join(RESERVED_PATIENT_PREFIXES)
            + ")."
        )
    name = form.patient_name.strip()
    if len(name) > 200:
        errors["patient_name"] = "Name is longer than 200 characters."
    email = form.patient_email.strip()
    if email and not EMAIL.match(email):
        errors["patient_email"] = "Email is not a valid address (name@example.com)."
    if form.mode == "direct" and len(form.source_ids) != 1:
        errors["sources"] = "Direct mode needs exactly one source."
    label = form.return_button_label.strip()
    if len(label) > 60:
        errors["return_button_label"] = "Return button label is longer than 60 characters."
    if not 60 <= form.expires_in <= 86400:
        errors["expires_in"] = "Expiry must be between 60 and 86400 seconds."
    metadata: Any = None
    if form.metadata_json.strip():
        try:
            metadata = json.loads(form.metadata_json)
        except json.JSONDecodeError as exc:
            errors["metadata"] = f"Metadata is not valid JSON: {exc.msg} (line {exc.lineno})."
        else:
            if not isinstance(metadata, dict):
                errors["metadata"] = "Metadata must be a JSON object ({...})."
    if errors:
        return CheckedLaunch(errors=errors)
    direct = form.mode == "direct"
    return CheckedLaunch(
        LaunchRequest(
            patient_id=patient_id,
            return_url=form.return_url,
            expires_in=form.expires_in,
            connection_id=form.source_ids[0] if direct else None,
            recommended_connection_ids=() if direct else form.source_ids,
            patient_name=name or None,
            patient_email=email or None,
            return_button_label=label or None,
            metadata=metadata or None,
        )
    )


@dataclass(frozen=True)
class LaunchOutcome:
    record: LaunchRecord
    created_now: bool


def launch_once(
    client: Medblocks,
    ledger: Ledger,
    request: LaunchRequest,
    *,
    intent_id: str,
    target: str,
    launched_by: Actor,
    action: str = "launch",
) -> LaunchOutcome:
    """Create the session for `intent_id` unless the ledger already holds that intent.

    Refused (and audited as refused) before anything is written unless `launched_by`'s role
    allows `action` (a launch, or a session link); a session created, or a failure, is audited
    with its request id in the ledger's database.

    The intent is written before the call, the session id after it; an API error is recorded on
    the intent too, and a retry needs a new intent (writes are never retried automatically).
    """
    where = {"patient_id": request.patient_id, "detail": f"intent {intent_id}"}
    refuse_unless(ledger.mirror, launched_by, action, **where)
    existing = ledger.begin(
        intent_id=intent_id,
        target=target,
        launched_by=launched_by.who,
        patient_id=request.patient_id,
        mode=request.mode,
        request=request.without_phi(),
    )
    if existing is not None:
        return LaunchOutcome(existing, created_now=False)
    try:
        session = perform(
            ledger.mirror, launched_by, action, request.create_session, client, **where
        )
    except Exception as exc:  # a timeout may still have created it: record, never retry
        ledger.fail(intent_id, error=str(exc))
        raise
    ledger.succeed(intent_id, session_id=session.id, session_url=session.url)
    record = ledger.get(intent_id)
    assert record is not None
    return LaunchOutcome(record, created_now=True)


def recent_launches(
    records: Iterable[LaunchRecord],
    sessions: dict[str, PatientSession | str],
    app_url: str | None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Launches as table rows, in the given order: when, who, patient, mode, outcome, the hosted
    link and the link back to the launch's own view (never the name or email: not kept)."""
    now = now or datetime.now(UTC)
    return [
        {
            "when": short_time(r.requested_at),
            "by": r.launched_by,
            "patient": r.patient_id,
            "mode": r.mode,
            "outcome": launch_outcome(r, sessions.get(r.session_id or ""), now),
            "hosted page": r.session_url,
            "launch": launch_page_url(app_url, r.intent_id),
        }
        for r in records
    ]


RETURN_PATH = "/connected"
FALLBACK_APP_URL = "http://127.0.0.1:8501"


def default_return_url(app_url: str | None) -> str:
    """The dashboard's own return page on the origin the browser used (`…/connected`)."""
    parts = urlsplit(app_url or FALLBACK_APP_URL)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        parts = urlsplit(FALLBACK_APP_URL)
    return f"{parts.scheme}://{parts.netloc}{RETURN_PATH}"


def new_intent_id() -> str:
    """A fresh launch intent: 32 hex digits, carried in the page's URL (`?intent=`)."""
    return uuid.uuid4().hex


INTENT_ID = re.compile(r"^[0-9a-f]{32}$")


def is_intent_id(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and INTENT_ID.match(value) is not None


def launch_page_url(app_url: str | None, intent_id: str) -> str:
    """The Launch page showing one launch (`…/launch?intent=…`), on the browser's origin."""
    origin = default_return_url(app_url).removesuffix(RETURN_PATH)
    return f"{origin}/launch?{urlencode({'intent': intent_id})}"


# -- after Create: where a launch stands -------------------------------------------------------

Stage = Literal["creating", "interrupted", "created", "failed"]
# Longer than the client's 30 s read timeout: a create still unanswered by then never will be.
INTERRUPTED_AFTER = timedelta(seconds=90)


def parse_time(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def short_time(stamp: str | None) -> str:
    """`2026-11-29 07:12:03 UTC` from an API or ledger timestamp; empty for none."""
    if not stamp:
        return ""
    return parse_time(stamp).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def launch_stage(record: LaunchRecord, now: datetime | None = None) -> Stage:
    """`creating` while the claimed create is under way, `interrupted` when it never finished
    (the dashboard stopped mid-call: the session may or may not exist), else its outcome."""
    if record.session_id:
        return "created"
    if record.error is not None:
        return "failed"
    now = now or datetime.now(UTC)
    return (
        "interrupted" if now - parse_time(record.requested_at) > INTERRUPTED_AFTER else "creating"
    )


@dataclass(frozen=True)
class SessionProgress:
    """A launched session as read from the server: one line for the PM and one row per
    attempt. `connected` is True only for a connection whose status is `active`."""

    tone: Literal["success", "info", "warning"]
    headline: str
    connected: bool
    attempts: list[dict[str, str]]


def session_progress(
    session: PatientSession, catalog: dict[str, dict[str, Any]]
) -> SessionProgress:
    attempts = [
        {
            "source": source_name(catalog, item.connection_id),
            "status": item.status,
            "what happened": (
                "Connected; records arrive in the background."
                if item.status == "active"
                else failure_in_words(item.failure_code)
            ),
            "failure code": item.failure_code or "",
            "when": short_time(item.failure_at or item.created_at),
        }
        for item in session.connections
    ]
    active = [a["source"] for a in attempts if a["status"] == "active"]
    expires = short_time(session.expires_at)
    if active:
        return SessionProgress("success", f"Connected: {', '.join(active)}.", True, attempts)
    if session.status == "expired":
        headline = f"The link expired ({expires}) with no active connection."
        return SessionProgress("warning", headline, False, attempts)
    if session.status == "complete":
        headline = "The patient finished without an active connection."
        return SessionProgress("warning", headline, False, attempts)
    if attempts:
        headline = (
            f"No connection yet: the last attempt failed. The patient may try again on the same "
            f"link until {expires}."
        )
        return SessionProgress("warning", headline, False, attempts)
    headline = f"Waiting for the patient to open the link and sign in (open until {expires})."
    return SessionProgress("info", headline, False, attempts)


def launch_outcome(
    record: LaunchRecord, session: PatientSession | str | None, now: datetime
) -> str:
    """A launch's outcome in a few words, for the recent launches table."""
    stage = launch_stage(record, now)
    if stage == "creating":
        return "creating the session…"
    if stage == "interrupted":
        return "interrupted: the create never finished"
    if stage == "failed":
        return "create failed (not retried)"
    if session is None:
        return "session created (status not read)"
    if isinstance(session, str):
        return f"session created; status not read ({session})"
    active = [c for c in session.connections if c.status == "active"]
    if active:
        return "connected"
    if session.status == "expired":
        return "link expired, nothing connected"
    if session.status == "complete":
        return "finished, nothing connected"
    failed = [c for c in session.connections if c.failure_code]
    if failed:
        return f"attempt failed ({failed[-1].failure_code}), link still open"
    return "waiting for the patient"


def read_sessions(client: Medblocks, session_ids: Iterable[str]) -> dict[str, PatientSession | str]:
    """The sessions read from the server by id; for one that cannot be read, why (with the
    request id) instead."""
    found: dict[str, PatientSession | str] = {}
    for session_id in session_ids:
        try:
            found[session_id] = client.patient_sessions.retrieve(session_id)
        except Exception as exc:  # shown in its row; the launch itself is unaffected
            problem = explain(exc)
            found[session_id] = f"{problem.title.lower()}; {problem.request_id_text.lower()}"
    return found


def form_of(record: LaunchRecord) -> LaunchForm:
    """The form a recorded launch was made from, to launch again deliberately (a new intent).
    The patient's name and email are not kept, so they come back empty."""
    request = record.request
    direct = record.mode == "direct"
    sources = [request["connection_id"]] if direct else request.get("recommended_connection_ids")
    metadata = request.get("metadata")
    return LaunchForm(
        mode="direct" if direct else "picker",
        patient_id=record.patient_id,
        return_url=str(request.get("return_url", "")),
        source_ids=tuple(sources or ()),
        return_button_label=str(request.get("return_button_label") or ""),
        expires_in=int(request.get("expires_in", 1800)),
        metadata_json=json.dumps(metadata) if metadata else "",
    )
