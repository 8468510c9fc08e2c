"""Return page (the default `return_url`): re-reads the session and names what happened."""

from __future__ import annotations

import streamlit as st

from medblocks.dashboard.return_page import verify_return
from medblocks.dashboard.sources import source_name
from ui_pages import _errors, _layout, _reads, _target

st.title("Return page")
params = {name: st.query_params.get(name, "") for name in st.query_params}
if not params:
    st.text(
        "Patients land here after the hosted flow (…/connected?patient_id=…&patient_session_id=…)."
    )
    st.stop()

outcome = _errors.attempt("Checking the session", verify_return, _target.client(), params)
if outcome is None:
    st.stop()

if outcome.state == "connected":
    st.success(outcome.headline)
elif outcome.state == "partly_connected":
    st.warning(outcome.headline)
else:
    st.error(outcome.headline)
st.text(outcome.detail)
st.info(f"Next step: {outcome.next_step}")
if outcome.session_id:
    st.text(f"Session: {outcome.session_id} ({outcome.session_status or 'unknown'})")
catalog = _errors.attempt("Reading the source catalog", _reads.catalog) or {}
for attempt in outcome.attempts:
    source = source_name(catalog, attempt.source_id)
    line = f"{source}: {attempt.status}"
    if attempt.failure_code:
        line += f" — {attempt.failure_code}: {attempt.failure_words}"
    st.text(line)
if outcome.hint_error:
    st.text(f"The redirect reported error code {outcome.hint_error}.")
    if outcome.hint_error_description:
        st.text(f"Description from the redirect: {outcome.hint_error_description}")
if outcome.is_failure:
    st.text(f"Request id: {outcome.request_id or 'none (the link was refused before any request)'}")
if outcome.patient_id:  # not a dead end: on to the patient the session was for
    _layout.patient_page_link(outcome.patient_id)
