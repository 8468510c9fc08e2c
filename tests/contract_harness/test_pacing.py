"""Pacing against real targets: a 429's `Retry-After` is waited out before that route is called
again (over loopback, against a real sandbox server), never in-process; the time budget skips
what is left and says so in the report."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from contract_tests.calls import webhook_event
from contract_tests.harness import RunHooks, build_schema
from contract_tests.run import RunState
from contract_tests.subprocess_run import run_suite
from contract_tests.suite import BUDGET_ENV
from contract_tests.target import ContractTarget
from medblocks.sandbox import SandboxConfig, start_in_thread


def test_retry_after_is_waited_out_on_the_same_route(monkeypatch: pytest.MonkeyPatch) -> None:
    with start_in_thread(SandboxConfig(db_path=None, seed_demo=True)) as server:
        target = ContractTarget("loopback sandbox", server.base_url, server.api_key)
        state = RunState(target.label, target.base_url, budget_seconds=300)
        hooks = RunHooks(target, state)
        schema = build_schema(target, hooks)
        with target.client() as api:
            source = api.get("/connections").json()["data"][0]["id"]
            event = webhook_event(api, state, source)
        redeliver = schema["/events/{id}/redeliver"]["POST"]
        sleeps: list[float] = []
        monkeypatch.setattr(time, "sleep", sleeps.append)
        statuses = []
        auth = {"Authorization": f"Bearer {server.api_key}"}
        for _ in range(3):
            case = redeliver.Case(path_parameters={"id": event["id"]})
            hooks.before_call(case)
            statuses.append(case.call(headers=auth).status_code)
        assert statuses[:2] == [200, 429]
        assert len(sleeps) == 1 and 50 < sleeps[0] <= 60, sleeps  # the Retry-After, waited
        other = schema["/health"]["GET"].Case()
        hooks.before_call(other)  # another route is not held back
        assert len(sleeps) == 1


def test_a_budget_too_small_fails_the_run_and_lists_what_did_not_run(tmp_path: Path) -> None:
    selection = [
        "contract_tests/test_errors.py::test_unknown_patient_is_resource_not_found",
        "contract_tests/test_prose.py",
        "contract_tests/test_conformance.py",
        "-k",
        "unknown_patient or put-full-replace or health",
    ]
    env = {BUDGET_ENV: "0", "MEDBLOCKS_CONTRACT_OPERATIONS": "api.health"}
    run = run_suite(selection, env, tmp_path / "reports", stop_at_first=False)
    assert run.returncode == 1, run.output[-2000:]
    summary = run.summary()
    not_run = summary["not_run"]
    assert set(not_run) == {
        "contract_tests/test_errors.py::test_unknown_patient_is_resource_not_found",
        "contract_tests/test_prose.py::test_prose_rule[health-server-time-iso8601]",
        "contract_tests/test_prose.py::test_prose_rule[health-needs-no-key]",
        "contract_tests/test_prose.py::test_prose_rule[put-full-replace]",
        "contract_tests/test_conformance.py::conformance[GET /health]",
    }, not_run
    assert all("time budget of 0s exhausted" in why for why in not_run.values())
    assert summary["root_causes"][-1]["cause"].startswith("the time budget (0 s) ran out: 5")
    report = (run.reports / "contract-report.md").read_text(encoding="utf-8")
    assert "### Did not run" in report.split("- target:", 1)[0]
    assert "did not run:" in run.output and run.output.count("time budget of 0s exhausted") >= 5
