"""Medblocks workbench dashboard: `streamlit run dashboard.py`.

Builds the navigation; every page lives in `pages/`, every computation in `medblocks/dashboard/`.
"""

from __future__ import annotations

import streamlit as st

from pages import _shared

st.set_page_config(page_title="Medblocks workbench", layout="wide")

if _shared.auth_configured() and not st.user.is_logged_in:
    st.title("Medblocks workbench")
    st.write("Sign in with your organisation's account to continue.")
    st.button("Log in", on_click=st.login)
    st.stop()

PAGES = [
    st.Page("pages/overview.py", title="Overview", url_path="overview", default=True),
    st.Page("pages/patients.py", title="Patients", url_path="patients"),
    st.Page("pages/connection_health.py", title="Connection health", url_path="health"),
    st.Page("pages/sessions.py", title="Sessions", url_path="sessions"),
    st.Page("pages/sources.py", title="Sources", url_path="sources"),
    st.Page("pages/launch.py", title="Launch", url_path="launch"),
    st.Page("pages/connected.py", title="Return page", url_path="connected"),
    st.Page("pages/webhooks.py", title="Webhooks", url_path="webhooks"),
    st.Page("pages/contract.py", title="Contract & drift", url_path="contract"),
]

st.navigation(PAGES).run()
