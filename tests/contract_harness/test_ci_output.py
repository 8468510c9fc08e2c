"""What a CI user sees from a contract run: the target named first; failures grouped by cause;
a JUnit failure whose message is the check's reason with the request id and whose text holds
a curl command that runs as printed (run here against `python -m medblocks.sandbox` on a free
port); only contract tests in the JUnit; time per phase; the prose rules table; and a
configuration error that stops the run once, with one message and a report saying why."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from contract_tests.prose import NOT_CHECKABLE, RULES
from contract_tests.reports import failure_causes
from contract_tests.run import Failure
from contract_tests.subprocess_run import ROOT, ChildRun, run_suite
from contract_tests.target import BREAK_ENV, sandbox_default_url
from tests.local_servers import free_port, wait_answering

KEY = "mb_sk_sbx_01CIOUTPUTKEY00000000000000"
BROKEN_RULE = "catalog-search-case-insensitive"
CONTRACT_MODULES = {
    "conftest.py",
    "test_behaviour.py",
    "test_configuration.py",
    "test_conformance.py",
    "test_errors.py",
    "test_prose.py",
    "test_served_spec.py",
    "test_stateful.py",
}


@pytest.fixture(scope="module")
def broken_run(tmp_path_factory: pytest.TempPathFactory) -> ChildRun:
    """One failing run: three rules against a sandbox whose catalog `q` is case-sensitive (the
    second fails and, with `-x`, the third does not run)."""
    return run_suite(
        ["contract_tests/test_prose.py", "-k", "patients-filter or catalog"],
        {BREAK_ENV: BROKEN_RULE},
        tmp_path_factory.mktemp("ci") / "reports",
    )


@pytest.fixture(scope="module")
def served_sandbox() -> Iterator[str]:
    """`python -m medblocks.sandbox` on a free port, with a known key."""
    port = free_port()
    env = {**os.environ, "MEDBLOCKS_SANDBOX_API_KEY": KEY, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "medblocks.sandbox", "--memory", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_answering(process, f"{base_url}/openapi/medblocks.json", what="the sandbox")
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=10)


def junit_cases(run: ChildRun) -> list[ET.Element]:
    text = (run.reports / "contract-junit.xml").read_text(encoding="utf-8")
    return ET.fromstring(text.split("?>", 1)[1]).findall("testcase")


def test_the_target_is_named_first(broken_run: ChildRun) -> None:
    first = broken_run.output.splitlines()[:2]
    assert first[0] == "contract target: in-process sandbox, deliberately broken: " + (
        f"{BROKEN_RULE} at http://in-process.invalid"
    )
    assert sandbox_default_url() in first[1] and "python -m medblocks.sandbox" in first[1]


def test_junit_message_is_the_reason_with_the_request_id(broken_run: ChildRun) -> None:
    assert broken_run.returncode == 1, broken_run.output[-2000:]
    cases = junit_cases(broken_run)
    assert {c.get("classname") for c in cases} == {"contract_tests.test_prose"}
    failed = [c for c in cases if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == [f"test_prose_rule[{BROKEN_RULE}]"]
    failure = failed[0].find("failure")
    assert failure is not None
    message = failure.get("message", "")
    assert re.fullmatch(
        rf"api\.listFhirSources: rule:{BROKEN_RULE}: .+ \(request id [0-9a-f-]{{36}}\)", message
    ), message
    assert "httpx.Client object" not in message and "\n" not in message


def test_junit_curl_runs_as_printed_against_a_served_sandbox(
    broken_run: ChildRun, served_sandbox: str
) -> None:
    failure = next(
        c.find("failure") for c in junit_cases(broken_run) if c.find("failure") is not None
    )
    assert failure is not None and failure.text
    curl = next(line for line in failure.text.splitlines() if line.startswith("reproduce: "))
    command = curl.removeprefix("reproduce: ")
    assert command.startswith(
        f"curl --silent --show-error --include --request GET '{sandbox_default_url()}/connections?"
    )
    assert "$MEDBLOCKS_API_KEY" in command and KEY not in command
    # The same command, only the port changed: tests never bind the default port.
    runnable = command.replace(sandbox_default_url(), served_sandbox)
    done = subprocess.run(
        ["bash", "-c", runnable],
        env={**os.environ, "MEDBLOCKS_API_KEY": KEY},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    head, body = done.stdout.split("\n\n", 1)  # text mode: curl's CRLFs read as LFs
    status_line, *headers = head.splitlines()
    cause = broken_run.summary()["failures"][0]
    assert status_line.split()[1] == str(cause["status"]) == "200", done.stdout[:500]
    assert any(h.lower().startswith("x-request-id:") for h in headers)
    q = re.search(r"q=([^&']+)", command)
    assert q is not None
    sources = json.loads(body)["data"]
    # The real sandbox answers the case-insensitive search the broken one did not.
    assert sources and all(q.group(1).lower() in s["name"].lower() for s in sources)
    assert shlex.split(runnable)[0] == "curl"


def test_failures_are_grouped_by_cause_in_every_report(broken_run: ChildRun) -> None:
    summary = broken_run.summary()
    causes = summary["failures"]
    assert [(c["operation"], c["check"], c["status"], c["count"]) for c in causes] == [
        ("api.listFhirSources", f"rule:{BROKEN_RULE}", 200, 1)
    ]
    report = (broken_run.reports / "contract-report.md").read_text(encoding="utf-8")
    assert report.count(f"`rule:{BROKEN_RULE}` / HTTP 200") == 1
    assert "1x api.listFhirSources / rule:" in broken_run.output


def test_one_cause_seen_many_times_is_one_entry_with_its_count() -> None:
    failures = [
        Failure("api.createPatient", "response_schema_conformance", f"m{n}", f"r{n}", 200)
        for n in range(7)
    ] + [Failure("api.createPatient", "response_schema_conformance", "other", "r9", 409)]
    causes = failure_causes(failures)
    assert [(c["status"], c["count"], c["request_id"]) for c in causes] == [
        (200, 7, "r0"),
        (409, 1, "r9"),
    ]


def test_rules_table_and_time_per_phase(broken_run: ChildRun) -> None:
    summary = broken_run.summary()
    rows = {r["rule"]: r["result"] for r in summary["rules"]}
    assert set(rows) == set(RULES)
    assert rows["patients-filter-exact"] == "passed" and rows[BROKEN_RULE] == "failed"
    assert rows["catalog-type-filter"] == rows["put-full-replace"] == "not run"
    assert len(summary["rules_not_checkable"]) == len(NOT_CHECKABLE)
    report = (broken_run.reports / "contract-report.md").read_text(encoding="utf-8")
    assert "| rule | check | result |" in report and "Not checkable from outside:" in report
    assert set(summary["phases"]) >= {"start-up (target, drift check, schema)", "prose"}
    assert re.search(
        r"^time per phase: .*prose \d+\.\ds.*\(total \d+\.\ds\)$", broken_run.output, re.M
    )


def test_the_contract_directory_holds_contract_tests_only() -> None:
    modules = {
        p.name
        for p in (ROOT / "contract_tests").glob("*.py")
        if p.name.startswith(("test_", "conftest"))
    }
    assert modules == CONTRACT_MODULES


@pytest.mark.parametrize(
    ("environment", "reason"),
    [
        (
            {"MEDBLOCKS_API_KEY": "abc", "MEDBLOCKS_API_URL": "http://127.0.0.1:9"},
            "MEDBLOCKS_API_KEY must start with mb_sk_sbx_",
        ),
        (
            {"MEDBLOCKS_API_KEY": KEY, "MEDBLOCKS_API_URL": "http://127.0.0.1:{port}"},
            "cannot reach the target http://127.0.0.1:",
        ),
    ],
    ids=["malformed-key", "unreachable-target"],
)
def test_a_configuration_error_stops_the_run_once(
    environment: dict[str, str], reason: str, tmp_path: Path
) -> None:
    env = {k: v.format(port=free_port()) for k, v in environment.items()}
    run = run_suite(["contract_tests"], env, tmp_path / "reports")
    assert run.returncode == 1, run.output[-2000:]
    assert run.output.splitlines()[0].startswith("contract target: NONE - configuration error")
    outcome = run.output.strip().splitlines()[-1]
    assert re.fullmatch(r"(\d+ deselected, )?1 (failed|error)(, \d+ deselected)? in .*", outcome)
    assert run.output.count(reason) <= 3  # the target line, the one failure, the summary
    summary = run.summary()
    assert reason in summary["configuration_error"]
    assert summary["failed"] == 1 and summary["passed"] == 0
    report = (run.reports / "contract-report.md").read_text(encoding="utf-8")
    assert "The run stopped before any contract test: configuration error." in report
    assert reason in report
    cases = junit_cases(run)
    assert [c.get("name") for c in cases] == ["test_target_is_usable"]


def test_a_key_the_target_refuses_stops_the_run_once(served_sandbox: str, tmp_path: Path) -> None:
    wrong = "mb_sk_sbx_" + "0" * 26
    env = {"MEDBLOCKS_API_KEY": wrong, "MEDBLOCKS_API_URL": served_sandbox}
    run = run_suite(["contract_tests"], env, tmp_path / "reports")
    assert run.returncode == 1, run.output[-2000:]
    error = run.summary()["configuration_error"]
    assert error.startswith(f"TargetUnusable: the target {served_sandbox} refused")
    assert "HTTP 401 invalid_api_key, request id " in error and wrong not in run.output
    assert [c.get("name") for c in junit_cases(run)] == ["test_target_is_usable"]
