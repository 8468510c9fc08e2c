"""What each connection status means: who must act, and what to tell the patient."""

from __future__ import annotations

from dataclasses import dataclass

STATUSES = ("active", "failed", "refresh_failed", "expired", "disconnected")
NEEDS_ATTENTION = ("failed", "refresh_failed", "expired")


@dataclass(frozen=True)
class Guidance:
    who_acts: str
    tell_patient: str


GUIDANCE: dict[str, Guidance] = {
    "active": Guidance("nobody", "You are connected; your records arrive in the background."),
    "failed": Guidance(
        "patient (send a new session link)",
        "The sign-in to your hospital portal did not finish. Please open the new link and "
        "sign in again.",
    ),
    "refresh_failed": Guidance(
        "patient (send a new session link)",
        "Your hospital stopped accepting the access you granted earlier. Please reconnect "
        "through the new link so your records keep updating.",
    ),
    "expired": Guidance(
        "patient (send a new session link)",
        "The access you granted has expired. Please reconnect through the new link.",
    ),
    "disconnected": Guidance(
        "nobody (access was revoked on purpose)",
        "Access to this hospital was removed. Reconnect only if you want to share it again.",
    ),
}

# Failure codes are not enumerated publicly; these are the ones we know of, in plain words.
FAILURE_WORDS: dict[str, str] = {
    "user_denied": "The patient declined to share access on the hospital's consent screen.",
    "oauth_callback_failed": "The hospital's sign-in did not hand control back correctly.",
    "portal_login_failed": "The patient could not sign in to the hospital portal.",
    "consent_timeout": "The patient did not finish the consent screen in time.",
    "oauth_error": "The hospital's sign-in server reported an error.",
    "oauth_state_expired": "The sign-in took too long and its link expired.",
    "token_exchange_failed": "The hospital did not issue an access token after sign-in.",
    "invalid_credentials": "The patient's portal username or password was not accepted.",
    "portal_unavailable": "The hospital portal could not be reached.",
    "patient_not_found": "The hospital portal has no record of this patient.",
    "insufficient_scope": "The patient granted less access than is needed.",
}


def guidance_for(status: str) -> Guidance:
    return GUIDANCE.get(status, Guidance("ops (unknown status)", "Contact support."))


def failure_in_words(code: str | None) -> str:
    if not code:
        return ""
    return FAILURE_WORDS.get(code, f"The connection failed with code {code!r}.")
