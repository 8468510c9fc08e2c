"""Streamlit glue for the org mirror: the mirror and (embedded sandbox) its event wiring as
resources, its frames cached by its data version, and the freshness line with "Sync now".

Pages showing org-wide data read them from here: no API request for org-wide data when a page
is viewed. A new version of the mirror (a sync, an event) makes the next rerun read it again.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from medblocks.alerts import engine
from medblocks.config import ConfigError
from medblocks.dashboard import mirror_reads, source_health
from medblocks.dashboard.database_problem import DatabaseProblem, is_database_error
from medblocks.dashboard.frames import OrgFrames
from medblocks.dashboard.tables import count_text
from medblocks.dashboard.target import Target
from medblocks.mirror import Mirror, database_url
from medblocks.mirror.watch import SessionWatcher
from ui_pages import _access, _errors, _reads, _target


@st.cache_resource(show_spinner="Opening the org mirror…")
def _mirror(key: str, database_url: str, _t: Target) -> Mirror:
    return mirror_reads.mirror_for(_t, database_url)


@st.cache_resource(show_spinner=False)
def _wiring(key: str, database_url: str, _t: Target, _m: Mirror) -> mirror_reads.EventWiring:
    return mirror_reads.wire_sandbox_events(_m, _t)


@st.cache_resource(show_spinner=False, on_release=lambda watcher: watcher.stop())
def _watcher(key: str, database_url: str, _t: Target, _m: Mirror) -> SessionWatcher:
    return mirror_reads.watch_open_sessions(_m, _t)


def _database_url(t: Target) -> str:
    """The database of `t`'s mirror (the embedded sandbox's own, else the configured one)."""
    return mirror_reads.database_for(t, database_url())


def _opened() -> Mirror:
    """The mirror of the target's organisation, with what keeps it fresh in this process
    (started once, on the first run of any page): with the embedded sandbox, the webhook
    endpoint that delivers its events here; for every target, the re-read of open sessions.
    Raises what opening it raised (the database, a refused key, another organisation)."""
    t = _target.target()
    try:
        url = _database_url(t)
    except ConfigError as exc:
        st.error("The mirror's database setting cannot be used.")
        st.text(str(exc))
        st.stop()
    key = _target.target_id(t)
    m = _mirror(key, url, t)
    if t.kind == "embedded":
        _errors.attempt("Registering the mirror's webhook receiver", _wiring, key, url, t, m)
    _watcher(key, url, t, m)
    return m


def mirror() -> Mirror:
    """`_opened` for a page that needs the mirror: a refused key or another organisation is
    said here and the page stops (nothing changed); the database failing is raised, for the
    dashboard to say once."""
    try:
        return _opened()
    except Exception as exc:
        if is_database_error(exc):
            raise
        _errors.show_problem(exc, "Opening the org mirror")
        st.stop()


def explain_database_problem(exc: BaseException) -> bool:
    """When `exc` is the mirror's database failing: one message saying what failed and what
    to do (never Streamlit's error box); False for any other error."""
    try:
        url = _database_url(_target.target())
    except ConfigError:
        return False
    problem = DatabaseProblem.of(exc, url)
    if problem is None:
        return False
    st.error(problem.title)
    st.text(problem.advice)
    return True


def open_at_start() -> bool:
    """The mirror opened with the target (its receiver and re-read started); False, with the
    message shown, when its database fails (pages that need no mirror keep working). A refused
    key or another organisation is left for the pages that need the mirror to say."""
    try:
        _opened()
    except Exception as exc:
        return not explain_database_problem(exc)
    return True


def sync(t: Target, m: Mirror) -> None:
    """Run a sync under a progress bar and say what it did."""
    bar = st.progress(0.0, text="Syncing the mirror…")

    def update(done: int, total: int | None) -> None:
        share = min(done / total, 1.0) if total else 0.0
        bar.progress(share, text=f"Syncing the mirror… {count_text(done, 'patient')}")

    report = _errors.attempt("Syncing the mirror", mirror_reads.sync_now, m, t, update)
    bar.empty()
    if report is not None:
        st.caption(report.summary())
        if report.failures:
            st.warning(
                f"{count_text(len(report.failures), 'patient')} could not be read; kept as "
                "they were."
            )
            st.text("\n".join(list(report.failures.values())[:5]))


def status_line() -> Mirror:
    """The mirror's freshness and "Sync now"; fills an empty mirror of the embedded sandbox."""
    t = _target.target()
    m = mirror()
    fresh = mirror_reads.freshness(m)
    if fresh.empty and t.kind == "embedded":
        sync(t, m)
        fresh = mirror_reads.freshness(m)
    cols = st.columns([5, 1])
    cols[0].caption("Org-wide data from the mirror, " + mirror_reads.freshness_text(fresh))
    clock_note = _reads.clock().note(t.is_local_sandbox)
    if clock_note:
        cols[0].caption(clock_note)
    if cols[1].button("Sync now", key="mirror_sync_now"):
        sync(t, m)
    elif fresh.empty:
        st.info(
            "The mirror is empty. Press Sync now, or run `python -m medblocks mirror sync` "
            "(README: Team deployment)."
        )
    return m


@st.cache_data(show_spinner=False)
def _org(version: str, key: str, _m: Mirror) -> OrgFrames:
    return mirror_reads.org_frames(_m)


def org() -> OrgFrames:
    m = mirror()
    return _org(m.data_version(), _target.target_id(_target.target()), m)


@st.cache_data(show_spinner=False)
def _health(version: str, key: str, _m: Mirror) -> pd.DataFrame:
    return mirror_reads.health(_m)


def health() -> pd.DataFrame:
    """The Connection health frame (connections, guidance, records arrived, stuck pulls)."""
    m = mirror()
    return _health(m.data_version(), _target.target_id(_target.target()), m)


@st.cache_data(show_spinner=False)
def _sessions(version: str, key: str, _m: Mirror) -> pd.DataFrame:
    return mirror_reads.sessions(_m)


def sessions() -> pd.DataFrame:
    m = mirror()
    return _sessions(m.data_version(), _target.target_id(_target.target()), m)


@st.cache_data(show_spinner=False, ttl=600)
def _trends(version: str, key: str, _m: Mirror) -> mirror_reads.Trends:
    return mirror_reads.trends(_m)


def trends() -> mirror_reads.Trends:
    m = mirror()
    return _trends(m.data_version(), _target.target_id(_target.target()), m)


@st.cache_data(show_spinner=False)
def _patient_history(version: str, key: str, patient_id: str, _m: Mirror) -> pd.DataFrame:
    return mirror_reads.patient_history(_m, patient_id)


def patient_history(patient_id: str) -> pd.DataFrame:
    """One patient's status history from the mirror."""
    m = mirror()
    return _patient_history(m.data_version(), _target.target_id(_target.target()), patient_id, m)


def refresh_patient(patient_id: str) -> None:
    """After the dashboard's own write about a patient: re-read it into the mirror now (an
    action by whoever is signed in)."""
    t = _target.target()
    _errors.attempt(
        "Updating the mirror",
        mirror_reads.refresh_patient,
        mirror(),
        t,
        patient_id,
        _access.who().who,
    )


def refresh_session(session_id: str) -> None:
    """After the dashboard created or changed a session: re-read it and its patient into the
    mirror now (an action by whoever is signed in)."""
    t = _target.target()
    _errors.attempt(
        "Updating the mirror",
        mirror_reads.refresh_session,
        mirror(),
        t,
        session_id,
        _access.who().who,
    )


def after_reset() -> None:
    """The sandbox was emptied and seeded again (its webhook endpoints too): register the
    receiver again and run the full reconcile."""
    _wiring.clear()
    t = _target.target()
    sync(t, mirror())


def reread_open_sessions() -> None:
    """Re-read the mirror's open sessions now (after the sandbox clock moved)."""
    t = _target.target()
    _errors.attempt("Updating the mirror", mirror_reads.reread_open_sessions, mirror(), t)


@st.cache_data(show_spinner=False, ttl=300)
def _hospitals(version: str, key: str, _m: Mirror, names: dict[str, str]) -> pd.DataFrame:
    return source_health.sources_frame(_m, datetime.now(UTC), names)


def hospitals() -> pd.DataFrame:
    """The per-source frame (Hospital status, Overview's worst hospitals), read again when the
    mirror changes and at least every 5 minutes (its 24 h / 7 d / 30 d windows move with the
    clock; a few minutes do not change what they say)."""
    m = mirror()
    catalog = _errors.attempt("Reading the source catalog", _reads.catalog) or {}
    names = {source_id: str(row.get("name") or source_id) for source_id, row in catalog.items()}
    if names:  # alerts raised by the sync and the receiver name hospitals with these
        engine.save_source_names(m, names)
    return _hospitals(m.data_version(), _target.target_id(_target.target()), m, names)
