"""Fixtures and hooks of the contract suite: the target (named first in the output; a
configuration error stops the run once), the run state, the budget, the prose rules' shared
data, the final clean-up, the reports, and the terminal summary (coverage, failures grouped
by cause, clean-up counts, time per phase)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from contract_tests.cleanup import clean_up
from contract_tests.prose import RuleContext
from contract_tests.reports import (
    FILES,
    TestOutcome,
    cause_lines,
    cleanup_line,
    coverage_table,
    phase_line,
    summary,
    write_reports,
)
from contract_tests.run import RunState, pinned_operations
from contract_tests.session import ContractSession, contract_session
from contract_tests.target import ContractTarget

CONFIGURATION_TEST = "contract_tests/test_configuration.py::test_target_is_usable"
_OUTCOMES: dict[str, TestOutcome] = {}
_USED: list[ContractSession] = []
_CLOCK = {"start": time.monotonic()}


def _in_suite(nodeid: str) -> bool:
    return nodeid.startswith("contract_tests/")


def _outcome_id(nodeid: str, location_name: str) -> str:
    # schemathesis items share one node id; the location names the operation.
    return f"{nodeid.split('::')[0]}::{location_name}"


def target_lines() -> list[str]:
    """What the run is about to test, and where its curl commands will go."""
    contract = contract_session()
    state = contract.state
    if contract.refused is not None:
        return [f"contract target: NONE - configuration error: {state.configuration_error}"]
    lines = [f"contract target: {state.target_label} at {state.base_url}"]
    if contract.target is not None and contract.target.is_in_process:
        lines.append(
            f"contract reproduction: curl commands in the reports use {state.reproduce_url}, "
            "the default address of `python -m medblocks.sandbox` (start it and export "
            "MEDBLOCKS_API_KEY=<the key it prints>)"
        )
    return lines


def pytest_collection_finish(session: pytest.Session) -> None:
    """The target, first thing after collection (also with -q), before any test runs."""
    if not any(_in_suite(item.nodeid) for item in session.items):
        return
    _CLOCK["ready"] = time.monotonic()
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    for line in target_lines() if reporter is not None else []:
        reporter.write_line(line, bold=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On a configuration error only the configuration test runs: one message, one failure."""
    contract = [item for item in items if _in_suite(item.nodeid)]
    if not contract or contract_session().refused is None:
        return
    # The configuration test if selected, else the first contract test (its `contract`
    # fixture fails with the same message).
    kept = next((item for item in contract if item.nodeid == CONFIGURATION_TEST), contract[0])
    dropped = [item for item in contract if item is not kept]
    config.hook.pytest_deselected(items=dropped)
    items[:] = [item for item in items if item not in dropped]


@pytest.fixture(scope="session")
def contract() -> ContractSession:
    session = contract_session()
    if session.refused is not None:  # the one test kept on a configuration error
        pytest.fail(f"configuration error: {session.state.configuration_error}", pytrace=False)
    if not _USED:
        session.state.start_clock()
        _USED.append(session)
    return session


@pytest.fixture(scope="session")
def target(contract: ContractSession) -> ContractTarget:
    assert contract.target is not None
    return contract.target


@pytest.fixture(scope="session")
def state(contract: ContractSession) -> RunState:
    return contract.state


@pytest.fixture(scope="session")
def api(target: ContractTarget) -> Iterator[httpx.Client]:
    """An authenticated client with the pinned `Version` header."""
    with target.client() as client:
        yield client


@pytest.fixture(scope="session")
def rule_context(api: httpx.Client, target: ContractTarget, state: RunState) -> RuleContext:
    """The prose rules' shared data (a connected patient, an endpoint with events), made once."""
    return RuleContext(api, target, state)


@pytest.fixture
def within_budget(state: RunState, request: pytest.FixtureRequest) -> None:
    if state.remaining() <= 0:
        state.budget_exhausted.append(request.node.nodeid)
        pytest.skip(f"time budget of {state.budget_seconds:.0f}s exhausted")


def pytest_runtest_setup(item: pytest.Item) -> None:
    if _in_suite(item.nodeid):
        contract_session().state.current_test = _outcome_id(item.nodeid, item.location[2])


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if not _in_suite(report.nodeid):
        return
    nodeid = _outcome_id(report.nodeid, report.location[2])
    phase = report.nodeid.split("::")[0].removeprefix("contract_tests/test_").removesuffix(".py")
    contract_session().state.phase(phase, report.duration)
    if report.when == "call" or report.outcome != "passed":
        outcome = report.outcome
        if report.when != "call" and report.outcome == "failed":
            outcome = "error"
        if hasattr(report, "wasxfail"):
            outcome = "xfailed"
        message = report.longreprtext if report.outcome != "passed" else ""
        previous = _OUTCOMES.get(nodeid)
        duration = report.duration + (previous.duration if previous else 0.0)
        if previous is None or previous.outcome == "passed":
            _OUTCOMES[nodeid] = TestOutcome(nodeid, outcome, duration, message)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    contract = contract_session.cache_info().currsize and contract_session()
    if not contract or not (_USED or contract.refused is not None):
        return
    state = contract.state
    if contract.target is not None and _USED:
        started = time.monotonic()
        with contract.target.client() as client:
            clean_up(client, state)
        state.phase("clean-up", time.monotonic() - started)
        conformance = [o for o in _OUTCOMES if o.startswith("contract_tests/test_conformance.py::")]
        if len(conformance) == len(pinned_operations()) and state.unexercised():
            # A full run must reach every operation of the pinned document.
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if "ready" in _CLOCK:
        start_up = _CLOCK["ready"] - _CLOCK["start"]
        state.phases = {"start-up (target, drift check, schema)": start_up, **state.phases}
    secret = (contract.target.api_key,) if contract.target is not None else ()
    started = time.monotonic()
    directory = write_reports(state, list(_OUTCOMES.values()), secret)
    state.phase("reports", time.monotonic() - started)
    if contract.target is None:
        return
    leaked = [name for name in FILES if contract.target.api_key in (directory / name).read_text()]
    if leaked:  # belt and braces: the sanitiser must have removed it
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        raise RuntimeError(f"API key found in report files {leaked}; reports must be deleted")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not contract_session.cache_info().currsize:
        return
    contract = contract_session()
    state = contract.state
    write = terminalreporter.write_line
    if contract.refused is not None:
        terminalreporter.section("contract run stopped: configuration error")
        write(str(state.configuration_error))
        return
    if not _USED:
        return
    data = summary(state, list(_OUTCOMES.values()))
    terminalreporter.section("contract coverage: operation x status codes seen")
    write(f"target: {state.target_label} at {state.base_url}")
    for line in coverage_table(data):
        write(line)
    if state.unexercised():
        write(f"operations never exercised: {', '.join(state.unexercised())}")
    write(f"drift headline: {data['drift_headline']}")
    if data["failures"]:
        terminalreporter.section("contract failures by cause (operation, check, status)")
        for line in cause_lines(data):
            write(line)
    for rule_id, why in state.known_gaps.items():
        write(f"known sandbox gap (contract_tests/sandbox_gaps.py): {rule_id}: {why}")
    write(cleanup_line(data))
    for problem in state.cleanup_problems:
        write(f"  not cleaned: {problem}")
    if state.budget_exhausted:
        write(f"time budget exhausted: {len(state.budget_exhausted)} tests skipped")
    write(phase_line(state.phases))
