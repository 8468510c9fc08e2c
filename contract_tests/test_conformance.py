"""Every operation of the pinned document, every check, the examples, coverage and fuzzing
phases (positive and negative data), with the checks the schema cannot express added.

These run last, each in its share of the budget the earlier phases left (`fuzzing_window`):
a case generated after the share is spent is not sent (the first always is), and the report
counts them.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings

from contract_tests.harness import DEADLINE_MS, operation_id
from contract_tests.suite import ContractSuite, contract_suite

schema = contract_suite().schema


@schema.parametrize()
@settings(deadline=DEADLINE_MS, suppress_health_check=list(HealthCheck))
def test_operation_conforms(case: Any, contract: ContractSuite, fuzzing_window: Any) -> None:
    if not fuzzing_window.open():
        contract.state.cut_fuzzing(operation_id(case))
        return
    fuzzing_window.sent += 1
    contract.before_call(case)
    response = contract.call(case)
    contract.validate(case, response)
