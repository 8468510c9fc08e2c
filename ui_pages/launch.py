"""Launch: picker or direct mode explained (and the sandbox personas), one session per intent,
then its link and its live status.

The intent id is in the page's URL (`?intent=`) from the first view, and the shared ledger claims
it (a unique insert) before the create call: a reload during a slow create, or the same URL in a
second tab, finds the claimed launch and shows it (waiting while it is being created) instead of
creating another. A failed create is recorded; trying again is a new launch (a new intent).
Which view shows, and what Create and the start-over buttons lead to, is the state machine of
`medblocks.dashboard.launch_flow`, kept in one session-state key; this page draws it.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from medblocks.dashboard.bidi import visible_controls, visible_frame
from medblocks.dashboard.launch import (
    MODE_GUIDANCE,
    LaunchForm,
    default_return_url,
    launch_once,
    launch_stage,
    read_sessions,
    recent_launches,
    session_progress,
    short_time,
    validate_launch,
)
from medblocks.dashboard.launch_flow import LaunchFlow, sources_among
from medblocks.dashboard.ledger import LaunchRecord
from medblocks.dashboard.links import safe_link
from medblocks.dashboard.personas import DENY_NOTE, SIGN_IN, persona_rows
from medblocks.dashboard.sources import source_name
from ui_pages import _access, _errors, _mirror, _query, _reads, _target

STATE_KEY = "launch_flow"  # the page's one session-state key: this browser's LaunchFlow

t = _target.target()
st.title("Launch a session")  # listed only where writes are allowed (dashboard.py)
ledger = _target.ledger()
flow: LaunchFlow = st.session_state.setdefault(STATE_KEY, LaunchFlow())

# -- which launch this view is about: the intent in the URL, minted on a first view ------------
opened = flow.open(_query.text("intent"), _query.text("patient_id"))
intent = opened.intent
if opened.foreign_link:
    st.info("The launch id in this link was not made by the dashboard; this is a new launch.")
if opened.started_over and "patient_id" in st.query_params:
    del st.query_params["patient_id"]
if st.query_params.get("intent") != intent:
    st.query_params["intent"] = intent

catalog = _errors.attempt("Reading the source catalog", _reads.catalog) or {}
source_ids = sorted(catalog, key=lambda sid: catalog[sid]["name"])


def source_label(sid: str) -> str:
    return str(source_name(catalog, sid))


def show_personas(expanded: bool) -> None:
    if not t.is_local_sandbox:  # a Medblocks-hosted workspace has its own test patients
        return
    with st.expander("Sandbox test patients: who to sign in as on the hosted page", expanded):
        st.text(SIGN_IN)
        st.dataframe(persona_rows(), hide_index=True, width="stretch")
        st.caption(DENY_NOTE)


def draw_form() -> None:
    start = flow.form  # blank, or a recorded launch's form (Launch again)
    modes = list(MODE_GUIDANCE)
    mode = st.radio(
        "Mode",
        modes,
        index=modes.index(start.mode),
        captions=[MODE_GUIDANCE[m] for m in modes],
        horizontal=True,
        key="launch_mode",
    )
    patient_id = st.text_input(
        "Patient id",
        value=start.patient_id,
        max_chars=200,
        key="launch_patient",
        placeholder="your id for the patient (created on first use), e.g. user_123",
    )
    cols = st.columns(2)
    name = cols[0].text_input("Patient name (optional)", start.patient_name, key="launch_name")
    email = cols[1].text_input("Patient email (optional)", start.patient_email, key="launch_email")
    known = sources_among(start, source_ids)
    if mode == "picker":
        chosen = st.multiselect(
            "Recommended sources (listed first on the picker; optional)",
            source_ids,
            default=known,
            format_func=source_label,
            key="launch_sources",
        )
    else:
        one = st.selectbox(
            "Source",
            source_ids,
            format_func=source_label,
            index=source_ids.index(known[0]) if known else None,
            key="launch_source",
        )
        chosen = [one] if one else []
    cols = st.columns(2)
    label = cols[0].text_input(
        "Return button label (optional)",
        start.return_button_label,
        max_chars=60,
        key="launch_label",
    )
    expires_in = cols[1].number_input(
        "Expires in (seconds)",
        min_value=60,
        max_value=86400,
        value=start.expires_in,
        step=60,
        key="launch_expiry",
    )
    metadata = st.text_area(
        "Metadata (JSON object, optional)", start.metadata_json, key="launch_metadata"
    )
    return_url = default_return_url(st.context.url)
    st.caption("Return URL (the dashboard's Return page)")
    st.text(return_url)
    form = LaunchForm(
        mode=mode,
        patient_id=patient_id,
        return_url=return_url,
        patient_name=name,
        patient_email=email,
        source_ids=tuple(chosen),
        return_button_label=label,
        expires_in=int(expires_in),
        metadata_json=metadata,
    )
    checked = validate_launch(form)  # shown only once Create was pressed
    st.button(
        "Create session", type="primary", key="launch_button", on_click=flow.press, args=(intent,)
    )
    if flow.take_press() and checked.request is not None:
        with st.spinner("Creating the session…"):
            try:
                outcome = launch_once(
                    _target.client(),
                    ledger,
                    checked.request,
                    intent_id=intent,
                    target=t.kind,
                    launched_by=_access.who(),
                )
            except Exception as exc:
                flow.failed(exc)
            else:
                flow.created(outcome)
                if outcome.created_now and outcome.record.session_id:
                    _mirror.refresh_session(outcome.record.session_id)
        st.rerun()
    if flow.tried:
        for message in checked.errors.values():
            st.warning(message)
    show_personas(expanded=False)


@st.fragment(run_every=1)
def wait_for_create() -> None:
    """Another run (a reload's earlier page, another tab) claimed this intent: wait for it."""
    current = ledger.get(intent)
    if current is not None and launch_stage(current) != "creating":
        st.rerun()
    st.caption(f"Checked {datetime.now(UTC).strftime('%H:%M:%S')} UTC; waiting…")


@st.fragment(run_every=3)
def live_status(session_id: str) -> None:
    """The session as the server has it now, re-read every 3 seconds."""
    session = _errors.attempt(
        "Reading the session", _target.client().patient_sessions.retrieve, session_id
    )
    if session is None:
        return
    progress = session_progress(session, catalog)
    {"success": st.success, "info": st.info, "warning": st.warning}[progress.tone](
        progress.headline
    )
    read_at = datetime.now(UTC).strftime("%H:%M:%S")
    st.caption(f"Session {session.status} · read from Medblocks at {read_at} UTC, every 3 s")
    if progress.attempts:
        st.dataframe(pd.DataFrame(progress.attempts), hide_index=True, width="stretch")


def draw_launch(record: LaunchRecord) -> None:
    stage = launch_stage(record)
    direct_to = record.request.get("connection_id")
    to = f": {source_label(direct_to)}" if direct_to else ""
    st.subheader(visible_controls(f"Patient {record.patient_id}, {record.mode} mode{to}"))
    st.caption(f"Started {short_time(record.requested_at)} by {record.launched_by}")
    notices = flow.notices()
    if notices.problem is not None:
        _errors.show_problem(notices.problem, "Creating the session")
    if notices.already_made:
        st.info(
            "This launch had already been made from this link (another tab or before a "
            "reload): nothing new was created, and its session is shown."
        )
    if stage == "creating":
        st.info(
            "The session is being created (started from this link in another tab or before a "
            "reload). It shows here as soon as it exists; it is not created twice."
        )
        wait_for_create()
    elif stage == "interrupted":
        st.warning(
            "This launch never finished: the dashboard stopped during the create call, so the "
            "session may or may not exist. Check the patient's sessions on the Patients page "
            "before launching again."
        )
    elif stage == "failed":
        st.error("Creating the session failed; it is never retried automatically.")
        if notices.problem is None:  # the error as recorded (with its request id) for a later view
            st.text(record.error or "")
        st.text("To try once more, launch again (a new launch with the same details).")
    else:
        session_id = str(record.session_id)
        url = record.session_url or ""
        st.text("Send this link to the patient, or open it yourself to play the patient:")
        st.code(url, language=None, wrap_lines=True)
        hosted = safe_link(url)
        if hosted:
            st.link_button("Open the hosted page", hosted, type="primary")
        st.caption("Session id")
        st.text(session_id)
        live_status(session_id)
        show_personas(expanded=True)
    cols = st.columns(2)
    cols[0].button(
        "Launch again with the same details",
        key="launch_again",
        on_click=flow.start_over,
        args=(record,),
        help="A new launch (a new session) with this launch's form; name and email are not kept",
    )
    cols[1].button("New launch", key="launch_new", on_click=flow.start_over, args=(None,))


record = ledger.get(intent)
if record is None:
    draw_form()
else:
    draw_launch(record)


@st.fragment(run_every=10)
def recent() -> None:
    """The last launches with their sessions re-read from the server, every 10 seconds."""
    records = ledger.recent(10, target=t.kind)
    if not records:
        st.text("No launches yet.")
        return
    ids = tuple(r.session_id for r in records if r.session_id)
    sessions = read_sessions(_target.client(), ids)
    st.dataframe(
        visible_frame(pd.DataFrame(recent_launches(records, sessions, st.context.url))),
        hide_index=True,
        width="stretch",
        column_config={
            "hosted page": st.column_config.LinkColumn("hosted page", display_text="open"),
            "launch": st.column_config.LinkColumn("launch", display_text="view"),
        },
    )
    st.caption(f"Outcomes read from Medblocks at {datetime.now(UTC):%H:%M:%S} UTC, every 10 s.")


st.divider()
st.subheader("Recent launches")
st.caption("The last launches against this kind of target, newest first.")
recent()
