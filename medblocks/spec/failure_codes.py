"""What each connection `failure_code` means, in a patient's words, and what to do next.

The one table of failure-code wording: the sandbox's hosted page, the dashboard's Return page
and Connection health's guidance all read it, so a code is never worded two ways. It lives in
the spec layer because both the sandbox (which may depend on `medblocks/spec` only) and the
dashboard import it. Medblocks publishes no list of `failure_code` values: these are the codes
the sandbox produces and the ones seen in Medblocks' examples; any other code gets
`unknown_failure(code)`, which names the code.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FailureWording:
    """One failure code as people are told about it.

    `what_happened` and `next_step` speak to the patient (second person, no jargon);
    `who_acts` tells ops who can fix it.
    """

    code: str
    what_happened: str
    next_step: str
    who_acts: str


_RETRY_LATER = "This is usually temporary. Try connecting again in a few minutes."
_SUPPORT = "If it keeps happening, contact the app's support team."

FAILURE_WORDING: dict[str, FailureWording] = {
    w.code: w
    for w in (
        FailureWording(
            "user_denied",
            "You declined to share your records from this hospital, so nothing was shared.",
            "If you change your mind, connect again and choose Approve when your hospital asks.",
            "patient (only if they change their mind)",
        ),
        FailureWording(
            "consent_timeout",
            "The sharing screen timed out before you made a choice.",
            "Connect again and choose Approve or Deny within a few minutes.",
            "patient (send a new session link)",
        ),
        FailureWording(
            "portal_login_failed",
            "Signing in to your hospital's patient portal did not work.",
            "Check your username and password on the hospital's own portal, then connect again.",
            "patient (send a new session link)",
        ),
        FailureWording(
            "invalid_credentials",
            "Your hospital's patient portal did not accept the username or password.",
            "Check them on the hospital's own portal (it can reset a forgotten password), "
            "then connect again.",
            "patient (send a new session link)",
        ),
        FailureWording(
            "oauth_error",
            "Your hospital's sign-in service reported a problem, so no connection was made.",
            f"{_RETRY_LATER} {_SUPPORT}",
            "patient retries; ops if it repeats for this hospital",
        ),
        FailureWording(
            "oauth_callback_failed",
            "Your hospital's sign-in did not send you back correctly, so no connection was made.",
            f"Connect again and keep this window open until you are back in the app. {_SUPPORT}",
            "patient retries; ops if it repeats for this hospital",
        ),
        FailureWording(
            "oauth_state_expired",
            "Signing in took too long and the sign-in link stopped working.",
            "Connect again and finish signing in within a few minutes.",
            "patient (send a new session link)",
        ),
        FailureWording(
            "token_exchange_failed",
            "You approved sharing, but your hospital did not finish handing over access.",
            f"{_RETRY_LATER} {_SUPPORT}",
            "patient retries; ops if it repeats for this hospital",
        ),
        FailureWording(
            "portal_unavailable",
            "Your hospital's patient portal could not be reached.",
            "The portal may be down for maintenance. Try connecting again later.",
            "nobody now; the patient retries later",
        ),
        FailureWording(
            "patient_not_found",
            "Your hospital's portal has no patient record for the account you signed in with.",
            "Sign in with your own portal account at the hospital where you are a patient.",
            "patient (send a new session link)",
        ),
        FailureWording(
            "insufficient_scope",
            "You shared less than the app needs to work.",
            "Connect again and allow everything listed on the sharing screen.",
            "patient (send a new session link)",
        ),
    )
}


def unknown_failure(code: str) -> FailureWording:
    """Wording for a code not in the table: honest, and naming the code for support."""
    return FailureWording(
        code,
        f"The connection could not be made (code {code}).",
        f"Try connecting again. {_SUPPORT}",
        "ops (unknown failure code)",
    )


def failure_wording(code: str) -> FailureWording:
    """The table's wording for `code`, or `unknown_failure(code)`."""
    return FAILURE_WORDING.get(code) or unknown_failure(code)
