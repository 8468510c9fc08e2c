"""Connection health's row action: a new session link for one patient and one source.

Direct mode (`POST /patient-sessions` with `connection_id` set to the connection's source), so
the patient goes straight to that hospital's sign-in. It goes through the Launch ledger
(`launch_once`): one intent (one press of the button) is one session, even after a reload; an
error is recorded on the intent and never retried automatically (a new press is a new intent).
Only where the target allows writes (never a live key in its read-only mode).
"""

from __future__ import annotations

from medblocks.client import Medblocks
from medblocks.dashboard.launch import LaunchOutcome, LaunchRequest, launch_once
from medblocks.dashboard.ledger import Ledger
from medblocks.dashboard.roles import Actor
from medblocks.dashboard.target import Target

EXPIRES_IN = 86400
"""A day: the link is sent to the patient by a person, who may not open it within 30 minutes."""


class WritesNotAllowed(RuntimeError):
    """The target is read-only (a live key without MEDBLOCKS_ALLOW_LIVE_WRITES=true)."""


def new_link_request(patient_id: str, source_id: str, return_url: str) -> LaunchRequest:
    """The session to create: direct mode at `source_id` for `patient_id`."""
    return LaunchRequest(
        patient_id=patient_id,
        return_url=return_url,
        expires_in=EXPIRES_IN,
        connection_id=source_id,
        metadata={"created_from": "connection_health"},
    )


def create_session_link(
    client: Medblocks,
    ledger: Ledger,
    target: Target,
    *,
    patient_id: str,
    source_id: str,
    return_url: str,
    intent_id: str,
    launched_by: Actor,
) -> LaunchOutcome:
    """Create (once per `intent_id`) a direct-mode session for the patient at the source, if
    `launched_by`'s role allows session links (audited)."""
    if not target.writes_allowed:
        raise WritesNotAllowed(
            "Writes are disabled for this target (set MEDBLOCKS_ALLOW_LIVE_WRITES=true)."
        )
    return launch_once(
        client,
        ledger,
        new_link_request(patient_id, source_id, return_url),
        intent_id=intent_id,
        target=target.kind,
        launched_by=launched_by,
        action="session-link",
    )
