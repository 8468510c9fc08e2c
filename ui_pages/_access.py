"""Who may reach the dashboard and who is acting: the host check every page passes
first, the sign-in, and the role from `MEDBLOCKS_ROLES`."""

from __future__ import annotations

import streamlit as st

from medblocks.config import ConfigError, DashboardAccess, load_access, load_roles
from medblocks.dashboard.access import session_refusal
from medblocks.dashboard.roles import Actor, actor_for


def auth_configured() -> bool:
    """True when `[auth]` is in secrets.toml, so `st.login` (OIDC) guards the app."""
    try:
        return "auth" in st.secrets
    except FileNotFoundError:
        return False


@st.cache_resource(show_spinner=False)
def _access() -> DashboardAccess | ConfigError:
    """MEDBLOCKS_ALLOWED_HOSTS and MEDBLOCKS_NETWORK_SIGNS_IN, read once per process."""
    try:
        return load_access()
    except ConfigError as exc:
        return exc


def refuse_foreign_sessions() -> None:
    """Stop this run, before anything is read, unless the session reached the dashboard under
    one of its own hosts and the dashboard may listen where it does (`medblocks.dashboard.access`).
    `dashboard.py` calls it first, so it guards every page."""
    access = _access()
    refusal = (
        f"The dashboard's access settings are invalid: {access}"
        if isinstance(access, ConfigError)
        else session_refusal(
            st.context.headers,
            access,
            server_address=st.get_option("server.address"),
            auth_configured=auth_configured(),
        )
    )
    if refusal is not None:
        st.error(refusal)
        st.stop()


@st.cache_resource
def _roles() -> dict[str, str] | ConfigError:
    """MEDBLOCKS_ROLES, read once per process."""
    try:
        return load_roles()
    except ConfigError as exc:
        return exc


def who() -> Actor:
    """Who is acting, and their role: the signed-in user's e-mail with its `MEDBLOCKS_ROLES`
    role when `[auth]` is configured, else "local user" (admin). Recorded on launches, on the
    mirror's history of the dashboard's own actions, and in the audit log. The one place that
    reads `st.user`."""
    roles = _roles()
    if isinstance(roles, ConfigError):
        st.error("The roles cannot be used.")
        st.text(str(roles))
        st.stop()
    signed_in = auth_configured() and st.user.is_logged_in
    email = st.user.get("email") if signed_in else None
    return actor_for(str(email) if email else None, auth_configured=auth_configured(), roles=roles)
