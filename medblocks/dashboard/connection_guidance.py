"""What each connection status means: who must act, and what to tell the patient.

A failed connection's `failure_code` is worded by the shared table in
`medblocks.spec.failure_codes` (also read by the Return page and the hosted page).
"""

from __future__ import annotations

from dataclasses import dataclass

from medblocks.spec.failure_codes import failure_wording


@dataclass(frozen=True)
class Guidance:
    who_acts: str
    tell_patient: str


GUIDANCE: dict[str, Guidance] = {
    "active": Guidance("nobody", "You are connected; your records arrive in the background."),
    "failed": Guidance(
        "patient (send a new session link)",
        "Connecting your hospital did not work. Please open the new link and try again.",
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


def guidance_for(status: str, failure_code: str | None = None) -> Guidance:
    """Who acts and what to tell the patient; a failed connection's code refines both."""
    if status == "failed" and failure_code:
        wording = failure_wording(failure_code)
        return Guidance(wording.who_acts, f"{wording.what_happened} {wording.next_step}")
    return GUIDANCE.get(status, Guidance("ops (unknown status)", "Contact support."))


def failure_in_words(code: str | None) -> str:
    """What happened, in the patient's words (the shared failure-code table); "" for no code."""
    if not code:
        return ""
    return failure_wording(code).what_happened
