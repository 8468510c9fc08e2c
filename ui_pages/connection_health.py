"""Connection health: every connection, filters kept in the URL, what needs attention, CSV."""

from __future__ import annotations

import streamlit as st

from medblocks.dashboard.connection_guidance import NEEDS_ATTENTION, STATUSES
from medblocks.dashboard.frames import rows_with
from medblocks.dashboard.sources import source_name
from ui_pages import _mirror, _shared

st.title("Connection health")

_mirror.status_line()
frame = _mirror.health().copy()
catalog = _shared.attempt("Reading the source catalog", _shared.catalog) or {}
frame["source"] = [source_name(catalog, s) for s in frame["source_id"]]

cols = st.columns(4)
statuses = cols[0].multiselect(
    "Status", list(STATUSES), default=[s for s in _shared.query_list("status") if s in STATUSES]
)
source_names = sorted(frame["source"].dropna().unique())
chosen_sources = cols[1].multiselect(
    "Source", source_names, default=[s for s in _shared.query_list("source") if s in source_names]
)
codes = sorted(frame["failure_code"].dropna().unique())
chosen_codes = cols[2].multiselect(
    "Failure code", codes, default=[c for c in _shared.query_list("code") if c in codes]
)
try:
    min_age_default = float(st.query_params.get("min_age_days", "0") or 0)
except ValueError:
    min_age_default = 0.0
min_age = cols[3].number_input("Older than (days)", min_value=0.0, value=min_age_default, step=1.0)
_shared.keep_in_query("status", statuses)
_shared.keep_in_query("source", chosen_sources)
_shared.keep_in_query("code", chosen_codes)
_shared.keep_in_query("min_age_days", f"{min_age:g}" if min_age else None)

view = rows_with(frame, "status", statuses)
view = rows_with(view, "source", chosen_sources)
view = rows_with(view, "failure_code", chosen_codes)
if min_age:
    view = view[view["age_days"] >= min_age]

columns = [
    "patient_id",
    "source",
    "status",
    "failure_code",
    "failure_at",
    "failing_since",
    "age_days",
    "records_arrived",
    "stuck_pull",
    "who_acts",
    "id",
]
st.caption(f"{len(view)} of {len(frame)} connections")
st.dataframe(
    view[columns],
    hide_index=True,
    column_config={"age_days": st.column_config.NumberColumn(format="%.1f")},
)
st.download_button(
    "Download CSV",
    view[[*columns, "tell_patient"]].to_csv(index=False),
    file_name="connection-health.csv",
    mime="text/csv",
)

st.subheader("Needs attention")
attention = view[view["status"].isin(NEEDS_ATTENTION)]
st.caption("Failed, refresh_failed or expired: the patient must connect again.")
failing = ["patient_id", "source", "status", "failure_code", "failing_since", "who_acts"]
st.dataframe(attention[[*failing, "tell_patient"]].sort_values("failing_since"), hide_index=True)

st.subheader("Stuck pulls")
st.caption("Active connections with no record from their source 15 minutes after connecting.")
st.dataframe(
    view[view["stuck_pull"]][["patient_id", "source", "updated_at", "id"]], hide_index=True
)
