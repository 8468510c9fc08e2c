"""Every operation of the pinned document, every check, the examples, coverage and fuzzing
phases (positive and negative data), with the checks the schema cannot express added."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings

from contract_tests.harness import DEADLINE_MS
from contract_tests.session import ContractSession, contract_session

schema = contract_session().schema


@schema.parametrize()
@settings(deadline=DEADLINE_MS, suppress_health_check=list(HealthCheck))
def test_operation_conforms(case: Any, contract: ContractSession, within_budget: None) -> None:
    contract.before_call(case)
    response = case.call()
    contract.validate(case, response)
