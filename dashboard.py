"""Medblocks workbench dashboard: `streamlit run dashboard.py`.

The frame around every page, drawn once here: the refusal of a session that did not reach the
dashboard under one of its own hosts (`medblocks.dashboard.access`), sign-in (when configured),
the target (a configuration error stops here with its message), the LIVE banner, the sidebar
(target, PHI toggle, refresh), a message naming the URL and the fix when nothing answers there,
and the page list, built from what the target allows: Launch only where writes are allowed,
Sandbox only for a local sandbox (embedded, or a sandbox key on this machine). Every page lives
in `ui_pages/` (not `pages/`: see its docstring), every computation in `medblocks/dashboard/`.
"""

from __future__ import annotations

import streamlit as st

from medblocks.dashboard.database_problem import is_database_error
from medblocks.dashboard.server_health import unreachable_advice
from medblocks.dashboard.target import Target
from medblocks.dashboard.url_values import unknown_path
from ui_pages import _access, _audit, _mirror, _reads, _reveal, _target

st.set_page_config(page_title="Medblocks workbench", layout="wide")
_access.refuse_foreign_sessions()  # a foreign Host/Origin, or a network address without sign-in

if _access.auth_configured() and not st.user.is_logged_in:
    st.title("Medblocks workbench")
    st.write("Sign in with your organisation's account to continue.")
    st.button("Log in", on_click=st.login)
    st.stop()
if _access.auth_configured():
    _audit.record_sign_in()  # once per sign-in, in the audit log


def draw_frame(t: Target) -> None:
    """The target banner, the target, the PHI toggle and refresh."""
    if t.is_production:
        st.error(
            "LIVE — production Medblocks with real patient data. "
            + ("Writes are ENABLED." if t.writes_allowed else "Read-only: writes are disabled.")
        )
    elif t.is_live:
        st.warning(
            f"A live key is configured, but {t.base_url} is not Medblocks. "
            "The pages stay read-only as for any live key. Check MEDBLOCKS_API_URL (Medblocks is "
            "https://app.medblocks.com), or use a sandbox key for a sandbox."
        )
    with st.sidebar:
        st.caption("Target")
        st.text(t.label)
        st.text(t.base_url)
        actor = _access.who()
        st.text(f"{actor.who} · {actor.role}")
        _reveal.reveal_toggle()
        if st.button("Refresh data", key="refresh_data"):
            st.cache_data.clear()


def report_unreachable(t: Target) -> None:
    """When nothing answers at the target: the URL and the likely fix, above every page."""
    try:
        _reads.health()
    except Exception as exc:
        advice = unreachable_advice(t.base_url, t.place, exc)
        if advice is not None:
            st.error("The target cannot be reached.")
            st.text(advice)


OVERVIEW = st.Page("ui_pages/overview.py", title="Overview", url_path="overview")


def open_overview() -> None:
    """The app's root URL opens Overview under its own address; an address that names no page
    (Streamlit runs the default page for it) says so and links to Overview.

    Streamlit serves the default page at `/` only, so Overview cannot be the default page
    without `/overview` answering "Page not found"; this hidden page at `/` switches to it.
    """
    path = unknown_path(st.context.url)
    if path is not None:
        st.title("No such page")
        st.text(f"There is no page at {path}.")
        st.page_link(OVERVIEW, label="Open Overview")
        return
    st.switch_page(OVERVIEW, query_params={k: st.query_params.get_all(k) for k in st.query_params})


def page_list(t: Target) -> list[st.Page]:
    """The pages this target allows, in menu order (the hidden root page first)."""
    launch = [st.Page("ui_pages/launch.py", title="Launch", url_path="launch")]
    sandbox = [st.Page("ui_pages/sandbox.py", title="Sandbox", url_path="sandbox")]
    return [
        st.Page(open_overview, title="Overview", default=True, visibility="hidden"),
        OVERVIEW,
        st.Page("ui_pages/patients.py", title="Patients", url_path="patients"),
        st.Page("ui_pages/connection_health.py", title="Connection health", url_path="health"),
        st.Page("ui_pages/sessions.py", title="Sessions", url_path="sessions"),
        st.Page("ui_pages/hospitals.py", title="Hospital status", url_path="hospitals"),
        st.Page("ui_pages/sources.py", title="Sources", url_path="sources"),
        st.Page("ui_pages/alerts.py", title="Alerts", url_path="alerts"),
        *(launch if t.writes_allowed else []),
        st.Page("ui_pages/connected.py", title="Return page", url_path="connected"),
        st.Page("ui_pages/webhooks.py", title="Webhooks", url_path="webhooks"),
        st.Page("ui_pages/contract.py", title="Contract & drift", url_path="contract"),
        st.Page("ui_pages/audit.py", title="Audit", url_path="audit"),
        *(sandbox if t.is_local_sandbox else []),
    ]


target = _target.target()
draw_frame(target)
report_unreachable(target)
database_ok = _mirror.open_at_start()  # with the target: its receiver, the sessions' re-read
try:
    # every page in view: with more than ten, Streamlit would fold the rest behind "View more"
    page = st.navigation(page_list(target), expanded=True)
    st.session_state["current_view"] = page.url_path or "overview"  # what the audit log names
    page.run()
except Exception as exc:  # the mirror's database failing is a message, said once
    if not is_database_error(exc):
        raise
    if database_ok:  # not said above
        _mirror.explain_database_problem(exc)
