"""Contract & drift: the latest harness reports, and a button to run them on the current target."""

from __future__ import annotations

import streamlit as st

from medblocks.dashboard import contract_runs
from ui_pages import _shared

t = _shared.target()
st.title("Contract & drift")

try:
    summary = contract_runs.latest_summary()
    drift = contract_runs.latest_drift()
except ValueError as exc:
    st.error("A report file cannot be read.")
    st.text(str(exc))
    summary = drift = None

if summary is None:
    st.info("No contract run yet: run it below or `pytest contract_tests`.")
else:
    cols = st.columns(4)
    cols[0].metric("Passed", summary.get("passed", 0))
    cols[1].metric("Failed", summary.get("failed", 0))
    cols[2].metric("Target", str(summary.get("target", "?")))
    cols[3].metric("Drift", str(summary.get("drift_headline", "?")))
    when = f"{summary.get('started_at', '')} → {summary.get('finished_at', '')}"
    st.text(f"{summary.get('base_url', '')} · {when}")
    st.subheader("Failures")
    st.dataframe(contract_runs.failures_frame(summary), hide_index=True)
    st.subheader("Status codes seen per operation")
    st.dataframe(contract_runs.coverage_frame(summary), hide_index=True)

st.subheader("Drift report")
if drift is None:
    st.text("No drift report yet.")
else:
    st.json(drift, expanded=False)

st.subheader("Run against the current target")
if t.is_live:
    st.info("The contract suite never runs with a live key.")
elif st.button("Run contract suite and drift check", key="run_contract"):
    with st.spinner("Running the contract suite…"):
        results = _shared.attempt("Running the harness", contract_runs.run_harness, t)
    for result in results or []:
        (st.success if result.returncode == 0 else st.error)(
            f"{result.command}: exit code {result.returncode}"
        )
        st.code(result.output, language=None)
