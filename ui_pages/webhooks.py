"""Webhooks: endpoints, recent events (patient, delivery state, attempts, status code), the
payload and response of one event, and redelivery with its documented once-a-minute limit."""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from medblocks.dashboard.bidi import visible_controls
from medblocks.dashboard.frames import rows_with
from medblocks.dashboard.webhooks import (
    DELIVERY_STATES,
    ENDPOINT_TIMES,
    EVENT_TIMES,
    HIDDEN_EVENT_COLUMNS,
    Redeliveries,
    for_people,
)
from ui_pages import _audit, _errors, _query, _reads, _tables, _target

t = _target.target()
st.title("Webhooks")
redeliveries: Redeliveries = st.session_state.setdefault("webhooks_redeliveries", Redeliveries())
endpoints = _errors.attempt("Reading webhook endpoints", _reads.endpoints)
if endpoints is None:
    st.stop()
_tables.show(for_people(endpoints, ENDPOINT_TIMES), list(endpoints.columns), key="endpoints")
if endpoints.empty:
    st.text("No webhook endpoints are registered.")
    st.stop()

ids = list(endpoints["id"])
endpoint_id = st.selectbox("Endpoint", ids, index=_query.choice_index("endpoint", ids) or 0)
_query.keep_in_query("endpoint", endpoint_id)
events = _errors.attempt("Reading events", _reads.events, endpoint_id)
if events is None:
    st.stop()
states = st.multiselect(
    "Delivery", DELIVERY_STATES, default=_query.choices("delivery", DELIVERY_STATES)
)
_query.keep_in_query("delivery", states)
view = rows_with(events, "delivery", states)
shown = [c for c in view.columns if c not in HIDDEN_EVENT_COLUMNS]
_tables.show(for_people(view, EVENT_TIMES), shown, key="webhook_events")
event_ids = list(view["id"])
wanted_event = _query.choice_index("event", event_ids)  # checked even when none is listed
if view.empty:
    st.stop()

event_id = st.selectbox(
    "Event",
    event_ids,
    index=wanted_event,
    placeholder="Pick an event to see its payload and the last response",
)
_query.keep_in_query("event", event_id)
if event_id is None:
    st.stop()
event = view[view["id"] == event_id].iloc[0]
payload_col, response_col = st.columns(2)
with payload_col:
    st.caption(f"Payload ({event['type']}, data.object)")
    st.code(event["payload"], language="json")
with response_col:
    code = event["last_status_code"]
    st.caption("Last response: " + ("no answer" if pd.isna(code) else f"HTTP {int(code)}"))
    body = event["last_response_body"]  # missing is None or NaN, as pandas read the list
    st.code(visible_controls(body if isinstance(body, str) and body else "(empty)"), language=None)


@st.fragment(run_every=1)
def redelivery_countdown(event_id: str) -> None:
    """The documented limit as information, counting down to when the event may go again."""
    left = redeliveries.seconds_left(event_id, time.time())
    if left:
        st.info(
            "Medblocks allows one redelivery per event per minute. "
            f"This event can be redelivered again in {left} s."
        )
    elif left is not None:
        st.info("This event can be redelivered again now.")


if _target.require_writes(t):
    if st.button("Redeliver", key="redeliver"):
        done = redeliveries.redeliver(
            event_id,
            lambda: _audit.act(
                "redeliver",
                _target.client().events.redeliver,
                event_id,
                target=event_id,
                view="webhooks",
            ),
            time.time(),
        )
        if isinstance(done, BaseException):
            _errors.show_problem(done, "Redelivering")
        elif done == "queued":
            st.cache_data.clear()
            st.rerun()  # the events above are read again: the delivery as it stands now
    if message := redeliveries.take_message():
        st.success(message)
    if redeliveries.seconds_left(event_id, time.time()) is not None:
        redelivery_countdown(event_id)
