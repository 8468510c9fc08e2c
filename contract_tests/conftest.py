"""Fixtures and hooks of the contract suite: the target (refused for a live key before any
request), the run state, the budget, the final clean-up, the reports and the coverage table."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from contract_tests.cleanup import clean_up
from contract_tests.reports import FILES, TestOutcome, coverage_table, summary, write_reports
from contract_tests.run import RunState, pinned_operations
from contract_tests.session import ContractSession, contract_session
from contract_tests.target import ContractTarget

_OUTCOMES: dict[str, TestOutcome] = {}
_USED: list[ContractSession] = []


@pytest.fixture(scope="session")
def contract() -> ContractSession:
    session = contract_session()
    if session.refused is not None:
        # No traceback: its frames would show the refused key as a local variable.
        pytest.fail(f"{type(session.refused).__name__}: {session.refused}", pytrace=False)
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


@pytest.fixture
def within_budget(state: RunState, request: pytest.FixtureRequest) -> None:
    if state.remaining() <= 0:
        state.budget_exhausted.append(request.node.nodeid)
        pytest.skip(f"time budget of {state.budget_seconds:.0f}s exhausted")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if not report.nodeid.startswith("contract_tests/"):
        return
    # schemathesis items share one node id; the location names the operation.
    nodeid = f"{report.nodeid.split('::')[0]}::{report.location[2]}"
    if report.when == "call" or report.outcome != "passed":
        outcome = report.outcome
        if report.when != "call" and report.outcome == "failed":
            outcome = "error"
        message = report.longreprtext if report.outcome != "passed" else ""
        previous = _OUTCOMES.get(nodeid)
        duration = report.duration + (previous.duration if previous else 0.0)
        if previous is None or previous.outcome == "passed":
            _OUTCOMES[nodeid] = TestOutcome(nodeid, outcome, duration, message)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _USED:
        return
    contract = _USED[0]
    assert contract.target is not None
    with contract.target.client() as client:
        clean_up(client, contract.state)
    conformance = [o for o in _OUTCOMES if o.startswith("contract_tests/test_conformance.py::")]
    if len(conformance) == len(pinned_operations()) and contract.state.unexercised():
        # A full run must reach every operation of the pinned document.
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    secret = (contract.target.api_key,)
    directory = write_reports(contract.state, list(_OUTCOMES.values()), secret)
    leaked = [name for name in FILES if contract.target.api_key in (directory / name).read_text()]
    if leaked:  # belt and braces: the sanitiser must have removed it
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        raise RuntimeError(f"API key found in report files {leaked}; reports must be deleted")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _USED:
        return
    state = _USED[0].state
    data = summary(state, list(_OUTCOMES.values()))
    write = terminalreporter.write_line
    terminalreporter.section("contract coverage: operation x status codes seen")
    for line in coverage_table(data):
        write(line)
    if state.unexercised():
        write(f"operations never exercised: {', '.join(state.unexercised())}")
    write(f"drift headline: {data['drift_headline']}")
    write(f"clean-up: {state.cleaned} deleted, {len(state.cleanup_problems)} left behind")
    for problem in state.cleanup_problems:
        write(f"  not cleaned: {problem}")
    if state.budget_exhausted:
        write(f"time budget exhausted: {len(state.budget_exhausted)} tests skipped")
