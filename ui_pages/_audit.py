"""What people do, recorded as they do it: writes run through `act` (role-checked and
audited), sign-ins and downloads recorded once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from medblocks.dashboard import audit
from medblocks.mirror.db import Mirror
from ui_pages import _access, _target

T = TypeVar("T")


def audit_db() -> Mirror:
    """Where the audit log is kept: the configured database (`MEDBLOCKS_DATABASE_URL`), the
    launches' own, kept across restarts and shared by replicas."""
    return _target.ledger().mirror


def act(action: str, run: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run one write as the person acting: refused unless their role allows it, recorded in the
    audit log either way (`medblocks.dashboard.audit.perform`)."""
    return audit.perform(audit_db(), _access.who(), action, run, *args, **kwargs)


def record_sign_in() -> None:
    """Audit a sign-in once: keyed by the ID token's issue time, so new tabs of the same
    sign-in add nothing, and a new sign-in is a new row."""
    issued = str(st.user.get("iat") or "")
    if st.session_state.get("audited_sign_in") == issued:
        return
    audit.record_sign_in(audit_db(), _access.who(), issued)
    st.session_state["audited_sign_in"] = issued


def record_export(file_name: str, rows: int, revealed: bool) -> None:
    """Audit a download of `file_name` (the download button's callback)."""
    audit.record_export(
        audit_db(), _access.who(), current_view(), file_name, rows, revealed=revealed
    )


def current_view() -> str:
    """The page being drawn, by its URL path (e.g. `patients`), as `dashboard.py` noted it."""
    return str(st.session_state.get("current_view", "overview"))
