"""Runs of the harness in the background (own directory, progress, exit codes, key scrubbed),
and the report's tables."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

from medblocks.dashboard import contract_runs
from medblocks.dashboard.target import Target
from tests.dashboard.contract_fixtures import summary, waits_for, write_reports

KEY = "mb_sk_sbx_" + "s" * 26


def target(kind: str) -> Target:
    return Target(kind, "http://127.0.0.1:1", "2026-04-25", kind != "live", KEY)


def test_a_run_has_its_own_directory_progress_and_exit_codes(tmp_path: Path) -> None:
    echo = (
        "import os; print(os.environ['MEDBLOCKS_API_KEY'], os.environ['MEDBLOCKS_API_URL']); "
        "print(os.environ['MEDBLOCKS_REPORTS_DIR']); "
        """print('{"name": "Jane Doe", "email": "jane@example.com"}'); print('.. [100%]')"""
    )
    commands = [[sys.executable, "-c", echo], [sys.executable, "-c", "raise SystemExit(3)"]]
    started = contract_runs.start_run(target("sandbox"), directory=tmp_path, commands=commands)
    record = started.join(60)
    assert record.finished and record.exit_codes == [0, 3] and record.state == "failed"
    assert record.directory.parent == tmp_path / "runs"
    log = contract_runs.read_log(record, (KEY,))
    assert KEY not in log and "Jane" not in log and "jane@" not in log
    own = record.base_url  # a sandbox of its own, never the target the ops pages show
    assert record.target == contract_runs.OWN_SANDBOX and own != "http://127.0.0.1:1"
    assert f"[api-key] {own}" in log
    with pytest.raises(httpx.TransportError):  # stopped with the run
        httpx.get(f"{own}/health", timeout=5)
    assert str(record.directory.resolve()) in log  # the child writes its reports there
    assert "$ -c raise SystemExit(3)" in log  # each command announced as typed
    last = contract_runs.progress(record, (KEY,))
    assert last.command == "-c raise SystemExit(3)" and last.percent is None  # its own, not [100%]
    assert contract_runs.runs(tmp_path) == [record]


def test_one_run_at_a_time_and_never_with_a_live_key(tmp_path: Path) -> None:
    with pytest.raises(PermissionError):
        contract_runs.start_run(target("live"), directory=tmp_path)
    release = tmp_path / "release"
    started = contract_runs.start_run(
        target("sandbox"), directory=tmp_path, commands=[waits_for(release)]
    )
    try:
        assert contract_runs.running_run(tmp_path) == started.record
        write_reports(started.record.directory, summary("2026-11-29T00:00:00+00:00"), {})
        assert contract_runs.report_sets(tmp_path) == []  # not before it has ended
        with pytest.raises(RuntimeError, match="already going"):
            contract_runs.start_run(target("sandbox"), directory=tmp_path)
    finally:
        release.touch()
    assert started.join(60).state == "passed"
    assert [s.run for s in contract_runs.report_sets(tmp_path)] == [started.join(0)]
    assert contract_runs.running_run(tmp_path) is None


def test_a_run_left_unfinished_by_a_restart_is_named(tmp_path: Path) -> None:
    directory = tmp_path / "runs" / "20261129T000000-abcdef"
    directory.mkdir(parents=True)
    contract_runs.RunRecord(
        "20261129T000000-abcdef", directory, "t", "u", "2026-11-29T00:00:00+00:00", ["x"]
    ).save()
    [record] = contract_runs.runs(tmp_path)
    assert not record.running and record.state.startswith("interrupted")


def test_report_sets_are_newest_first_and_read_as_tables(tmp_path: Path) -> None:
    write_reports(tmp_path, summary("2026-11-28T10:00:00+00:00", passed=1), {"changes": []})
    run_dir = tmp_path / "runs" / "20261129T100000-000001"
    change = {"level": "breaking", "rule": "api-path-removed", "location": "/x", "message": "m"}
    write_reports(run_dir, summary("2026-11-29T10:01:00+00:00"), {"changes": [change]})
    contract_runs.RunRecord(
        "20261129T100000-000001", run_dir, "t", "u", "2026-11-29T10:00:00+00:00", ["c"], [0, 0]
    ).save()

    newest, older = contract_runs.report_sets(tmp_path)
    assert newest.run is not None and newest.summary["passed"] == 80
    assert older.run is None and older.label.startswith("command line")
    assert contract_runs.runs_frame([newest, older])["passed"].tolist() == [80, 1]

    data = newest.summary
    failures = contract_runs.failures_frame(data)
    assert failures[["count", "status", "request_id"]].values.tolist() == [[4, 503, "r"]]
    assert contract_runs.rules_frame(data).values.tolist() == [
        ["put-full-replace", "§4", "PUT replaces", "passed"]
    ]
    assert contract_runs.never_2xx(data) == ["api.getLaunchContext", "api.x"]
    assert contract_runs.cleanup_frame(data).values.tolist() == [["webhook events", 12, 2, 10]]
    assert contract_runs.drift_frame(newest.drift).values.tolist() == [list(change.values())]
    assert contract_runs.phases_text(data).endswith("(total 21.5 s)")


def test_missing_reports_are_empty_and_broken_ones_are_named(tmp_path: Path) -> None:
    assert contract_runs.report_sets(tmp_path) == []
    (tmp_path / "contract-summary.json").write_text("{oops")
    with pytest.raises(ValueError, match=r"contract-summary\.json is not valid JSON"):
        contract_runs.report_sets(tmp_path)
