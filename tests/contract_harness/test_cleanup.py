"""The run's last step deletes what it created (run-prefixed patients, its webhook endpoints and
their events), leaves everything else alone, and counts truthfully what it could not delete."""

from __future__ import annotations

import httpx

from contract_tests.calls import connected_session, create_patient, create_webhook
from contract_tests.cleanup import caused_by_run, clean_up, left_behind
from contract_tests.run import RunState
from contract_tests.target import in_process_target


def _ids(api: httpx.Client) -> set[str]:
    return {p["id"] for p in api.get("/patients", params={"limit": 100}).json()["data"]}


def test_clean_up_deletes_the_runs_data_and_nothing_else() -> None:
    target = in_process_target()
    state = RunState(target.label, target.base_url, budget_seconds=60)
    with target.client() as api:
        bystander = api.post("/patients", json={"patient_id": "not-from-this-run"}).json()["id"]
        mine = {create_patient(api, state, f"clean-{n}")["id"] for n in range(3)}
        state.created_patients.clear()  # found by their prefix alone, as after a crash
        hook = create_webhook(api, state, "http://localhost:9/clean")["id"]
        clean_up(api, state)
        remaining = _ids(api)
        assert not mine & remaining and bystander in remaining
        assert api.get(f"/webhooks/{hook}").status_code == 404
    assert state.cleaned == 4 and state.cleanup_problems == []


def test_clean_up_reports_what_it_could_not_delete() -> None:
    target = in_process_target()
    state = RunState(target.label, target.base_url, budget_seconds=60)
    with target.client() as api:
        stuck = create_patient(api, state, "stuck")["id"]
        faults = api.put("/_sandbox/faults", json={"rate_limit_burst": 2, "retry_after": 1})
        assert faults.status_code == 200, faults.text
        clean_up(api, state)  # the listing and the delete both meet a 429
        assert stuck in _ids(api)
    assert state.cleaned == 0
    assert any(
        "listing patients (only recorded ids deleted) answered HTTP 429" in p
        for p in state.cleanup_problems
    )
    assert any(stuck in p and "HTTP 429" in p for p in state.cleanup_problems)


def _events_about(api: httpx.Client, endpoint: str, state: RunState) -> int:
    events = api.get(f"/webhooks/{endpoint}/events", params={"limit": 100}).json()["data"]
    return sum(caused_by_run(event, state) for event in events)


def test_clean_up_counts_webhook_events_and_its_left_behind_figure_is_true() -> None:
    """A completed session makes events on the run's own endpoint (deleted with it) and on the
    demo's endpoint for `*` (which the run does not own and the API cannot clean)."""
    target = in_process_target()
    state = RunState(target.label, target.base_url, budget_seconds=60)
    with target.client() as api:
        mine = create_webhook(api, state, "http://localhost:9/clean-events")["id"]
        source = api.get("/connections").json()["data"][0]["id"]
        session = connected_session(api, state, "clean-events", source)
        own = len(api.get(f"/webhooks/{mine}/events").json()["data"])
        others = [w["id"] for w in api.get("/webhooks").json()["data"] if w["id"] != mine]
        theirs = sum(_events_about(api, endpoint, state) for endpoint in others)
        assert own >= 2 and theirs >= 1  # the demo organisation has an endpoint for `*`
        clean_up(api, state)
        still_there = sum(_events_about(api, endpoint, state) for endpoint in others)
        assert api.get(f"/patient-sessions/{session['id']}").status_code == 404
    counts = state.cleanup_counts
    assert counts["webhook events"] == [own + theirs, own, theirs]
    assert counts["patient sessions"] == [1, 1, 0]
    assert counts["webhook endpoints"] == [1, 1, 0] and counts["patients"] == [1, 1, 0]
    assert left_behind(state) == theirs == still_there
    assert any("does not own" in problem for problem in state.cleanup_problems)
