"""Connection health: every connection, filters kept in the URL, per row a new session link for
that patient and source, CSV; what needs attention and stuck pulls in tabs of their own (only the
open tab is drawn; `?list=` names it)."""

from __future__ import annotations

import uuid

import pandas as pd
import streamlit as st

from medblocks.dashboard.frames import STUCK_AFTER_TEXT
from medblocks.dashboard.health_view import (
    ALL_COLUMNS,
    ATTENTION_COLUMNS,
    CSV_COLUMNS,
    MAX_FAILING_DAYS,
    STUCK_COLUMNS,
    HealthFilters,
    code_options,
    connection_row,
    filtered,
    health_rows,
    needs_attention,
    row_heading,
    row_notes,
    source_options,
    stuck_pulls,
)
from medblocks.dashboard.launch import default_return_url
from medblocks.dashboard.row_actions import (
    BulkRow,
    HealthActions,
    completed_count,
    create_bulk,
    follow,
    open_link,
    plan_bulk,
)
from medblocks.dashboard.session_link import create_session_link
from medblocks.dashboard.tables import time_text
from medblocks.dashboard.url_values import Choices, WholeNumber
from medblocks.mirror.statuses import STATUSES
from ui_pages import (
    _access,
    _errors,
    _layout,
    _mirror,
    _query,
    _reads,
    _reveal,
    _tables,
    _target,
)

t = _target.target()
st.title("Connection health")
actions: HealthActions = st.session_state.setdefault("health_actions", HealthActions())

_mirror.status_line()
catalog = _errors.attempt("Reading the source catalog", _reads.catalog) or {}
clock = _reads.clock()
table = health_rows(
    _mirror.health(), catalog, _mirror.org().patients, clock, reveal=_reveal.reveal()
)

cols = st.columns(4)
statuses = cols[0].multiselect("Status", list(STATUSES), default=_query.choices("status", STATUSES))
source_names = source_options(table)
chosen_sources = cols[1].multiselect(
    "Source", source_names, default=_query.choices("source", source_names)
)
codes = code_options(table)
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
_query.keep_in_query("status", statuses)
_query.keep_in_query("source", chosen_sources)
_query.keep_in_query("code", chosen_codes)
_query.keep_in_query("failing_days", str(failing_days) if failing_days else None)

view = filtered(table, HealthFilters(statuses, chosen_sources, chosen_codes, int(failing_days)))


def draw_all() -> None:
    masked = "" if _reveal.reveal() else " · names masked (Reveal in the sidebar)"
    st.caption(
        f"{len(view)} of {len(table)} connections{masked} · "
        '"Failing for" counts from when the failure happened, or "at least" from when the mirror '
        'first saw it failing where the API does not say; "Connection age" from when it was made. '
        "Select a row to send the patient a new session link."
    )
    picked = _tables.show(
        view, ALL_COLUMNS, on_select="rerun", selection_mode="single-row", key="health_table"
    )
    rows = picked.selection.rows if picked is not None else []
    if rows:
        _query.keep_in_query("connection", str(view.iloc[rows[0]]["id"]))
    _tables.download(view[CSV_COLUMNS], "connection-health.csv", key="health_csv")

    chosen = connection_row(table, _query.param("connection", Choices(table["id"].tolist())).first)
    if chosen is not None:
        row_actions(chosen, "health")


def row_actions(row: pd.Series, where: str) -> None:
    """One row's actions: a new session link (the open one offered first), disconnect."""
    st.subheader("Selected connection")
    st.text(row_heading(row))
    for note in row_notes(row):
        st.text(note)
    _layout.patient_page_link(str(row["patient_id"]))
    if not _target.require_writes(t):
        return
    connection_id, patient_id = str(row["id"]), str(row["patient_id"])
    existing = actions.offered(
        connection_id,
        open_link(_mirror.sessions(), patient_id, str(row["source_id"]), clock.now()),
    )
    anyway = True
    if existing is not None:
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
        outcome = _errors.attempt(
            "Creating the session link",
            create_session_link,
            _target.client(),
            _target.ledger(),
            t,
            patient_id=patient_id,
            source_id=str(row["source_id"]),
            return_url=default_return_url(st.context.url),
            intent_id=uuid.uuid4().hex,
            launched_by=_access.who(),
        )
        if outcome is not None and outcome.record.session_id:
            actions.made(connection_id, outcome.record.session_id, outcome.record.session_url)
            _mirror.refresh_session(outcome.record.session_id)
            st.rerun()  # drawn again: the new link, not the one offered before it
    if made := actions.made_for(connection_id):
        st.success(f"Session {made[0]} created. Copy the link and send it to the patient:")
        st.code(made[1], language=None)
    if row["status"] == "disconnected":
        return
    if st.button("Disconnect this connection", key=f"{where}_disconnect_ask"):
        actions.disconnect.ask(connection_id)
    _layout.confirm_disconnect(
        actions.disconnect,
        patient_id,
        connection_id,
        view="health",
        key=f"{where}_disconnect_confirm",
        reread=lambda: _mirror.refresh_patient(patient_id),
    )


def draw_needs_attention() -> None:
    attention = needs_attention(view)
    st.caption(
        f"{len(attention)} failed, refresh_failed or expired: the patient must connect again. "
        "Select one row to act on it, or several for one new link each."
    )
    picked = _tables.show(
        attention,
        ATTENTION_COLUMNS,
        key="health_attention",
        on_select="rerun",
        selection_mode="multi-row",
    )
    rows = picked.selection.rows if picked is not None else []
    if len(rows) == 1:
        row_actions(attention.iloc[rows[0]], "attention")
    elif rows:
        bulk_links(attention.iloc[rows])
    if actions.bulk:
        follow_bulk(actions.bulk)


def bulk_links(selected: pd.DataFrame) -> None:
    """One new link for each selected row (an open one offered instead), in one batch."""
    st.subheader(f"{len(selected)} selected: one new session link each")
    plan = plan_bulk(selected, _mirror.sessions(), clock.now())
    offered = sum(r.outcome != "to create" for r in plan)
    st.caption(
        f"{len(plan) - offered} to create, {offered} with an open link already (offered, not "
        "made again). Created one at a time, paced; a failure is shown, never retried."
    )
    if not _target.require_writes(t):
        return
    if st.button(f"Create {len(plan) - offered} links", key="health_bulk_create"):
        with st.spinner("Creating the links…"):
            done = create_bulk(
                plan,
                client=_target.client(),
                ledger=_target.ledger(),
                target=t,
                batch_id=actions.batch(),
                return_url=default_return_url(st.context.url),
                launched_by=_access.who(),
            )
        actions.batch_done(done)  # the next press is a new decision
        for row in done:
            if row.outcome == "created":
                _mirror.refresh_session(row.session_id)


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
        stuck_pulls(view),
        STUCK_COLUMNS,
        key="health_stuck",
    )


if flash := actions.disconnect.take_message():
    st.success(flash)

# Only the open tab runs (`?list=…` names it): one table is drawn, not three.
_layout.lazy_tabs(
    "list",
    {
        "All connections": draw_all,
        "Needs attention": draw_needs_attention,
        "Stuck pulls": draw_stuck_pulls,
    },
)
