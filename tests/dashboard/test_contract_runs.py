"""Reading the harness's reports and running it as a subprocess, key scrubbed from its output."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from medblocks.dashboard import contract_runs
from medblocks.dashboard.target import Target

KEY = "mb_sk_sbx_" + "s" * 26


def target(kind: str) -> Target:
    return Target(kind, "http://127.0.0.1:1", "2026-04-25", kind != "live", KEY)


def test_missing_reports_are_none_and_broken_ones_are_named(tmp_path: Path) -> None:
    assert contract_runs.latest_summary(tmp_path) is None
    (tmp_path / "contract-summary.json").write_text("{oops")
    with pytest.raises(ValueError, match=r"contract-summary\.json is not valid JSON"):
        contract_runs.latest_summary(tmp_path)


def test_the_harness_never_runs_with_a_live_key() -> None:
    with pytest.raises(PermissionError):
        contract_runs.run_harness(target("live"))


def test_the_child_gets_the_target_and_its_output_never_shows_the_key_or_phi(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    echo = (
        "import os; print(os.environ['MEDBLOCKS_API_KEY'], os.environ['MEDBLOCKS_API_URL']); "
        """print('{"name": "Jane Doe", "email": "jane@example.com"}')"""
    )
    monkeypatch.setattr(contract_runs, "harness_commands", lambda: [[sys.executable, "-c", echo]])
    [result] = contract_runs.run_harness(target("sandbox"))
    assert result.returncode == 0
    assert result.output.splitlines() == [
        "[api-key] http://127.0.0.1:1",
        '{"name": "[redacted]", "email": "[redacted]"}',
    ]


def test_summary_tables_name_each_failure_and_the_codes_seen() -> None:
    summary = {
        "failures": [
            {"operation": "api.getPatient", "check": "c", "message": "m", "request_id": "r1"}
        ],
        "coverage": {"api.getPatient": [200, 404], "api.health": [200]},
    }
    failures = contract_runs.failures_frame(summary)
    assert failures.to_dict("records") == summary["failures"]
    assert contract_runs.coverage_frame(summary).to_dict("records") == [
        {"operation": "api.getPatient", "codes": "200, 404"},
        {"operation": "api.health", "codes": "200"},
    ]
    empty = contract_runs.failures_frame({"failures": None})
    assert empty.empty and list(empty.columns) == contract_runs.FAILURE_COLUMNS
