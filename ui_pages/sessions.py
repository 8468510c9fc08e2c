"""Sessions: every session in the organisation (from the mirror), near-expiry flagged."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from medblocks.dashboard.aggregate import with_expiry
from medblocks.dashboard.frames import rows_with
from medblocks.dashboard.sources import source_name
from ui_pages import _mirror, _shared

st.title("Sessions")
_mirror.status_line()
sessions = _mirror.sessions()

cols = st.columns(3)
statuses = cols[0].multiselect(
    "Status", ["open", "complete", "expired"], default=_shared.query_list("status")
)
modes = cols[1].multiselect("Mode", ["picker", "direct"], default=_shared.query_list("mode"))
minutes = cols[2].number_input("Highlight open sessions expiring within (minutes)", 1, 1440, 10)
_shared.keep_in_query("status", statuses)
_shared.keep_in_query("mode", modes)

view = rows_with(rows_with(sessions, "status", statuses), "mode", modes)
catalog = _shared.attempt("Reading the source catalog", _shared.catalog) or {}
view = view.assign(source=[source_name(catalog, sid) if sid else None for sid in view["source_id"]])
now = pd.Timestamp.now(tz="UTC")
view = with_expiry(view, now, pd.Timedelta(minutes=int(minutes)))
soon = int(view["expires_soon"].sum())
st.caption(f"{len(view)} sessions · {soon} open sessions expire within {int(minutes)} minutes")
columns = [
    "id",
    "patient_id",
    "status",
    "mode",
    "source",
    "attempts",
    "active_connections",
    "expires_at",
    "minutes_left",
    "expires_soon",
    "created_at",
]
st.dataframe(
    view[columns].style.apply(
        lambda row: ["background-color: #ffe8a3" if row["expires_soon"] else "" for _ in row],
        axis=1,
    ),
    hide_index=True,
)
