"""One contract run per process: the target, the run state, the drift check (done first) and
the schemathesis schema the test modules parametrize over."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import schemathesis

from contract_tests.causes import probe
from contract_tests.harness import RunHooks, build_schema, document_with_links
from contract_tests.run import RunState
from contract_tests.target import (
    ContractTarget,
    LiveKeyRefused,
    TargetUnusable,
    identify,
    probe_target,
    select_target,
)
from medblocks.served_spec import SERVED_PATH, check_served_spec
from medblocks.spec.drift import DriftReport

BUDGET_ENV = "MEDBLOCKS_CONTRACT_BUDGET"
OPERATIONS_ENV = "MEDBLOCKS_CONTRACT_OPERATIONS"  # comma-separated operationIds
# Time for the tests (start-up, clean-up and reports come on top): enough for every check at
# a hosted API's latency and rate limit, with fuzzing sized to what is left.
DEFAULT_BUDGET_SECONDS = 210.0


@dataclass
class ContractSuite:
    """`refused` is set (and `target` None) when the configuration must not be fuzzed."""

    schema: Any
    state: RunState
    target: ContractTarget | None = None
    hooks: RunHooks | None = None
    refused: Exception | None = None

    def before_call(self, case: Any, *, pin_version: bool = False) -> None:
        assert self.hooks is not None
        self.hooks.before_call(case, pin_version=pin_version)

    def call(self, case: Any, **kwargs: Any) -> Any:
        assert self.hooks is not None
        return self.hooks.call(case, lambda: case.call(**kwargs))

    def validate(self, case: Any, response: Any, **kwargs: Any) -> None:
        __tracebackhide__ = True
        assert self.hooks is not None
        self.hooks.validate(case, response, **kwargs)


@lru_cache(maxsize=1)
def contract_suite() -> ContractSuite:
    budget = float(os.environ.get(BUDGET_ENV) or DEFAULT_BUDGET_SECONDS)
    try:
        target = select_target()
        probe_target(target)
        identify(target)
    except (LiveKeyRefused, TargetUnusable, ValueError) as exc:
        # A live or malformed key (refused before any client exists), an unreachable target
        # or a refused key: the run stops once with this message (see conftest.py).
        exc.__traceback__ = None
        schema = schemathesis.openapi.from_dict(document_with_links())
        configured = os.environ.get("MEDBLOCKS_API_URL", "")
        state = RunState(target_label="not run", base_url=configured, budget_seconds=budget)
        state.configuration_error = f"{type(exc).__name__}: {exc}"
        return ContractSuite(schema=schema, state=state, refused=exc)
    state = RunState(
        target_label=target.label,
        base_url=target.base_url,
        budget_seconds=budget,
        reproduce_url=target.reproduce_url,
        api_key=target.api_key,
    )
    state.drift = check_drift(target)
    state.faults = target.faults_active
    probe(target, state)
    hooks = RunHooks(target, state)
    only = [op.strip() for op in os.environ.get(OPERATIONS_ENV, "").split(",") if op.strip()]
    return ContractSuite(
        schema=build_schema(target, hooks, only), state=state, target=target, hooks=hooks
    )


def check_drift(target: ContractTarget) -> DriftReport:
    """The pinned document against the one the target serves (the suite's first request)."""
    with target.client(authenticated=False, version=False) as client:
        return check_served_spec(client, target.base_url + SERVED_PATH)
