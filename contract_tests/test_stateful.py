"""The stateful phase: sequences chained through the overlay's OpenAPI links (patient create ->
read/update/list/delete; session create -> retrieve; webhook create -> read/update/rotate/
delete), with every check, the stateful ones (use after free, resource availability) included."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings

from contract_tests.harness import DEADLINE_MS, STATEFUL_EXAMPLES, STATEFUL_STEPS
from contract_tests.suite import ContractSuite


def test_stateful_sequences_through_links(contract: ContractSuite) -> None:
    base = contract.schema.as_state_machine()

    class ContractMachine(base):  # type: ignore[misc, valid-type]
        def before_call(self, case: Any) -> None:
            contract.before_call(case, pin_version=True)

        def call(self, case: Any, **kwargs: Any) -> Any:
            return contract.call(case, **kwargs)

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            # As the base class does, plus the extra checks and failures naming their check.
            contract.validate(
                case, response, transport_kwargs=kwargs or None, recorder=self.recorder
            )

    ContractMachine.run(
        settings=settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=STATEFUL_STEPS,
            deadline=DEADLINE_MS,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
