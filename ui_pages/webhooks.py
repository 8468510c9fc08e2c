"""Webhooks: endpoints, recent events with delivery state, attempts and status code; redeliver."""

from __future__ import annotations

import streamlit as st

from medblocks.dashboard.frames import rows_with
from ui_pages import _shared

t = _shared.target()
st.title("Webhooks")
endpoints = _shared.attempt("Reading webhook endpoints", _shared.endpoints)
if endpoints is None:
    st.stop()
st.dataframe(endpoints, hide_index=True)
if endpoints.empty:
    st.text("No webhook endpoints are registered.")
    st.stop()

ids = list(endpoints["id"])
wanted = st.query_params.get("endpoint", ids[0])
endpoint_id = st.selectbox("Endpoint", ids, index=ids.index(wanted) if wanted in ids else 0)
_shared.keep_in_query("endpoint", endpoint_id)
events = _shared.attempt("Reading events", _shared.events, endpoint_id)
if events is None:
    st.stop()
states = st.multiselect(
    "Delivery", ["delivered", "retrying", "failed"], default=_shared.query_list("delivery")
)
_shared.keep_in_query("delivery", states)
view = rows_with(events, "delivery", states)
st.dataframe(view, hide_index=True)

if len(view) and _shared.require_writes(t):
    event_id = st.selectbox("Event to redeliver", list(view["id"]), index=None)
    if event_id and st.button("Redeliver", key="redeliver"):
        done = _shared.attempt("Redelivering", _shared.client().events.redeliver, event_id)
        if done is not None:
            st.cache_data.clear()
            st.success("Queued for redelivery (one redelivery per event per minute).")
