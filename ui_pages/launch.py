"""Launch: create a picker- or direct-mode session once, show its link, follow its status live."""

from __future__ import annotations

import uuid

import streamlit as st

from medblocks.dashboard.launch import (
    LaunchForm,
    default_return_url,
    intent_for,
    launch_once,
    recent_launches,
    validate_launch,
)
from medblocks.dashboard.links import safe_link
from medblocks.dashboard.sources import source_name
from ui_pages import _shared

t = _shared.target()
st.title("Launch a session")  # listed only where writes are allowed (dashboard.py)

state = st.session_state
state.setdefault("launch_nonce", uuid.uuid4().hex)
state.setdefault("launching", False)

catalog = _shared.attempt("Reading the source catalog", _shared.catalog) or {}
source_ids = sorted(catalog, key=lambda sid: catalog[sid]["name"])


def source_label(sid: str) -> str:
    return str(source_name(catalog, sid))


mode = st.radio("Mode", ["picker", "direct"], horizontal=True, key="launch_mode")
patient_id = st.text_input(
    "Patient id", value=st.query_params.get("patient_id", ""), max_chars=200, key="launch_patient"
)
cols = st.columns(2)
name = cols[0].text_input("Patient name (optional)", key="launch_name")
email = cols[1].text_input("Patient email (optional)", key="launch_email")
if mode == "picker":
    chosen = st.multiselect(
        "Recommended sources (listed first on the picker)",
        source_ids,
        format_func=source_label,
        key="launch_sources",
    )
else:
    one = st.selectbox(
        "Source", source_ids, format_func=source_label, index=None, key="launch_source"
    )
    chosen = [one] if one else []
cols = st.columns(2)
label = cols[0].text_input("Return button label (optional)", max_chars=60, key="launch_label")
expires_in = int(
    cols[1].number_input("Expires in (seconds)", 60, 86400, 1800, step=60, key="launch_expiry")
)
metadata = st.text_area("Metadata (JSON object, optional)", key="launch_metadata")
return_url = default_return_url(st.context.url)
st.caption("Return URL")
st.text(return_url)

form = LaunchForm(
    mode=mode,
    patient_id=patient_id,
    return_url=return_url,
    patient_name=name,
    patient_email=email,
    source_ids=tuple(chosen),
    return_button_label=label,
    expires_in=expires_in,
    metadata_json=metadata,
)
checked = validate_launch(form)
for message in checked.errors.values():
    st.warning(message)


def start_launch() -> None:
    state["launching"] = True


st.button(
    "Launching…" if state["launching"] else "Create session",
    type="primary",
    disabled=state["launching"] or not checked.ok,
    on_click=start_launch,
    key="launch_button",
)

if state["launching"] and checked.request is not None:
    # The button above was drawn disabled; make the call, remember the outcome, redraw.
    state["launching"] = False
    who = (st.user.get("email") if st.user else None) or "local user"
    try:
        outcome = launch_once(
            _shared.client(),
            _shared.ledger(),
            checked.request,
            intent_id=intent_for(form, state["launch_nonce"]),
            target=t.kind,
            launched_by=str(who),
        )
    except Exception as exc:
        state["launch_problem"] = exc
    else:
        record = outcome.record
        state["launched_session"] = record.session_id
        state["launched_url"] = record.session_url
        state["launch_repeat"] = None if outcome.created_now else record
    st.rerun()

problem = state.pop("launch_problem", None)
if problem is not None:
    _shared.show_problem(problem, "Creating the session")
repeat = state.pop("launch_repeat", None)
if repeat is not None and repeat.error:
    st.error("This launch failed earlier and is never retried automatically.")
    st.text(repeat.error)
    st.text("Change the form or start a new launch to try again.")
elif repeat is not None and repeat.in_flight:
    st.info("This launch is already being created; its session appears when it is done.")
elif repeat is not None:
    st.info("This launch was already made; its existing session is shown.")

session_id = state.get("launched_session")
if session_id:
    st.divider()
    st.subheader("Session created")
    st.text(session_id)
    hosted = safe_link(state["launched_url"])
    if hosted:
        st.link_button("Open the hosted page", hosted)
    st.code(state["launched_url"], language=None)

    @st.fragment(run_every=3)
    def live_status() -> None:
        session = _shared.attempt(
            "Reading the session", _shared.client().patient_sessions.retrieve, session_id
        )
        if session is not None:
            st.text(f"Status: {session.status} · connections: {len(session.connections)}")
            for item in session.connections:
                st.text(f"  {item.connection_id}: {item.status} {item.failure_code or ''}")

    live_status()

if st.button("New launch", key="launch_new", help="Forget this form's launch and start another"):
    state["launch_nonce"] = uuid.uuid4().hex
    state.pop("launched_session", None)
    state.pop("launched_url", None)
    st.rerun()

st.subheader("Recent launches (this machine)")
st.dataframe(recent_launches(_shared.ledger(), 10), hide_index=True)
