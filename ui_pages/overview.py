"""Overview: the target, `/health`, clock skew, the Version sent, tiles and the funnel charts."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from medblocks.dashboard import aggregate, frames
from medblocks.dashboard.sources import source_name
from ui_pages import _shared

t = _shared.target()
st.title("Overview")
st.subheader(t.label)

health = _shared.attempt("Checking /health", _shared.health)
cols = st.columns(3)
if health is not None:
    cols[0].metric("/health", "ok" if health.ok else "NOT OK")
    cols[1].metric("Clock skew (local − server)", f"{health.skew_seconds:+.1f} s")
cols[2].metric(
    "Version sent",
    t.api_version,
    delta="matches pinned spec" if t.version_matches_spec else "differs from pinned spec",
    delta_color="normal" if t.version_matches_spec else "inverse",
)

org = _shared.attempt("Reading patients and connections", _shared.org_connections)
if org is not None:
    if org.failures:
        st.warning(f"{len(org.failures)} patients could not be read; their rows are missing.")
    read = _shared.attempt(
        "Reading sessions", _shared.org_sessions, list(org.patients["patient_id"])
    )
    sessions = read[0] if read else frames.empty_sessions()
    tiles = aggregate.tiles(org.patients, org.connections, sessions)
    row = st.columns(5)
    row[0].metric("Patients", tiles.patients)
    row[1].metric("Sessions open", tiles.sessions_open)
    row[2].metric("Sessions complete", tiles.sessions_complete)
    row[3].metric("Sessions expired", tiles.sessions_expired)
    rate = "—" if tiles.completion_rate is None else f"{tiles.completion_rate:.0%}"
    row[4].metric("Completion rate", rate)

    by_status_counts = tiles.connections_by_status
    for column, (status, count) in zip(
        st.columns(len(by_status_counts)), by_status_counts.items(), strict=True
    ):
        column.metric(f"Connections {status}", count)

    by_status = pd.DataFrame(
        list(tiles.connections_by_status.items()), columns=["status", "connections"]
    )
    st.subheader("Connections by status")
    st.altair_chart(
        alt.Chart(by_status)
        .mark_bar()
        .encode(
            x=alt.X("status:N", sort=None), y="connections:Q", tooltip=["status", "connections"]
        ),
        width="stretch",
    )

    st.subheader("Session funnel: created → complete → connected")
    catalog = _shared.attempt("Reading the source catalog", _shared.catalog) or {}
    named = sessions.assign(
        source=[source_name(catalog, s) if s else None for s in sessions["source_id"]]
    )
    stage_order = list(aggregate.FUNNEL_STAGES)
    for by, title in (("mode", "By mode (picker / direct)"), ("source", "By source")):
        data = aggregate.funnel(named, by)
        st.caption(title)
        st.altair_chart(
            alt.Chart(data)
            .mark_bar()
            .encode(
                y=alt.Y(f"{by}:N", title=None),
                yOffset=alt.YOffset("stage:N", sort=stage_order),
                x=alt.X("sessions:Q"),
                color=alt.Color("stage:N", sort=stage_order),
                tooltip=[by, "stage", "sessions"],
            ),
            width="stretch",
        )

    st.subheader("Top failure codes (share of all connection attempts)")
    shares = aggregate.failure_shares(sessions)
    if shares.empty:
        st.text("No failed attempts.")
    else:
        st.altair_chart(
            alt.Chart(shares)
            .mark_bar()
            .encode(
                x=alt.X("share:Q", axis=alt.Axis(format="%")),
                y=alt.Y("failure_code:N", sort="-x"),
                tooltip=["failure_code", "failures", alt.Tooltip("share:Q", format=".1%")],
            ),
            width="stretch",
        )
