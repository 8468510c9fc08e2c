"""Fixtures and hooks of the contract suite: the target (named first in the output; a
configuration error stops the run once), the run state, the budget, the prose rules' shared
data, the final clean-up, the reports, and the terminal summary (coverage, failures grouped
by cause, clean-up counts, time per phase)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from _pytest.junitxml import xml_key
from _pytest.nodeid import coerce_node_id

from contract_tests.calls import skip_for_time
from contract_tests.causes import cause_text, root_causes
from contract_tests.cleanup import clean_up
from contract_tests.prose import RuleContext, run_rules
from contract_tests.reports import (
    FILES,
    PROSE_TEST,
    TestOutcome,
    cause_lines,
    cleanup_line,
    coverage_table,
    phase_line,
    root_cause_lines,
    summary,
    write_reports,
)
from contract_tests.run import RunState, pinned_operations
from contract_tests.suite import ContractSuite, contract_suite
from contract_tests.target import ContractTarget

CONFIGURATION_TEST = "contract_tests/test_configuration.py::test_target_is_usable"
_OUTCOMES: dict[str, TestOutcome] = {}
_USED: list[ContractSuite] = []
_CLOCK = {"start": time.monotonic()}


def _in_suite(nodeid: str) -> bool:
    return nodeid.startswith("contract_tests/")


# The order of a run: what catches drift in the docs' promises first (the served document,
# the documented errors, the prose rules, behaviour), then the stateful run, and open-ended
# fuzzing last, sized to the budget left (`fuzzing_window`).
ORDER = (
    "test_configuration.py",
    "test_served_spec.py",
    "test_errors.py",
    "test_prose.py",
    "test_behaviour.py",
    "test_stateful.py",
    "test_conformance.py",
)
CONFORMANCE = "contract_tests/test_conformance.py"


def _rank(item: pytest.Item) -> int:
    module = item.nodeid.split("::")[0].rsplit("/", 1)[-1]
    return ORDER.index(module) if module in ORDER else len(ORDER) - 1


def _name_conformance_items(items: list[pytest.Item]) -> None:
    """schemathesis gives every operation's test one node id (`test_operation_conforms`): each
    gets its own, `conformance[GET /patients/{id}]`, so JUnit, `-v` and pytest's progress
    count them apart."""
    for item in items:
        label = getattr(item, "operation_label", None)
        if item.nodeid.startswith(CONFORMANCE) and label:
            item._id = coerce_node_id(f"{CONFORMANCE}::conformance[{label}]")


def target_lines() -> list[str]:
    """What the run is about to test, and where its curl commands will go."""
    contract = contract_suite()
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
    contract_suite().state.fuzzing_left = sum(
        item.nodeid.startswith(CONFORMANCE) for item in session.items
    )
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    for line in target_lines() if reporter is not None else []:
        reporter.write_line(line, bold=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The suite's order (drift-catching checks first); on a configuration error only the
    configuration test runs: one message, one failure."""
    contract = [item for item in items if _in_suite(item.nodeid)]
    if not contract:
        return
    _name_conformance_items(contract)
    ordered = iter(sorted(contract, key=_rank))
    items[:] = [next(ordered) if _in_suite(item.nodeid) else item for item in items]
    if contract_suite().refused is None:
        return
    # The configuration test if selected, else the first contract test (its `contract`
    # fixture fails with the same message).
    kept = next((item for item in contract if item.nodeid == CONFIGURATION_TEST), contract[0])
    dropped = [item for item in contract if item is not kept]
    config.hook.pytest_deselected(items=dropped)
    items[:] = [item for item in items if item not in dropped]


@pytest.fixture(scope="session")
def contract() -> ContractSuite:
    session = contract_suite()
    if session.refused is not None:  # the one test kept on a configuration error
        pytest.fail(f"configuration error: {session.state.configuration_error}", pytrace=False)
    if not _USED:
        session.state.start_clock()
        _USED.append(session)
    return session


@pytest.fixture(scope="session")
def target(contract: ContractSuite) -> ContractTarget:
    assert contract.target is not None
    return contract.target


@pytest.fixture(scope="session")
def state(contract: ContractSuite) -> RunState:
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


# Tests that send their own requests and start only within the budget (the prose rules are
# budgeted in their pool; the configuration and the drift check ran at start-up).
BUDGETED = ("test_errors.py", "test_behaviour.py", "test_stateful.py", "test_conformance.py")


@pytest.fixture(autouse=True)
def within_budget(request: pytest.FixtureRequest) -> None:
    module = request.node.nodeid.split("::")[0].rsplit("/", 1)[-1]
    if module not in BUDGETED:
        return
    state = request.getfixturevalue("state")
    if state.remaining() <= 0:
        skip_for_time(state, request.node.nodeid)


@dataclass
class FuzzingWindow:
    """One operation's share of the budget left: cases generated after `closes` (a monotonic
    time) are not sent, except the first, so that every operation is reached."""

    closes: float
    sent: int = 0

    def open(self) -> bool:
        return not self.sent or time.monotonic() <= self.closes


@pytest.fixture
def fuzzing_window(state: RunState) -> FuzzingWindow:
    """Each conformance test gets an equal share of the budget left, so fuzzing fits in what
    the earlier phases left."""
    share = state.remaining() / max(state.fuzzing_left, 1)
    state.fuzzing_left = max(state.fuzzing_left - 1, 0)
    return FuzzingWindow(time.monotonic() + share)


@pytest.fixture(scope="session")
def prose_outcomes(
    rule_context: RuleContext, request: pytest.FixtureRequest
) -> dict[str, BaseException | None]:
    """Every selected prose rule, run at once in a bounded pool (`prose.run_rules`)."""
    selected = [
        item.callspec.params["prose_rule"]
        for item in request.session.items
        if hasattr(item, "callspec") and "prose_rule" in item.callspec.params
    ]
    return run_rules(selected, rule_context, PROSE_TEST)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if _in_suite(item.nodeid):
        contract_suite().state.current_test = item.nodeid


def pytest_runtest_teardown(item: pytest.Item) -> None:
    # Hypothesis would add its statistics to a `--junitxml` file as one base64 property per
    # test (29 KB of 42 KB): the file is for people and CI tools, so they stay out.
    if _in_suite(item.nodeid) and hasattr(item, "hypothesis_statistics"):
        del item.hypothesis_statistics


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if not _in_suite(report.nodeid):
        return
    nodeid = report.nodeid
    phase = report.nodeid.split("::")[0].removeprefix("contract_tests/test_").removesuffix(".py")
    contract_suite().state.phase(phase, report.duration)
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


@pytest.hookimpl(tryfirst=True)  # before `--junitxml` writes its file (root causes go in it)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    contract = contract_suite.cache_info().currsize and contract_suite()
    if not contract or not (_USED or contract.refused is not None):
        return
    state = contract.state
    if contract.target is not None:
        state.throttled, state.waited = (
            contract.target.pacer.throttled,
            contract.target.pacer.waited,
        )
    if contract.target is not None and _USED:
        started = time.monotonic()
        with contract.target.client() as client:
            clean_up(client, state)
        state.phase("clean-up", time.monotonic() - started)
        conformance = [o for o in _OUTCOMES if o.startswith(CONFORMANCE)]
        if len(conformance) == len(pinned_operations()) and state.unexercised():
            # A full run must reach every operation of the pinned document.
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if state.not_run:  # a check it meant to run did not: not green
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if "ready" in _CLOCK:
        start_up = _CLOCK["ready"] - _CLOCK["start"]
        state.phases = {"start-up (target, drift check, schema)": start_up, **state.phases}
    secret = (contract.target.api_key,) if contract.target is not None else ()
    started = time.monotonic()
    directory = write_reports(state, list(_OUTCOMES.values()), secret)
    state.phase("reports", time.monotonic() - started)
    _causes_into_junitxml(session.config, state)
    if contract.target is None:
        return
    leaked = [name for name in FILES if contract.target.api_key in (directory / name).read_text()]
    if leaked:  # belt and braces: the sanitiser must have removed it
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        raise RuntimeError(f"API key found in report files {leaked}; reports must be deleted")


def _causes_into_junitxml(config: pytest.Config, state: RunState) -> None:
    """With `--junitxml`, the root causes head the file as properties (pytest writes them
    before the test cases)."""
    xml = config.stash.get(xml_key, None)
    if xml is None:
        return
    for cause in root_causes(state, list(_OUTCOMES.values())):
        xml.add_global_property("root-cause", cause_text(cause))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter: Any) -> Iterator[None]:
    """The root causes come first, before pytest's list of failures; the rest after it."""
    contract = contract_suite() if contract_suite.cache_info().currsize else None
    if contract is not None and contract.refused is None and _USED:
        causes = root_cause_lines(summary(contract.state, list(_OUTCOMES.values())))
        if causes:
            terminalreporter.section("contract run: root causes (each explains many results)")
            for line in causes:
                terminalreporter.write_line(line)
    yield
    if contract is not None:
        _summary_after_failures(terminalreporter, contract)


def _summary_after_failures(terminalreporter: Any, contract: ContractSuite) -> None:
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
    if state.fuzzing_cut:
        cut = sum(state.fuzzing_cut.values())
        write(f"fuzzing sized to the budget: {cut} generated cases not sent")
    write(phase_line(state.phases))
