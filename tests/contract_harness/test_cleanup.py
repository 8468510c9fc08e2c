"""The run's last step deletes what it created (run-prefixed patients, its webhook endpoints),
leaves everything else alone, and reports what it could not delete."""

from __future__ import annotations

import httpx

from contract_tests.calls import create_patient, create_webhook
from contract_tests.cleanup import clean_up
from contract_tests.run import RunState
from contract_tests.target import embedded_target


def _ids(api: httpx.Client) -> set[str]:
    return {p["id"] for p in api.get("/patients", params={"limit": 100}).json()["data"]}


def test_clean_up_deletes_the_runs_data_and_nothing_else() -> None:
    target = embedded_target()
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
    target = embedded_target()
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
