"""Connection health: every connection, filters kept in the URL, per row a new session link for
that patient and source, CSV; what needs attention and stuck pulls in tabs of their own (only the
open tab is drawn; `?list=` names it)."""

from __future__ import annotations

import uuid

import streamlit as st

from medblocks.dashboard.bidi import visible_controls
from medblocks.dashboard.connection_guidance import NEEDS_ATTENTION, STATUSES
from medblocks.dashboard.display import health_table
from medblocks.dashboard.frames import rows_with
from medblocks.dashboard.launch import default_return_url
from medblocks.dashboard.masking import shown_name
from medblocks.dashboard.session_link import create_session_link
from medblocks.dashboard.sources import source_name
from ui_pages import _mirror, _shared, _tables

t = _shared.target()
st.title("Connection health")

_mirror.status_line()
frame = _mirror.health().copy()
catalog = _shared.attempt("Reading the source catalog", _shared.catalog) or {}
frame["source"] = [source_name(catalog, s) for s in frame["source_id"]]
names = _mirror.org().patients.set_index("patient_id")["name"].to_dict()
frame["name"] = [shown_name(names.get(p), reveal=_shared.reveal()) for p in frame["patient_id"]]
clock = _shared.clock()
frame["failing_since"] = clock.seen_or_said(frame["failing_since"], frame["failing_since_exact"])
table = health_table(frame, clock.now())

cols = st.columns(4)
statuses = cols[0].multiselect(
    "Status", list(STATUSES), default=[s for s in _shared.query_list("status") if s in STATUSES]
)
source_names = sorted(s for s in table["source"].unique() if s)
chosen_sources = cols[1].multiselect(
    "Source", source_names, default=[s for s in _shared.query_list("source") if s in source_names]
)
codes = sorted(c for c in table["failure_code"].unique() if c)
chosen_codes = cols[2].multiselect(
    "Failure code", codes, default=[c for c in _shared.query_list("code") if c in codes]
)
try:
    days_default = max(int(st.query_params.get("failing_days", "0") or 0), 0)
except ValueError:
    days_default = 0
failing_days = cols[3].number_input(
    "Failing for at least (days)", min_value=0, value=days_default, step=1, format="%d"
)
_shared.keep_in_query("status", statuses)
_shared.keep_in_query("source", chosen_sources)
_shared.keep_in_query("code", chosen_codes)
_shared.keep_in_query("failing_days", str(failing_days) if failing_days else None)

view = rows_with(table, "status", statuses)
view = rows_with(view, "source", chosen_sources)
view = rows_with(view, "failure_code", chosen_codes)
if failing_days:
    view = view[view["failing_days"] >= failing_days]

columns = [
    "patient_link",
    "name",
    "source",
    "status",
    "what_happened",
    "failing_for",
    "failing_since",
    "connected_for",
    "records_arrived",
    "stuck_pull",
    "who_acts",
    "id",
]


def draw_all() -> None:
    masked = "" if _shared.reveal() else " · names masked (Reveal in the sidebar)"
    st.caption(
        f"{len(view)} of {len(table)} connections{masked} · "
        '"Failing for" counts from when the failure happened, or "at least" from when the mirror '
        'first saw it failing where the API does not say; "Connection age" from when it was made. '
        "Select a row to send the patient a new session link."
    )
    picked = _tables.show(
        view, columns, on_select="rerun", selection_mode="single-row", key="health_table"
    )
    rows = picked.selection.rows if picked is not None else []
    if rows:
        _shared.keep_in_query("connection", str(view.iloc[rows[0]]["id"]))
    _tables.download(
        view[[*columns[1:], "patient_id", "failure_code", "tell_patient"]],
        "connection-health.csv",
        key="health_csv",
    )

    chosen = table[table["id"] == st.query_params.get("connection", "")]
    if len(chosen):
        row = chosen.iloc[0]
        st.subheader("Selected connection: new session link")
        st.text(
            visible_controls(f"Patient {row['patient_id']} · {row['source']} · {row['status']}")
            + (f" for {row['failing_for']}" if row["failing_for"] else "")
        )
        for label, key in (
            ("What happened", "what_happened"),
            ("Tell the patient", "tell_patient"),
        ):
            if row[key]:
                st.text(f"{label}: {row[key]}")
        _shared.patient_page_link(str(row["patient_id"]))
        links = st.session_state.setdefault("health_new_links", {})
        if _shared.require_writes(t) and st.button(
            "Create a new session link for this patient and source",
            key="health_new_link",
            help="Direct mode: the link opens this source's sign-in. Valid for a day. One press, "
            "one session; nothing is retried.",
        ):
            outcome = _shared.attempt(
                "Creating the session link",
                create_session_link,
                _shared.client(),
                _shared.ledger(),
                t,
                patient_id=str(row["patient_id"]),
                source_id=str(row["source_id"]),
                return_url=default_return_url(st.context.url),
                intent_id=uuid.uuid4().hex,
                launched_by=_shared.who(),
            )
            if outcome is not None and outcome.record.session_id:
                links[row["id"]] = (outcome.record.session_id, outcome.record.session_url)
                _mirror.refresh_session(outcome.record.session_id)
        if row["id"] in links:
            session_id, url = links[row["id"]]
            st.success(f"Session {session_id} created. Copy the link and send it to the patient:")
            st.code(url, language=None)


def draw_needs_attention() -> None:
    attention = view[view["status"].isin(NEEDS_ATTENTION)].sort_values("failing_since")
    st.caption(
        f"{len(attention)} failed, refresh_failed or expired: the patient must connect again."
    )
    _tables.show(
        attention,
        ["patient_link", "name", "source", "status", "failing_for", "who_acts", "tell_patient"],
        key="health_attention",
    )


def draw_stuck_pulls() -> None:
    st.caption("Active connections with no record from their source 15 minutes after connecting.")
    _tables.show(
        view[view["stuck_pull"]], ["patient_link", "source", "updated", "id"], key="health_stuck"
    )


# Only the open tab runs (`?list=…` names it): one table is drawn, not three.
_shared.lazy_tabs(
    "list",
    {
        "All connections": draw_all,
        "Needs attention": draw_needs_attention,
        "Stuck pulls": draw_stuck_pulls,
    },
)
