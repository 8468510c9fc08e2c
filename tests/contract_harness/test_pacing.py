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
from contract_tests.session import BUDGET_ENV
from contract_tests.subprocess_run import run_suite
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


def test_time_budget_skips_the_rest_and_reports_it(tmp_path: Path) -> None:
    run = run_suite(
        ["contract_tests/test_conformance.py"],
        {BUDGET_ENV: "0", "MEDBLOCKS_CONTRACT_OPERATIONS": "api.health,api.listPatients"},
        tmp_path / "reports",
    )
    assert run.returncode == 0, run.output[-2000:]
    assert "time budget of 0s exhausted" in run.output
    summary = run.summary()
    assert summary["skipped"] == 2 and len(summary["budget_exhausted"]) == 2
