"""Medblocks workbench dashboard: `streamlit run dashboard.py`.

The frame around every page, drawn once here: sign-in (when configured), the target (a
configuration error stops here with its message), the LIVE banner, the sidebar (target, PHI
toggle, refresh) and the page list, built from what the target allows: Launch is listed only
where writes are allowed. Every page lives in `pages/`, every computation in `medblocks/dashboard/`.
"""

from __future__ import annotations

import streamlit as st

from medblocks.dashboard.target import Target
from ui_pages import _shared

st.set_page_config(page_title="Medblocks workbench", layout="wide")

if _shared.auth_configured() and not st.user.is_logged_in:
    st.title("Medblocks workbench")
    st.write("Sign in with your organisation's account to continue.")
    st.button("Log in", on_click=st.login)
    st.stop()


def draw_frame(t: Target) -> None:
    """The live banner, the target, the PHI toggle and refresh."""
    if t.is_live:
        st.error(
            "LIVE — production Medblocks with real patient data. "
            + ("Writes are ENABLED." if t.writes_allowed else "Read-only: writes are disabled.")
        )
    with st.sidebar:
        st.caption("Target")
        st.text(t.label)
        st.text(t.base_url)
        st.toggle("Reveal names and emails", key="reveal_phi", value=False)
        if st.button("Refresh data", key="refresh_data"):
            st.cache_data.clear()


OVERVIEW = st.Page("ui_pages/overview.py", title="Overview", url_path="overview")


def open_overview() -> None:
    """The app's root URL opens Overview under its own address.

    Streamlit serves the default page at `/` only, so Overview cannot be the default page
    without `/overview` answering "Page not found"; this hidden page at `/` switches to it.
    """
    st.switch_page(OVERVIEW)


def page_list(t: Target) -> list[st.Page]:
    """The pages this target allows, in menu order (the hidden root page first)."""
    launch = [st.Page("ui_pages/launch.py", title="Launch", url_path="launch")]
    return [
        st.Page(open_overview, title="Overview", default=True, visibility="hidden"),
        OVERVIEW,
        st.Page("ui_pages/patients.py", title="Patients", url_path="patients"),
        st.Page("ui_pages/connection_health.py", title="Connection health", url_path="health"),
        st.Page("ui_pages/sessions.py", title="Sessions", url_path="sessions"),
        st.Page("ui_pages/sources.py", title="Sources", url_path="sources"),
        *(launch if t.writes_allowed else []),
        st.Page("ui_pages/connected.py", title="Return page", url_path="connected"),
        st.Page("ui_pages/webhooks.py", title="Webhooks", url_path="webhooks"),
        st.Page("ui_pages/contract.py", title="Contract & drift", url_path="contract"),
    ]


target = _shared.target()
draw_frame(target)
st.navigation(page_list(target)).run()
