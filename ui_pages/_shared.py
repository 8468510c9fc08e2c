"""Streamlit glue shared by the pages: target, cached clients and reads, errors, filters, PHI.

The frame around every page (banner, sidebar, page list) is drawn by `dashboard.py`, not here.

Every API read goes through `st.cache_data(ttl=…)` keyed by the target; the sync client lives in
`st.cache_resource`. Data work happens in `medblocks.dashboard`; this module only wires it to
Streamlit. API strings are shown through `st.text`, `st.code` or dataframes, never as markdown.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import pandas as pd
import streamlit as st

from medblocks.client import Medblocks
from medblocks.config import ConfigError, DashboardAccess, load_access, load_roles, load_settings
from medblocks.dashboard import audit, patient_view, webhooks
from medblocks.dashboard.access import session_refusal
from medblocks.dashboard.clock import ServerClock
from medblocks.dashboard.ledger import Ledger
from medblocks.dashboard.problems import explain
from medblocks.dashboard.reveal import RevealMemory, browser_key
from medblocks.dashboard.roles import Actor, NotAllowed, actor_for
from medblocks.dashboard.server_health import HealthCheck, check_health
from medblocks.dashboard.sources import sources_by_id, sources_frame
from medblocks.dashboard.target import Target, connected_target
from medblocks.mirror.db import Mirror
from ui_pages import _query

TTL = 60
T = TypeVar("T")


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


@st.cache_resource(show_spinner="Starting the embedded sandbox…")
def _configured_target() -> Target | ConfigError:
    """Configuration is read once per process (restart the dashboard to change it)."""
    try:
        return connected_target(load_settings())
    except ConfigError as exc:
        return exc


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


def audit_db() -> Mirror:
    """Where the audit log is kept: the configured database (`MEDBLOCKS_DATABASE_URL`), the
    launches' own, kept across restarts and shared by replicas."""
    return ledger().mirror


def act(action: str, run: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run one write as the person acting: refused unless their role allows it, recorded in the
    audit log either way (`medblocks.dashboard.audit.perform`)."""
    return audit.perform(audit_db(), who(), action, run, *args, **kwargs)


def record_sign_in() -> None:
    """Audit a sign-in once: keyed by the ID token's issue time, so new tabs of the same
    sign-in add nothing, and a new sign-in is a new row."""
    issued = str(st.user.get("iat") or "")
    if st.session_state.get("audited_sign_in") == issued:
        return
    audit.record_sign_in(audit_db(), who(), issued)
    st.session_state["audited_sign_in"] = issued


def record_export(file_name: str, rows: int, revealed: bool) -> None:
    """Audit a download of `file_name` (the download button's callback)."""
    audit.record_export(audit_db(), who(), current_view(), file_name, rows, revealed=revealed)


def current_view() -> str:
    """The page being drawn, by its URL path (e.g. `patients`), as `dashboard.py` noted it."""
    return str(st.session_state.get("current_view", "overview"))


def target() -> Target:
    """The configured target; a configuration error stops the page with its message."""
    configured = _configured_target()
    if isinstance(configured, ConfigError):
        st.error("The configuration cannot be used.")
        st.text(str(configured))
        st.stop()
    return configured


def target_id(t: Target) -> str:
    """A cache key for reads: which server, which key (hashed), which Version."""
    return hashlib.sha256(f"{t.base_url}|{t.api_key}|{t.api_version}".encode()).hexdigest()[:16]


@st.cache_resource
def _client(_t: Target) -> Medblocks:
    return _t.client()


def client() -> Medblocks:
    """The sync client for the target: one per process, like the target itself."""
    return _client(target())


def reveal() -> bool:
    """Names and e-mails are shown when the sidebar's Reveal is on AND the role allows it; each
    page and filter set shown revealed is audited once per session (a viewer's request is
    recorded as refused and the page stays masked, whatever the browser sent)."""
    if not st.session_state.get("reveal_phi", False):
        return False
    filters = {k: st.query_params.get_all(k) for k in st.query_params}
    view = current_view()
    patient = st.query_params.get("open") or st.query_params.get("patient_id") or None
    seen = st.session_state.setdefault("audited_reveals", set())
    key = (view, audit.filters_text(filters))
    if key in seen:
        return True
    try:
        audit.record_reveal(audit_db(), who(), view, filters, patient_id=patient)
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
    return browser_key(who().who, st.context.cookies.get(SESSION_COOKIE))


def reveal_toggle() -> None:
    """The sidebar's Reveal, kept for this browser's session across reloads (off by default);
    disabled for a role that may not reveal (reveal() refuses it whatever the browser sends)."""
    now = datetime.now(UTC)
    allowed = who().may("reveal")
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


def show_problem(exc: BaseException, doing: str) -> None:
    """An upstream failure as a clear message with the request id; the page keeps going."""
    problem = explain(exc)
    st.error(f"{doing}: {problem.title}")
    st.text(problem.detail)
    st.text(problem.request_id_text)


def attempt(doing: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
    """Run one read or write; on any failure show it (with request id) and return None."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:
        show_problem(exc, doing)
        return None


def query_list(name: str) -> list[str]:
    return [v for v in st.query_params.get_all(name) if v]


def keep_in_query(name: str, value: str | list[str] | None) -> None:
    """Store a filter in the URL so the view can be shared; empty values are removed."""
    if value in (None, "", []):
        if name in st.query_params:
            del st.query_params[name]
    elif st.query_params.get_all(name) != (value if isinstance(value, list) else [value]):
        st.query_params[name] = value


def lazy_tabs(key: str, views: dict[str, Callable[[], None]]) -> None:
    """Tabs of which only the open one runs its view, named in the URL as `key` (so the view a
    link names is the one it opens; an unknown name is said so and opens the first tab)."""
    _query.choices(key, list(views))
    for tab, draw in zip(
        st.tabs(list(views), key=key, bind="query-params"), views.values(), strict=True
    ):
        if tab.open:
            with tab:
                draw()


def patient_page_link(patient_id: str) -> None:
    """A link to the Patients page opened on this patient."""
    st.page_link(
        "ui_pages/patients.py",
        label="Open the patient",
        query_params={"patient_id": patient_id, "open": patient_id},
    )


def require_writes(t: Target) -> bool:
    if not t.writes_allowed:
        st.info("Writes are disabled for the live target (set MEDBLOCKS_ALLOW_LIVE_WRITES=true).")
    return t.writes_allowed


# -- cached reads -------------------------------------------------------------------------------


@st.cache_data(ttl=TTL, show_spinner=False)
def _catalog(key: str, _client: Medblocks) -> dict[str, dict[str, Any]]:
    return sources_by_id(_client)


def catalog() -> dict[str, dict[str, Any]]:
    return _catalog(target_id(target()), client())


@st.cache_data(ttl=TTL, show_spinner=False)
def _sources(key: str, q: str, vendor: str, _client: Medblocks) -> pd.DataFrame:
    return sources_frame(_client, q=q, vendor=vendor)


def sources(q: str = "", vendor: str = "") -> pd.DataFrame:
    return _sources(target_id(target()), q, vendor, client())


@st.cache_data(ttl=TTL, show_spinner=False)
def _patient(key: str, patient_id: str, _client: Medblocks) -> patient_view.PatientView:
    return patient_view.load_patient(_client, patient_id, catalog())


def patient(patient_id: str) -> patient_view.PatientView:
    return _patient(target_id(target()), patient_id, client())


@st.cache_data(ttl=TTL, show_spinner=False)
def _endpoints(key: str, _client: Medblocks) -> pd.DataFrame:
    return webhooks.endpoints_frame(_client)


def endpoints() -> pd.DataFrame:
    return _endpoints(target_id(target()), client())


@st.cache_data(ttl=TTL, show_spinner=False)
def _events(key: str, endpoint_id: str, _client: Medblocks) -> pd.DataFrame:
    return webhooks.events_frame(_client, endpoint_id)


def events(endpoint_id: str) -> pd.DataFrame:
    return _events(target_id(target()), endpoint_id, client())


@st.cache_data(ttl=10, show_spinner=False)
def _health(key: str, _client: Medblocks) -> HealthCheck:
    return check_health(_client)


def health() -> HealthCheck:
    """`/health` and clock skew, re-read at most every 10 seconds."""
    return _health(target_id(target()), client())


def clock() -> ServerClock:
    """The server's clock (this machine's when `/health` cannot be read: the frame says so)."""
    try:
        return ServerClock(health().skew_seconds)
    except Exception:
        return ServerClock()


@st.cache_data(ttl=TTL, show_spinner=False)
def _exact_match(key: str, patient_id: str, email: str, _client: Medblocks) -> list[str]:
    filters = {"patient_id": patient_id or None, "email": email or None}
    return [p.id for p in _client.patients.list(**filters)]


def exact_match(patient_id: str, email: str) -> list[str]:
    """Patient ids the API's exact-match `patient_id` / `email` filters return."""
    return _exact_match(target_id(target()), patient_id, email, client())


@st.cache_resource
def ledger() -> Ledger:
    return Ledger()
