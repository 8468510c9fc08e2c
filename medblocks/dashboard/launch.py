"""The Launch page's logic: validate the form, then create the session exactly once per intent."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from medblocks.client import Medblocks
from medblocks.client.models import PatientSession
from medblocks.dashboard.ledger import LaunchRecord, Ledger
from medblocks.spec.ids import RESERVED_PATIENT_PREFIXES

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
Mode = Literal["picker", "direct"]


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
    launched_by: str,
) -> LaunchOutcome:
    """Create the session for `intent_id` unless the ledger already holds that intent.

    The intent is written before the call, the session id after it; an API error is recorded on
    the intent too, and a retry needs a new intent (writes are never retried automatically).
    """
    existing = ledger.begin(
        intent_id=intent_id,
        target=target,
        launched_by=launched_by,
        patient_id=request.patient_id,
        mode=request.mode,
        request=request.without_phi(),
    )
    if existing is not None:
        return LaunchOutcome(existing, created_now=False)
    try:
        session = request.create_session(client)
    except Exception as exc:  # a timeout may still have created it: record, never retry
        ledger.fail(intent_id, error=str(exc))
        raise
    ledger.succeed(intent_id, session_id=session.id, session_url=session.url)
    record = ledger.get(intent_id)
    assert record is not None
    return LaunchOutcome(record, created_now=True)


def recent_launches(ledger: Ledger, limit: int = 10) -> list[dict[str, Any]]:
    """The ledger's latest launches as table rows, newest first (the request body left out)."""
    return [
        {
            "when": r.requested_at,
            "who": r.launched_by,
            "target": r.target,
            "patient_id": r.patient_id,
            "mode": r.mode,
            "session": r.session_id,
            "error": r.error,
        }
        for r in ledger.recent(limit)
    ]


RETURN_PATH = "/connected"
FALLBACK_APP_URL = "http://127.0.0.1:8501"


def default_return_url(app_url: str | None) -> str:
    """The dashboard's own return page on the origin the browser used (`…/connected`)."""
    parts = urlsplit(app_url or FALLBACK_APP_URL)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        parts = urlsplit(FALLBACK_APP_URL)
    return f"{parts.scheme}://{parts.netloc}{RETURN_PATH}"


def intent_for(form: LaunchForm, nonce: str) -> str:
    """The same form filled in the same way under one nonce is one intent (one session)."""
    payload = json.dumps([nonce, asdict(form)], sort_keys=True, default=list)
    return hashlib.sha256(payload.encode()).hexdigest()[:32]
