"""Reveal: names and e-mails shown only when the sidebar's toggle is on and the role
allows it, audited once per view, remembered per browser."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from medblocks.dashboard import audit
from medblocks.dashboard.reveal import RevealMemory, browser_key
from medblocks.dashboard.roles import NotAllowed
from ui_pages import _access, _audit


def reveal() -> bool:
    """Names and e-mails are shown when the sidebar's Reveal is on AND the role allows it; each
    page and filter set shown revealed is audited once per session (a viewer's request is
    recorded as refused and the page stays masked, whatever the browser sent)."""
    if not st.session_state.get("reveal_phi", False):
        return False
    filters = {k: st.query_params.get_all(k) for k in st.query_params}
    view = _audit.current_view()
    patient = st.query_params.get("open") or st.query_params.get("patient_id") or None
    seen = st.session_state.setdefault("audited_reveals", set())
    key = (view, audit.filters_text(filters))
    if key in seen:
        return True
    try:
        audit.record_reveal(_audit.audit_db(), _access.who(), view, filters, patient_id=patient)
    except NotAllowed as exc:
        st.warning(str(exc))
        return False
    seen.add(key)
    return True


SESSION_COOKIE = "_streamlit_xsrf"
"""Streamlit's own per-browser cookie (its XSRF protection, on by default): tells browser
sessions apart for Reveal; only its hash is kept."""


@st.cache_resource
def _reveal_memory() -> RevealMemory:
    return RevealMemory()


def _browser() -> str | None:
    return browser_key(_access.who().who, st.context.cookies.get(SESSION_COOKIE))


def reveal_toggle() -> None:
    """The sidebar's Reveal, kept for this browser's session across reloads (off by default);
    disabled for a role that may not reveal (reveal() refuses it whatever the browser sends)."""
    now = datetime.now(UTC)
    allowed = _access.who().may("reveal")
    if "reveal_phi" not in st.session_state:
        st.session_state["reveal_phi"] = allowed and _reveal_memory().remembered(_browser(), now)
    st.toggle(
        "Reveal names and emails",
        key="reveal_phi",
        disabled=not allowed,
        help=None if allowed else "Your role (viewer) keeps names masked.",
        on_change=lambda: _reveal_memory().remember(
            _browser(), bool(st.session_state["reveal_phi"]), datetime.now(UTC)
        ),
    )
