"""Overview: the target, `/health`, clock skew, the Version sent, tiles that open the view they
count, and the charts in tabs (only the open tab is drawn; `?charts=` names it)."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from medblocks.dashboard import overview_figures, source_health
from medblocks.dashboard.clock import ServerClock
from medblocks.dashboard.mirror_reads import trend_gap_text
from medblocks.dashboard.sources import with_source_names
from medblocks.dashboard.tables import LABELS, STAGE_COLOURS, STATUS_COLOURS, count_text
from medblocks.mirror.history import FIRST_SEEN, HAPPENED
from medblocks.mirror.statuses import FAILING
from ui_pages import _errors, _layout, _mirror, _reads, _target

t = _target.target()
st.title("Overview")
st.subheader(t.label)

health = _errors.attempt("Checking /health", _reads.health)
cols = st.columns(3)
if health is not None:
    cols[0].metric("/health", "ok" if health.ok else "NOT OK")
    clock = ServerClock(health.skew_seconds)
    cols[1].metric(
        "Clock",
        clock.short(t.is_local_sandbox),
        help="This machine's clock against the server's; the pages use the server's.",
    )
cols[2].metric(
    "Version sent",
    t.api_version,
    delta="matches pinned spec" if t.version_matches_spec else "differs from pinned spec",
    delta_color="normal" if t.version_matches_spec else "inverse",
)

_mirror.status_line()
org = _mirror.org()
sessions = _mirror.sessions()
tiles = overview_figures.tiles(org.patients, org.connections, sessions)
HEALTH = "ui_pages/connection_health.py"
SESSIONS = "ui_pages/sessions.py"
row = st.columns(6)
row[0].metric(
    "Needs attention",
    tiles.needs_attention,
    help="Failed, refresh_failed or expired connections: the patient must connect again.",
)
row[0].page_link(
    HEALTH,
    label=count_text(tiles.patients_needing_attention, "patient"),
    query_params={"status": list(FAILING)},
)
row[1].metric("Patients", tiles.patients)
row[1].page_link("ui_pages/patients.py", label="All patients")
for column, label, status, count in (
    (row[2], "Sessions open", "open", tiles.sessions_open),
    (row[3], "Sessions complete", "complete", tiles.sessions_complete),
    (row[4], "Sessions expired", "expired", tiles.sessions_expired),
):
    column.metric(label, count)
    column.page_link(
        SESSIONS, label=f"{LABELS.get(status, status)} sessions", query_params={"status": status}
    )
rate = "—" if tiles.completion_rate is None else f"{tiles.completion_rate:.0%}"
row[5].metric("Completion rate", rate)
worst = source_health.worst_sources(_mirror.hospitals())
if not worst.empty:
    st.caption("Worst hospitals now")
    for hospital in worst.to_dict("records"):
        st.page_link(
            "ui_pages/hospitals.py",
            label=f"{hospital['source']}: {source_health.source_summary(hospital)}",
            query_params={"hospital": hospital["source"]},
        )

by_status_counts = tiles.connections_by_status
for column, (status, count) in zip(
    st.columns(len(by_status_counts)), by_status_counts.items(), strict=True
):
    words = LABELS.get(status, status)
    column.metric(f"Connections {words.lower()}", count)
    column.page_link(HEALTH, label=f"{words} connections", query_params={"status": status})


def draw_status_chart() -> None:
    by_status = pd.DataFrame(
        list(tiles.connections_by_status.items()), columns=["status", "connections"]
    )
    colours = alt.Scale(domain=list(STATUS_COLOURS), range=list(STATUS_COLOURS.values()))
    bars = alt.Chart(by_status).encode(
        x=alt.X("status:N", sort=None, title=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("connections:Q", title="connections", axis=alt.Axis(format="d", tickMinStep=1)),
        tooltip=["status", "connections"],
    )
    st.altair_chart(
        bars.mark_bar().encode(color=alt.Color("status:N", scale=colours, legend=None))
        + bars.mark_text(dy=-8).encode(text="connections:Q"),
        width="stretch",
    )


def draw_funnels() -> None:
    st.caption("Sessions created → complete → connected.")
    catalog = _errors.attempt("Reading the source catalog", _reads.catalog) or {}
    named = with_source_names(sessions, catalog)
    stage_order = list(overview_figures.FUNNEL_STAGES)
    stage_colours = alt.Scale(domain=stage_order, range=[STAGE_COLOURS[s] for s in stage_order])
    unattempted = int(named["source"].isna().sum())
    for by, title in (
        ("mode", "By mode (picker / direct)"),
        (
            "source",
            f"By source ({unattempted} picker sessions where no source was tried yet are left out)",
        ),
    ):
        data = overview_figures.funnel(named, by, attempted_only=by == "source")
        st.caption(title)
        st.altair_chart(
            alt.Chart(data)
            .mark_bar()
            .encode(
                y=alt.Y(f"{by}:N", title=None, axis=alt.Axis(labelLimit=0)),
                yOffset=alt.YOffset("stage:N", sort=stage_order),
                x=alt.X("sessions:Q", axis=alt.Axis(format="d", tickMinStep=1)),
                color=alt.Color("stage:N", sort=stage_order, scale=stage_colours),
                tooltip=[by, "stage", "sessions"],
            ),
            width="stretch",
        )


def draw_failure_codes() -> None:
    st.caption("Top failure codes, as a share of all connection attempts.")
    shares = overview_figures.failure_shares(sessions)
    if shares.empty:
        st.text("No failed attempts.")
        return
    share_bars = alt.Chart(shares).encode(
        x=alt.X("share:Q", axis=alt.Axis(format="%")),
        y=alt.Y("failure_code:N", sort="-x", title=None, axis=alt.Axis(labelLimit=0)),
        tooltip=["failure_code", "failures", alt.Tooltip("share:Q", format=".1%")],
    )
    st.altair_chart(
        share_bars.mark_bar(color=STATUS_COLOURS["failed"])
        + share_bars.mark_text(align="left", dx=4).encode(text="label:N"),
        width="stretch",
    )


def draw_trends() -> None:
    catalog = _errors.attempt("Reading the source catalog", _reads.catalog) or {}
    trend = _mirror.trends()
    by_source = with_source_names(trend.by_source, catalog)
    for data, field, title in (
        (
            trend.by_reason,
            "reason",
            "Failures per day by failure code (refresh_failed and expired carry none)",
        ),
        (by_source, "source", "Failures per day by source"),
    ):
        st.caption(title)
        if data.empty:
            st.text(trend_gap_text(tiles.needs_attention))
            continue
        st.altair_chart(
            alt.Chart(data)
            .mark_bar()
            .encode(
                x=alt.X("yearmonthdate(day):T", title="day", axis=alt.Axis(labelAngle=0)),
                y=alt.Y("failures:Q", axis=alt.Axis(format="d", tickMinStep=1)),
                color=alt.Color(f"{field}:N", legend=alt.Legend(labelLimit=0)),
                opacity=alt.Opacity(
                    "seen:N",
                    scale=alt.Scale(domain=[HAPPENED, FIRST_SEEN], range=[1.0, 0.45]),
                    legend=alt.Legend(title="counted on the day it", labelLimit=0),
                ),
                tooltip=[alt.Tooltip("day:T", format="%Y-%m-%d"), field, "seen", "failures"],
            ),
            width="stretch",
        )
        first_seen = int(data.loc[data["seen"] == FIRST_SEEN, "failures"].sum())
        if first_seen:
            st.caption(
                f"{first_seen} of these were already failing when the mirror first saw them "
                "(its first sync, say) and the API gives no date: they are counted on that day, "
                "in the lighter shade."
            )
    st.subheader("Time to reconnect, last 30 days")
    summary = trend.reconnect_summary
    cols = st.columns(3)
    cols[0].metric("Reconnects", summary["reconnects"])
    for column, label, key in (
        (cols[1], "Median", "median_hours"),
        (cols[2], "90th percentile", "p90_hours"),
    ):
        value = summary[key]
        column.metric(label, "—" if value is None else f"{value:.1f} h")
    st.caption("From the first failing status of a connection to it being active again.")


# Only the open tab runs (`?charts=…` names it): a visit draws one chart, not six, and builds no
# funnel or trend it does not show.
_layout.lazy_tabs(
    "charts",
    {
        "Connections by status": draw_status_chart,
        "Session funnel": draw_funnels,
        "Failure codes": draw_failure_codes,
        "Trends, 30 days": draw_trends,
    },
)
