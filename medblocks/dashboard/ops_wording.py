"""Connections in ops words: what happened, who acts, what to do, for every status and every
failure code.

The one table ops read (Connection health's "What happened", the Sources view, alerts). It is
written to the person who runs the integration, in the third person; the patient's own words
(`medblocks.spec.failure_codes`) stay on the hosted page and the Return page. A code missing
here (Medblocks publishes no list) is named as it is, with the advice to ask support.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OpsWording:
    what_happened: str
    who_acts: str
    what_to_do: str


_NEW_LINK = "Send the patient a new session link."
_WATCH_SOURCE = "If several patients of this hospital fail the same way, open the Sources view."

STATUS_WORDING: dict[str, OpsWording] = {
    "active": OpsWording(
        "Connected: records are being pulled from the hospital.", "nobody", "Nothing."
    ),
    "failed": OpsWording(
        "The patient's attempt to connect this hospital did not complete.",
        "patient",
        _NEW_LINK,
    ),
    "refresh_failed": OpsWording(
        "The hospital stopped accepting the access granted earlier: records no longer update.",
        "patient",
        f"{_NEW_LINK} {_WATCH_SOURCE}",
    ),
    "expired": OpsWording(
        "The access the patient granted reached its end date: records no longer update.",
        "patient",
        _NEW_LINK,
    ),
    "disconnected": OpsWording(
        "Access was revoked on purpose (by the patient or from this workbench).",
        "nobody",
        "Nothing, unless the patient asks to share again.",
    ),
}

FAILURE_WORDING: dict[str, OpsWording] = {
    "user_denied": OpsWording(
        "The patient declined sharing at the hospital's consent screen.",
        "patient (only if they change their mind)",
        "Nothing; send a new link only if the patient asks.",
    ),
    "consent_timeout": OpsWording(
        "The consent screen timed out before the patient chose.", "patient", _NEW_LINK
    ),
    "portal_login_failed": OpsWording(
        "Sign-in to the hospital's patient portal failed.",
        "patient",
        f"{_NEW_LINK} The patient should check their portal login first. {_WATCH_SOURCE}",
    ),
    "invalid_credentials": OpsWording(
        "The hospital's portal refused the patient's username or password.",
        "patient",
        f"{_NEW_LINK} The patient can reset the password on the hospital's portal.",
    ),
    "oauth_error": OpsWording(
        "The hospital's sign-in service returned an error.",
        "ops if it repeats for this hospital",
        f"{_NEW_LINK} {_WATCH_SOURCE}",
    ),
    "oauth_callback_failed": OpsWording(
        "The hospital's sign-in did not redirect back correctly.",
        "ops if it repeats for this hospital",
        f"{_NEW_LINK} {_WATCH_SOURCE}",
    ),
    "oauth_state_expired": OpsWording(
        "The patient took too long to sign in; the sign-in state expired.", "patient", _NEW_LINK
    ),
    "token_exchange_failed": OpsWording(
        "The patient approved, but the hospital did not complete the token exchange.",
        "ops if it repeats for this hospital",
        f"{_NEW_LINK} {_WATCH_SOURCE}",
    ),
    "portal_unavailable": OpsWording(
        "The hospital's portal could not be reached.",
        "nobody now; ops if it lasts",
        f"Wait, then send a new link. {_WATCH_SOURCE}",
    ),
    "patient_not_found": OpsWording(
        "The hospital has no patient record for the account used to sign in.",
        "patient",
        f"{_NEW_LINK} The patient should sign in with their own account at this hospital.",
    ),
    "insufficient_scope": OpsWording(
        "The patient shared fewer scopes than the app requires.",
        "patient",
        f"{_NEW_LINK} Ask the patient to allow everything listed.",
    ),
}


def ops_wording(status: str, failure_code: str | None = None) -> OpsWording:
    """The ops wording for a connection: its failure code where it has one, else its status."""
    if failure_code:
        found = FAILURE_WORDING.get(failure_code)
        if found is not None:
            return found
        return OpsWording(
            f"The connection failed with code {failure_code}, which this workbench does not know.",
            "ops",
            "Ask Medblocks support what the code means, quoting the connection id.",
        )
    if status in STATUS_WORDING:
        return STATUS_WORDING[status]
    return OpsWording(
        f"The connection is in status {status}, which this workbench does not know.",
        "ops",
        "Check the API changelog (`python -m medblocks spec check`).",
    )
