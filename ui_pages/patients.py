"""Patients: the table (masked PHI, API exact-match filters, a text filter), then one patient."""

from __future__ import annotations

import streamlit as st

from medblocks.dashboard.bidi import visible_controls
from medblocks.dashboard.frames import patient_summary
from medblocks.dashboard.masking import shown_email, shown_name
from medblocks.dashboard.patient_list import PatientFilters, matching, patient_rows
from medblocks.dashboard.patient_view import disconnectable
from medblocks.dashboard.row_actions import Disconnect
from medblocks.dashboard.sources import source_name, with_source_names
from medblocks.dashboard.tables import (
    EXPIRING_WITHIN_MINUTES,
    count_text,
    patient_connections_table,
    sessions_table,
)
from medblocks.dashboard.timeline import timeline_table
from ui_pages import _errors, _layout, _mirror, _query, _reads, _reveal, _tables, _target

t = _target.target()
st.title("Patients")
reveal = _reveal.reveal()
disconnect: Disconnect = st.session_state.setdefault("patients_disconnect", Disconnect())

_mirror.status_line()

cols = st.columns(3)
chosen = PatientFilters.typed(
    cols[0].text_input("Patient id (exact)", value=_query.text("patient_id")),
    cols[1].text_input("Email (any case)", value=_query.text("email")),
    cols[2].text_input(
        "Contains",
        value=_query.text("q"),
        help="Patient id; names and emails too while they are revealed.",
    ),
)
_query.keep_in_query("patient_id", chosen.patient_id)
_query.keep_in_query("email", chosen.email)
_query.keep_in_query("q", chosen.text)

exact_ids = (
    _errors.attempt("Filtering patients", _reads.exact_match, chosen.patient_id, "")
    if chosen.patient_id
    else None
)
summary = matching(patient_summary(_mirror.org()), chosen, exact_ids, reveal=reveal)
now = _reads.clock().now()
table = patient_rows(summary, now, reveal=reveal)
st.caption(
    count_text(len(table), "patient")
    + ("" if reveal else " · names and emails masked (Reveal in the sidebar)")
)
_tables.download(table, "patients.csv", key="patients_csv")  # masked unless revealed
picked = _tables.show(
    table, list(table.columns), on_select="rerun", selection_mode="single-row", key="patients_table"
)
rows = picked.selection.rows if picked is not None else []
if rows:
    _query.keep_in_query("open", str(table.iloc[rows[0]]["patient_id"]))
selected = _query.text("open")
if not selected:
    st.caption("Select a row to open the patient.")
    st.stop()

st.divider()
view = _errors.attempt("Reading the patient", _reads.patient, selected)
if view is None:
    st.stop()
st.header("Patient")
who = f"{shown_name(view.name, reveal=reveal)} · {shown_email(view.email, reveal=reveal)}"
st.text(f"{visible_controls(view.patient_id)} · {who}")

actions = st.columns(2)
if actions[0].button("Launch a session for this patient", disabled=not t.writes_allowed):
    st.switch_page("ui_pages/launch.py", query_params={"patient_id": view.patient_id})

st.subheader("Connections")
connections = patient_connections_table(view.connections)
st.dataframe(
    connections,
    hide_index=True,
    column_config={
        **_tables.column_config(list(connections.columns)),
        "logo_url": st.column_config.ImageColumn("Logo"),
    },
)
patient_id = view.patient_id


def reread() -> None:
    """After a disconnect: the mirror and this page's cached reads of the patient, again."""
    _mirror.refresh_patient(patient_id)
    st.cache_data.clear()


choices = disconnectable(view.connections)
if choices and _target.require_writes(t):
    conn_id = actions[1].selectbox("Connection to disconnect", choices, index=None)
    if conn_id and st.button("Disconnect the selected connection", key="disconnect_ask"):
        disconnect.ask(conn_id)
    _layout.confirm_disconnect(
        disconnect, patient_id, conn_id, view="patients", key="disconnect_confirm", reread=reread
    )
if flash := disconnect.take_message():
    st.success(flash)

catalog = _errors.attempt("Reading the source catalog", _reads.catalog) or {}
st.subheader("Timeline of each connection")
timeline = timeline_table(
    _mirror.patient_history(view.patient_id),
    {sid: str(source_name(catalog, sid)) for sid in catalog},
    _reads.clock(),
)
if timeline.empty:
    st.text("The mirror has seen no status of this patient's connections yet.")
else:
    st.caption(
        "Newest first per connection, as the mirror saw each status: by a full sync, a webhook "
        'event, a dashboard action (with who acted) or a re-read of an open session. "At least '
        'since": the API gives no time, so the time the mirror first saw it.'
    )
    _tables.show(timeline, list(timeline.columns), key="patient_timeline")

st.subheader("Session history")
history = sessions_table(with_source_names(view.sessions, catalog), now, EXPIRING_WITHIN_MINUTES)
_tables.show(
    history,
    [
        "id",
        "status",
        "mode",
        "source",
        "attempts",
        "active_connections",
        "expires",
        "created",
        "hosted_url",
    ],
)

st.subheader("Records")
if view.record_counts.empty:
    st.text("No records have arrived yet.")
else:
    st.dataframe(view.record_counts, hide_index=True)
    if view.newest_record:
        st.text(
            "Newest: {type} {id} (updated {last_updated}, from {source})".format(
                **view.newest_record
            )
        )
    if view.records_truncated:
        st.caption(f"Counted the first {view.records_scanned} records.")
