"""Audit: who revealed, exported, wrote or signed in, and when (newest first), filtered by
person, action and patient (filters in the URL). Read from the audit log
(`medblocks.dashboard.audit`); the whole log is exported by `python -m medblocks audit export`."""

from __future__ import annotations

import streamlit as st

from medblocks.dashboard.audit import log_frame
from medblocks.dashboard.tables import count_text
from medblocks.mirror.audit import ACTIONS, AuditFilter, people
from ui_pages import _audit, _query, _tables

st.title("Audit")
st.caption(
    "Every reveal of names and e-mails, export, write and sign-in, with who and when. Rows "
    "are never changed or removed. Patients are named by id only."
)
db = _audit.audit_db()
cols = st.columns(3)
everyone = people(db)
person = cols[0].selectbox(
    "Person", everyone, index=_query.choice_index("person", everyone), placeholder="everyone"
)
action = cols[1].selectbox(
    "Action", ACTIONS, index=_query.choice_index("action", ACTIONS), placeholder="every action"
)
patient = cols[2].text_input("Patient id (exact)", value=_query.text("patient"))
_query.keep_in_query("person", person)
_query.keep_in_query("action", action)
_query.keep_in_query("patient", patient.strip())

frame = log_frame(db, AuditFilter(person=person, action=action, patient_id=patient.strip() or None))
st.caption(f"{count_text(len(frame), 'row')} shown (the newest 500 at most).")
_tables.show(
    frame,
    [
        "at",
        "actor",
        "role",
        "action",
        "outcome",
        "target",
        "patient_id",
        "view",
        "detail",
        "rows",
        "request_id",
    ],
    key="audit_table",
)
