"""Hospital status: per source, its state (incident / failing / ok), the patients failing now and
since when, failures and attempt success over 24 h / 7 d / 30 d, connections by status, and a
link to its failing connections; `?hospital=` opens one source with its failures per day."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from medblocks.dashboard import source_health
from medblocks.dashboard.tables import STATUS_COLOURS
from medblocks.mirror import Mirror, history
from ui_pages import _mirror, _query, _target


@st.cache_data(show_spinner=False, ttl=600)
def _per_day(version: str, key: str, _m: Mirror) -> pd.DataFrame:
    return history.failures_per_day(_m, "source_id")


st.title("Hospital status")
st.caption(
    "Per hospital (source): is it failing, for how many patients, since when. An incident is a "
    "hospital whose newest 3 or more attempts failed and whose 24 h failure rate is well above "
    "its usual rate (Ops guide: the incident rule)."
)
_mirror.status_line()
m = _mirror.mirror()
key = _target.target_id(_target.target())
frame = _mirror.hospitals()

if frame.empty:
    st.info("The mirror holds no connection yet: no hospital to report on.")
    st.stop()

incidents = source_health.in_incident(frame)
if not incidents:
    st.success("No hospital is in an incident.")
for row in incidents:
    st.error(f"{row['source']}: {source_health.source_summary(row)}")

table = source_health.sources_table(frame)
st.dataframe(
    table,
    hide_index=True,
    column_config={
        name: (
            st.column_config.LinkColumn(label, display_text="open")
            if name == "failing_link"
            else st.column_config.Column(label)
        )
        for name, label in source_health.TABLE_LABELS.items()
    },
    key="hospitals_table",
)

known = source_health.link_names(frame)
asked = source_health.find_source(frame, _query.choice("hospital", known) or "")
chosen_name = st.selectbox(
    "Open a hospital",
    frame["source"].tolist(),
    index=None if asked is None else frame["source"].tolist().index(asked),
    placeholder="Choose a hospital",
)
_query.keep_in_query("hospital", chosen_name)
if chosen_name is not None:
    row = source_health.hospital_row(frame, chosen_name)
    st.subheader(chosen_name)
    st.text(source_health.source_summary(row))
    if row["patients_failing"]:
        st.page_link(
            "ui_pages/connection_health.py",
            label=f"Its {row['patients_failing']} failing patients in Connection health",
            query_params=source_health.health_query(chosen_name),
        )
    reasons = source_health.reasons_table(m, row["source_id"])
    if not reasons.empty:
        st.caption("Why its connections are failing")
        st.dataframe(
            reasons,
            hide_index=True,
            column_config={
                "reason": "Reason",
                "connections": "Connections",
                "what_happened": st.column_config.TextColumn("What happened", width=320),
                "who_acts": "Who acts",
                "what_to_do": st.column_config.TextColumn("What to do", width=320),
            },
        )
    per_day = _per_day(m.data_version(), key, m)
    mine = source_health.failures_of(per_day, row["source_id"])
    if mine.empty:
        st.text("No failure in the last 30 days.")
    else:
        st.caption("Failures per day, last 30 days (UTC days)")
        st.altair_chart(
            alt.Chart(mine)
            .mark_bar(color=STATUS_COLOURS["failed"])
            .encode(
                x=alt.X("day:T", title=None),
                y=alt.Y("failures:Q", axis=alt.Axis(format="d", tickMinStep=1)),
                tooltip=[alt.Tooltip("day:T"), "failures"],
            ),
            width="stretch",
        )
