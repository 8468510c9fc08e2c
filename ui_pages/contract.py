"""Contract & drift: run the harness with progress, the newest run's results, the last runs."""

from __future__ import annotations

import streamlit as st

from medblocks.dashboard import contract_runs as runs
from ui_pages import _audit, _target

t = _target.target()
st.title("Contract & drift")
secrets = (t.api_key,)

st.subheader("Run in a sandbox of its own")
st.caption(
    "A run started here goes to a fresh sandbox started for it (demo data, stopped when the run "
    f"ends), never to {t.label}: nothing it creates or breaks reaches the pages ops read. To "
    "check that target itself, run `pytest contract_tests` with its settings."
)
running = runs.running_run()
if t.is_live:
    st.info("The contract suite never runs with a live key.")
elif st.button(
    "Run contract suite and drift check",
    key="run_contract",
    disabled=running is not None,
    help="About a minute: pytest contract_tests, then python -m medblocks spec check.",
):
    try:
        running = _audit.act("contract-run", runs.start_run, t, view="contract").record
    except (RuntimeError, OSError) as exc:
        st.error(f"The run could not start: {exc}")


@st.fragment(run_every=2)
def show_progress(run_id: str) -> None:
    """Polls the running run's output; when it ends, the whole page is drawn again from its
    reports (the new run replaces the old view)."""
    record = next((r for r in runs.runs() if r.id == run_id), None)
    if record is None or not record.running:
        st.rerun(scope="app")
        return
    now = runs.progress(record, secrets)
    label = f"Running {now.command or 'the harness'}"
    if now.percent is not None:
        st.progress(now.percent / 100, text=f"{label}: {now.percent}% of the tests done")
    else:
        st.progress(0.0, text=f"{label}…")
    st.caption(f"Started {record.started_at}. Last output: {now.last_line[:200]}")


if running is not None:
    show_progress(running.id)

try:
    sets = runs.report_sets()
except ValueError as exc:
    st.error("A report file cannot be read.")
    st.text(str(exc))
    sets = []

if not sets:
    st.info("No contract run yet: run it above or `pytest contract_tests`.")
    st.stop()

newest = sets[0]
summary = newest.summary
st.subheader("Newest run")
st.caption(f"{newest.label} · {summary.get('target', '?')} · {summary.get('base_url', '')}")
if summary.get("configuration_error"):
    st.error("The run stopped before any contract test: configuration error.")
    st.text(str(summary["configuration_error"]))
for cause in runs.root_causes(summary):
    st.warning(cause)
not_run = runs.not_run_frame(summary)
if not not_run.empty:
    st.error(f"{len(not_run)} checks did not run: this run is not green.")
    st.dataframe(not_run, hide_index=True)
cleanup = summary.get("cleanup") or {}
cols = st.columns(5)
cols[0].metric("Passed", summary.get("passed", 0))
cols[1].metric("Failed", summary.get("failed", 0))
cols[2].metric("Known sandbox gaps", summary.get("xfailed", 0))
cols[3].metric("Drift", str(summary.get("drift_headline", "?")))
cols[4].metric("Left behind", cleanup.get("left_behind", "?"))
finished = f"Finished {runs.when_text(summary.get('finished_at'))}."
st.caption(f"{runs.phases_text(summary)}. {finished}" if summary.get("phases") else finished)

st.subheader("Failures by cause")
failures = runs.failures_frame(summary)
if failures.empty:
    st.success("No failed check.")
else:
    st.dataframe(failures, hide_index=True)

st.subheader("Rules stated only in prose")
st.dataframe(runs.rules_frame(summary), hide_index=True)
with st.expander("Rules no client can check from outside"):
    st.dataframe(summary.get("rules_not_checkable") or [], hide_index=True)

st.subheader("Operations and the status codes seen")
unanswered = runs.never_2xx(summary)
if unanswered:
    st.warning(
        "Never answered 2xx (the success path of these was not checked): " + ", ".join(unanswered)
    )
st.dataframe(runs.coverage_frame(summary), hide_index=True)

st.subheader("Clean-up")
st.text(
    f"Made {cleanup.get('made', '?')}, deleted {cleanup.get('deleted', '?')}, "
    f"left behind {cleanup.get('left_behind', '?')}."
)
st.dataframe(runs.cleanup_frame(summary), hide_index=True)
for problem in cleanup.get("problems") or []:
    st.text(problem)

st.subheader("Drift")
drift = newest.drift or {}
st.text(f"{drift.get('headline', 'unknown')}: {drift.get('compared') or drift.get('error') or ''}")
changes = runs.drift_frame(drift)
if changes.empty:
    st.text("No structural change between the pinned document and the one served.")
else:
    st.dataframe(changes, hide_index=True)

st.subheader("Last runs")
st.dataframe(runs.runs_frame(sets[:10]), hide_index=True)
if newest.run is not None:
    with st.expander(f"Output of {newest.label} (exit codes {newest.run.exit_codes})"):
        st.code(runs.read_log(newest.run, secrets), language=None)
