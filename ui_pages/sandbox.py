"""Sandbox: the local sandbox's levers (personas, forced outcomes, clock, faults, reset).

Listed only for a local sandbox. Each lever says what it will do before its button; reset asks
for a confirmation. The calls live in `medblocks.dashboard.sandbox_levers`, the personas'
words in `medblocks.dashboard.personas`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from medblocks.dashboard import sandbox_levers
from medblocks.dashboard.clock import ServerClock
from medblocks.dashboard.personas import DENY_NOTE, SIGN_IN, persona_rows
from medblocks.dashboard.sources import source_name
from medblocks.dashboard.tables import launch_label
from medblocks.sandbox import Faults
from ui_pages import _audit, _errors, _mirror, _query, _reads, _target

T = TypeVar("T")
UNITS = {"minutes": 60, "hours": 3600, "days": 86400}

t = _target.target()
st.title("Sandbox")
st.caption(
    f"The levers of the local sandbox at {t.base_url}. They are not part of Medblocks: a real "
    "Medblocks workspace has none of them."
)
if not t.is_local_sandbox:
    st.info("This target is not a local sandbox: it has no levers.")
    st.stop()
sandbox = sandbox_levers.SandboxLevers(t)


def lever(doing: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
    """One write lever, as the person acting: an admin's, audited (`_audit.act`)."""
    return _errors.attempt(
        doing, _audit.act, "sandbox-lever", fn, *args, view="sandbox", detail=doing, **kwargs
    )


st.subheader("Personas")
st.text(SIGN_IN)
st.caption(DENY_NOTE)
st.dataframe(persona_rows(), hide_index=True)

st.subheader("Force an outcome on an open session")
launches = {
    r.session_id: launch_label(r.session_id, r.patient_id, r.mode, r.requested_at)
    for r in _target.ledger().recent(20)
    if r.session_id and r.target == t.kind
}
recent = list(launches)
wanted_session = _query.text("session")
options = list(dict.fromkeys([*([wanted_session] if wanted_session else []), *recent]))
session_id = (
    st.selectbox(
        "Patient session id",
        options,
        index=0 if wanted_session else None,
        accept_new_options=True,
        format_func=lambda sid: launches.get(sid, sid),
        placeholder="ps_… (recent launches are listed; type any other id)",
    )
    or ""
).strip()
_query.keep_in_query("session", session_id)
session = (
    _errors.attempt("Reading the session", _target.client().patient_sessions.retrieve, session_id)
    if session_id
    else None
)
if session is not None:
    status_line = st.empty()
    status_line.text(f"Status: {session.status} · {len(session.connections)} attempt(s) so far")
    if session.status != "open":
        st.info("Only an open session can be completed; launch a new one on the Launch page.")
    else:
        catalog = _reads.catalog()
        if session.connection_id:
            source_id = session.connection_id
            st.text(f"Source (direct mode): {source_name(catalog, source_id)}")
        else:
            choices = list(session.recommended_connection_ids or catalog)
            source_id = st.selectbox(
                "Source the patient connects",
                choices,
                format_func=lambda i: source_name(catalog, i),
            )
        outcome = st.radio("Outcome", ["active", "failed"], horizontal=True)
        failure_code = refresh_after = None
        sync_fails = False
        if outcome == "failed":
            codes = sandbox_levers.failure_codes()
            failure_code = st.selectbox(
                "Failure code", list(codes), format_func=lambda c: f"{c}: {codes[c]}"
            )
        else:
            hours = st.number_input(
                "Refresh fails after (sandbox-clock hours; 0: never)", 0, 8760, 0
            )
            refresh_after = int(hours) * 3600 or None
            sync_fails = st.checkbox("Records sync fails")
        body = sandbox_levers.force_body(
            outcome,
            failure_code=failure_code,
            connection_id=source_id,
            refresh_fails_after_seconds=refresh_after,
            records_sync_fails=sync_fails,
        )
        st.info(
            sandbox_levers.describe_force(
                session.model_dump(), body, source_name(catalog, source_id)
            )
        )
        if st.button("Force this outcome", key="force_outcome"):
            forced = lever("Forcing the outcome", sandbox.force_outcome, session.id, **body)
            if forced is not None:
                _mirror.refresh_session(session.id)
                st.cache_data.clear()
                after = forced.patient_session
                status_line.text(
                    f"Status: {after['status']} · {len(after['connections'])} attempt(s) so far"
                )
                st.success(f"Done: the session is {after['status']}.")
                st.link_button("Open where the browser would return", forced.redirect_url)

st.subheader("Clock")
clock = _errors.attempt("Reading the sandbox clock", sandbox.clock)
if clock is not None:
    st.text(f"Sandbox time: {clock.now} ({ServerClock(-clock.offset_seconds).short(True)})")
    amount_col, unit_col = st.columns(2)
    amount = amount_col.number_input("Advance by", 1, 100_000, 1)
    unit = unit_col.selectbox("Unit", list(UNITS), index=1)
    seconds = int(amount) * UNITS[unit]
    st.info(sandbox_levers.describe_advance(seconds, clock))
    if st.button("Advance the clock", key="advance_clock"):
        moved = lever("Advancing the clock", sandbox.advance_clock, seconds)
        if moved is not None:
            _mirror.reread_open_sessions()  # links that expired send no event
            st.cache_data.clear()
            st.success(f"The sandbox clock now reads {moved.now}.")

st.subheader("Faults")
current = _errors.attempt("Reading the faults", sandbox.faults)
if current is not None:
    st.text("Now: " + sandbox_levers.describe_faults(current))
    left, right = st.columns(2)
    wanted = Faults(
        latency_ms=int(left.number_input("Latency (ms)", 0, 30_000, current.latency_ms)),
        error_rate=float(
            left.number_input("Error rate (0–1)", 0.0, 1.0, current.error_rate, step=0.05)
        ),
        rate_limit_per_second=int(
            left.number_input(
                "Rate limit (requests per second per key; 0: off)",
                0,
                100_000,
                current.rate_limit_per_second,
            )
        ),
        rate_limit_burst=int(right.number_input("Answer the next N requests 429", 0, 100_000, 0)),
        retry_after=int(right.number_input("Retry-After (s)", 1, 3600, current.retry_after)),
    )
    st.info(sandbox_levers.describe_faults(wanted, current))
    apply_col, clear_col = st.columns(2)
    if apply_col.button("Apply these faults", key="apply_faults"):
        applied = lever("Setting the faults", sandbox.set_faults, wanted)
        if applied is not None:
            current = applied
            st.success("Faults applied. " + sandbox_levers.describe_faults(applied))
    clear_help = "Sets every fault to off: " + sandbox_levers.describe_faults(Faults())
    if current.any and clear_col.button("Clear all faults", key="clear_faults", help=clear_help):
        cleared = lever("Clearing the faults", sandbox.clear_faults)
        if cleared is not None:
            st.success("Faults cleared: API requests are answered normally.")

st.subheader("Reset")
seed_demo = st.checkbox("Reseed the demo organisation", value=True)
st.warning(sandbox_levers.describe_reset(seed_demo))
if not st.session_state.get("confirm_reset"):
    if st.button("Reset the sandbox…", key="reset"):
        st.session_state["confirm_reset"] = True
        st.rerun()
else:
    st.error("Reset now? Everything above is deleted.")
    yes, no = st.columns(2)
    if yes.button("Yes, reset everything", key="reset_confirmed", type="primary"):
        st.session_state["confirm_reset"] = False
        if lever("Resetting", sandbox.reset, seed_demo=seed_demo) is not None:
            _mirror.after_reset()
            st.cache_data.clear()
            st.success("The sandbox was reset.")
    if no.button("Cancel", key="reset_cancelled"):
        st.session_state["confirm_reset"] = False
        st.rerun()
