"""Sessions: every session in the organisation (from the mirror), expiring soon flagged, the
link to resend for open sessions, the patient as a link."""

from __future__ import annotations

import streamlit as st

from medblocks.dashboard.bidi import visible_controls, visible_frame
from medblocks.dashboard.sessions_view import (
    COLUMNS,
    CSV_COLUMNS,
    MODES,
    SESSION_STATUSES,
    session_rows,
)
from medblocks.dashboard.tables import EXPIRING_WITHIN_MINUTES
from ui_pages import _errors, _layout, _mirror, _query, _reads, _tables

st.title("Sessions")
_mirror.status_line()
sessions = _mirror.sessions()

cols = st.columns(3)
statuses = cols[0].multiselect(
    "Status", SESSION_STATUSES, default=_query.choices("status", SESSION_STATUSES)
)
modes = cols[1].multiselect("Mode", MODES, default=_query.choices("mode", MODES))
minutes = cols[2].number_input(
    "Expiring soon: link stops working within (minutes)",
    min_value=1,
    max_value=1440,
    value=EXPIRING_WITHIN_MINUTES,
    step=5,
    format="%d",
)
_query.keep_in_query("status", statuses)
_query.keep_in_query("mode", modes)

catalog = _errors.attempt("Reading the source catalog", _reads.catalog) or {}
table = session_rows(
    sessions,
    catalog,
    statuses=statuses,
    modes=modes,
    now=_reads.clock().now(),
    within_minutes=int(minutes),
)
soon = int(table["expires_soon"].sum())
st.caption(
    f"{len(table)} sessions · {soon} open sessions stop working within {int(minutes)} minutes "
    "(highlighted): resend their link, or create a new one from Connection health."
)
shown = visible_frame(table[COLUMNS]).style.apply(
    lambda row: ["background-color: #ffe8a3" if row["expires_soon"] else "" for _ in row], axis=1
)
picked = st.dataframe(
    shown,
    hide_index=True,
    column_config=_tables.column_config(COLUMNS),
    on_select="rerun",
    selection_mode="single-row",
    key="sessions_table",
)
_tables.download(table[CSV_COLUMNS], "sessions.csv", "sessions_csv")

rows = picked.selection.rows if picked is not None else []
if rows:
    _query.keep_in_query("session", str(table.iloc[rows[0]]["id"]))
chosen = table[table["id"] == _query.choice("session", table["id"].tolist())]
if len(chosen):
    row = chosen.iloc[0]
    st.subheader(visible_controls(f"Session {row['id']}"))
    st.text(
        visible_controls(
            f"Patient {row['patient_id']} · {row['status']} · link expires {row['expires']}"
        )
    )
    _layout.patient_page_link(str(row["patient_id"]))
    if row["hosted_url"]:
        st.caption("The link to resend (copy it with the button at its right):")
        st.code(row["hosted_url"], language=None)
    else:
        st.caption("The session is no longer open: its link does not work any more.")
else:
    st.caption("Select a row for the link to resend.")
