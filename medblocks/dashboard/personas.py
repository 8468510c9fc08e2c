"""The sandbox's test patients in words, for the Launch and Sandbox pages: who to sign in as on
the hosted page and what Approve then leads to. Read from the sandbox's one table
(`medblocks.sandbox.PERSONAS`), never copied."""

from __future__ import annotations

from medblocks.sandbox import DENIED, PERSONAS, SANDBOX_PASSWORD, Outcome
from medblocks.spec.failure_codes import failure_wording

SIGN_IN = (
    f"Sign in on the hosted page as any of these usernames, with the password {SANDBOX_PASSWORD}: "
    "the persona decides what Approve leads to."
)
DENY_NOTE = (
    f"Deny on the consent screen always fails as declined ({DENIED.failure_code}), "
    "whoever signed in."
)


def persona_rows() -> list[dict[str, str]]:
    """Each persona of the hosted sign-in page and what Approve leads to."""
    return [{"username": p.username, "after Approve": after(p.approve)} for p in PERSONAS.values()]


def after(outcome: Outcome) -> str:
    """What an attempt with `outcome` does, in the sandbox's terms (status, events)."""
    if outcome.status != "active":
        code = outcome.failure_code or ""
        return f"failed: {code} ({failure_wording(code).what_happened})"
    if outcome.refresh_fails_after is not None:
        hours = outcome.refresh_fails_after.total_seconds() / 3600
        return (
            f"active, then refresh_failed {hours:g} sandbox-clock hours later "
            "(connection.token_refresh_failed)"
        )
    if outcome.records_sync_fails:
        return "active; the records sync fails (records.sync.failed)"
    return "active; synthetic records synced (records.sync.completed)"
