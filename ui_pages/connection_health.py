"""Connection health: every connection, filters kept in the URL, per row a new session link for
that patient and source, CSV; what needs attention and stuck pulls in tabs of their own (only the
open tab is drawn; `?list=` names it)."""

from __future__ import annotations

import uuid

import pandas as pd
import streamlit as st

from medblocks.dashboard.bidi import visible_controls
from medblocks.dashboard.display import health_table, time_text
from medblocks.dashboard.frames import STUCK_AFTER_TEXT, rows_with
from medblocks.dashboard.launch import default_return_url
from medblocks.dashboard.masking import shown_name
from medblocks.dashboard.row_actions import (
    BulkRow,
    completed_count,
    create_bulk,
    follow,
    open_link,
    plan_bulk,
)
from medblocks.dashboard.session_link import create_session_link
from medblocks.dashboard.sources import source_name
from medblocks.dashboard.url_values import Choices, WholeNumber
from medblocks.mirror.statuses import FAILING, STATUSES
from ui_pages import _mirror, _query, _shared, _tables

MAX_FAILING_DAYS = 36500

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
statuses = cols[0].multiselect("Status", list(STATUSES), default=_query.choices("status", STATUSES))
source_names = sorted(s for s in table["source"].unique() if s)
chosen_sources = cols[1].multiselect(
    "Source", source_names, default=_query.choices("source", source_names)
)
codes = sorted(c for c in table["failure_code"].unique() if c)
chosen_codes = cols[2].multiselect("Failure code", codes, default=_query.choices("code", codes))
days_default = _query.param("failing_days", WholeNumber(0, MAX_FAILING_DAYS)).number or 0
failing_days = cols[3].number_input(
    "Failing for at least (days)",
    min_value=0,
    max_value=MAX_FAILING_DAYS,
    value=days_default,
    step=1,
    format="%d",
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

    chosen = table[table["id"] == _query.param("connection", Choices(table["id"].tolist())).first]
    if len(chosen):
        row_actions(chosen.iloc[0], "health")


def row_actions(row: pd.Series, where: str) -> None:
    """One row's actions: a new session link (the open one offered first), disconnect."""
    st.subheader("Selected connection")
    st.text(
        visible_controls(f"Patient {row['patient_id']} · {row['source']} · {row['status']}")
        + (f" for {row['failing_for']}" if row["failing_for"] else "")
    )
    for label, key in (("What happened", "what_happened"), ("Tell the patient", "tell_patient")):
        if row[key]:
            st.text(f"{label}: {row[key]}")
    _shared.patient_page_link(str(row["patient_id"]))
    if not _shared.require_writes(t):
        return
    links = st.session_state.setdefault("health_new_links", {})
    existing = open_link(
        _mirror.sessions(), str(row["patient_id"]), str(row["source_id"]), clock.now()
    )
    anyway = True
    if existing is not None and row["id"] not in links:
        st.warning(
            f"This patient already has an open link for {row['source']} (session "
            f"{existing.session_id}, expires {time_text([existing.expires_at])[0]}). Send this "
            "one instead of making a second:"
        )
        st.code(existing.url, language=None)
        anyway = st.checkbox("Make a new link anyway", key=f"{where}_link_anyway")
    if anyway and st.button(
        "Create a new session link for this patient and source",
        key=f"{where}_new_link",
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
            st.rerun()  # drawn again: the new link, not the one offered before it
    if row["id"] in links:
        session_id, url = links[row["id"]]
        st.success(f"Session {session_id} created. Copy the link and send it to the patient:")
        st.code(url, language=None)
    if row["status"] == "disconnected":
        return
    if st.button("Disconnect this connection", key=f"{where}_disconnect_ask"):
        st.session_state["health_confirm_disconnect"] = row["id"]
    if st.session_state.get("health_confirm_disconnect") == row["id"]:
        st.warning("The patient's hospital access ends for this organisation. It cannot be undone.")
        if st.button("Yes, disconnect", key=f"{where}_disconnect_confirm", type="primary"):
            done = _shared.attempt(
                "Disconnecting",
                _shared.client().patients.disconnect,
                str(row["patient_id"]),
                str(row["id"]),
            )
            st.session_state.pop("health_confirm_disconnect", None)
            if done is not None:
                _mirror.refresh_patient(str(row["patient_id"]))
                st.session_state["health_flash"] = "Disconnected."
                st.rerun()  # the table is drawn again with the connection disconnected


def draw_needs_attention() -> None:
    attention = view[view["status"].isin(FAILING)].sort_values("failing_since")
    st.caption(
        f"{len(attention)} failed, refresh_failed or expired: the patient must connect again. "
        "Select one row to act on it, or several for one new link each."
    )
    picked = _tables.show(
        attention,
        ["patient_link", "name", "source", "status", "failing_for", "who_acts", "tell_patient"],
        key="health_attention",
        on_select="rerun",
        selection_mode="multi-row",
    )
    rows = picked.selection.rows if picked is not None else []
    if len(rows) == 1:
        row_actions(attention.iloc[rows[0]], "attention")
    elif rows:
        bulk_links(attention.iloc[rows])
    if bulk := st.session_state.get("health_bulk"):
        follow_bulk(bulk)


def bulk_links(selected: pd.DataFrame) -> None:
    """One new link for each selected row (an open one offered instead), in one batch."""
    st.subheader(f"{len(selected)} selected: one new session link each")
    plan = plan_bulk(selected, _mirror.sessions(), clock.now())
    offered = sum(r.outcome != "to create" for r in plan)
    st.caption(
        f"{len(plan) - offered} to create, {offered} with an open link already (offered, not "
        "made again). Created one at a time, paced; a failure is shown, never retried."
    )
    if not _shared.require_writes(t):
        return
    if st.button(f"Create {len(plan) - offered} links", key="health_bulk_create"):
        batch = st.session_state.setdefault("health_bulk_batch", uuid.uuid4().hex)
        with st.spinner("Creating the links…"):
            done = create_bulk(
                plan,
                client=_shared.client(),
                ledger=_shared.ledger(),
                target=t,
                batch_id=batch,
                return_url=default_return_url(st.context.url),
                launched_by=_shared.who(),
            )
        st.session_state.pop("health_bulk_batch", None)  # the next press is a new decision
        for row in done:
            if row.outcome == "created":
                _mirror.refresh_session(row.session_id)
        st.session_state["health_bulk"] = done


def follow_bulk(done: list[BulkRow]) -> None:
    st.subheader("The last batch of links")
    followed = follow(done, _mirror.sessions())
    completed, linked = completed_count(followed)
    st.caption(
        f"{completed} of {linked} completed (the mirror re-reads open sessions every few "
        "seconds). Download the list for the team's messaging tool."
    )
    _tables.show(followed, list(followed.columns), key="health_bulk_table")
    _tables.download(followed, "new-session-links.csv", key="health_bulk_csv")


def draw_stuck_pulls() -> None:
    st.caption(
        f"Active connections with no record from their source {STUCK_AFTER_TEXT} after connecting."
    )
    _tables.show(
        view[view["stuck_pull"]], ["patient_link", "source", "updated", "id"], key="health_stuck"
    )


if flash := st.session_state.pop("health_flash", None):
    st.success(flash)

# Only the open tab runs (`?list=…` names it): one table is drawn, not three.
_shared.lazy_tabs(
    "list",
    {
        "All connections": draw_all,
        "Needs attention": draw_needs_attention,
        "Stuck pulls": draw_stuck_pulls,
    },
)
