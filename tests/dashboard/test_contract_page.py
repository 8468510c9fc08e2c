"""The Contract & drift page through AppTest: progress while a run goes, the new run replacing the
old view when it ends, the rules, clean-up and drift as tables, operations never answered 2xx."""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from medblocks.dashboard import contract_runs
from tests.dashboard.apptest import open_app_page
from tests.dashboard.contract_fixtures import summary, waits_for, write_reports


@pytest.fixture(autouse=True)
def reports(app_environment: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("MEDBLOCKS_REPORTS_DIR", str(tmp_path / "reports"))
    return tmp_path / "reports"


def meet(fifo: Path, timeout: float = 60) -> None:
    """Open the FIFO for reading: returns once the child has opened it for writing."""
    reader = threading.Thread(target=lambda: fifo.open().close(), daemon=True)
    reader.start()
    reader.join(timeout)
    assert not reader.is_alive(), "the child never got that far"


def open_contract_page() -> AppTest:
    return open_app_page("ui_pages/contract.py")


def test_the_newest_run_is_shown_with_its_rules_cleanup_drift_and_unanswered_operations(
    reports: Path,
) -> None:
    write_reports(reports, summary("2026-11-28T10:00:00+00:00", passed=3), {"changes": []})
    change = {"level": "breaking", "rule": "api-path-removed", "location": "/x", "message": "m"}
    run_dir = reports / "runs" / "20261129T100000-000001"
    write_reports(
        run_dir,
        summary("2026-11-29T10:01:00+00:00"),
        {"headline": "breaking-drift", "compared": "pinned vs served", "changes": [change]},
    )
    contract_runs.RunRecord(
        run_dir.name, run_dir, "t", "u", "2026-11-29T10:00:00+00:00", ["c"], [1, 0], "2026-11-29"
    ).save()
    at = open_contract_page()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Passed"] == "80" and metrics["Left behind"] == "10"
    frames = [d.value for d in at.dataframe]
    failures, rules, _not_checkable, coverage, cleanup, drift, last_runs = frames
    assert failures["count"].tolist() == [4]
    assert rules["result"].tolist() == ["passed"]
    assert coverage["answered 2xx"].tolist() == [True, False, False]
    assert cleanup["left behind"].tolist() == [10]
    assert drift["rule"].tolist() == ["api-path-removed"]
    assert last_runs["passed"].tolist() == [80, 3]
    [warning] = [w.value for w in at.warning]
    assert warning.endswith("api.getLaunchContext, api.x")
    assert not [c for c in at.get("json")]  # no raw JSON anywhere


def test_progress_while_a_run_goes_then_its_results_replace_the_old_view(
    reports: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    write_reports(reports, summary("2026-11-28T10:00:00+00:00", passed=3), {"changes": []})
    release, started = tmp_path / "release", tmp_path / "started"
    os.mkfifo(started)
    finished = summary("2099-01-01T00:00:00+00:00", passed=7)
    write_new_summary = (
        "d = pathlib.Path(os.environ['MEDBLOCKS_REPORTS_DIR'])\n"
        f"(d / 'contract-summary.json').write_text({json.dumps(finished)!r})\n"
        '(d / \'drift.json\').write_text(\'{"headline": "in-sync", "changes": []}\')'
    )
    monkeypatch.setattr(
        contract_runs,
        "harness_commands",
        lambda: [
            waits_for(release, then=write_new_summary, started=started),
            [sys.executable, "-c", "0"],
        ],
    )
    at = open_contract_page()
    assert {m.label: m.value for m in at.metric}["Passed"] == "3"
    at.button(key="run_contract").click().run()
    running = contract_runs.running_run()
    assert running is not None
    try:
        meet(started)  # the child has printed its progress line
        at.run()
        [bar] = at.get("progress")
        assert "40% of the tests done" in bar.proto.text
        assert at.button(key="run_contract").disabled
    finally:
        release.touch()
    assert contract_runs.StartedRun(running, contract_runs._threads[running.id]).join(60).finished
    at.run()
    assert not at.get("progress")
    assert {m.label: m.value for m in at.metric}["Passed"] == "7"
    assert at.dataframe[-1].value["passed"].tolist() == [7, 3]


def test_root_causes_and_what_did_not_run_come_before_the_results(reports: Path) -> None:
    causes = [
        {"cause": "faults are on at the target (latency_ms 100; its /_sandbox/faults control)"}
        | {"checks": 43},
        {"cause": "nothing created can be read back: the server keeps no state", "checks": 18},
    ]
    not_run = {"contract_tests/test_stateful.py::test_stateful_sequences_through_links": "budget"}
    write_reports(
        reports,
        summary("2026-11-28T10:00:00+00:00", root_causes=causes, not_run=not_run),
        {"changes": []},
    )
    at = open_contract_page()
    assert not at.exception
    warnings = [w.value for w in at.warning]
    assert warnings[:2] == [
        "faults are on at the target (latency_ms 100; its /_sandbox/faults control) (43 checks)",
        "nothing created can be read back: the server keeps no state (18 checks)",
    ]
    assert at.error[0].value == "1 checks did not run: this run is not green."
    assert at.dataframe[0].value["why"].tolist() == ["budget"]
