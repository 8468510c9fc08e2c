"""The run's first check: the configured target can be tested at all. On a configuration error
(a live or malformed key, an unreachable target, a refused key) it is the only test that runs,
and it fails with that one message (see `conftest.pytest_collection_modifyitems`)."""

from __future__ import annotations

import pytest

from contract_tests.suite import contract_suite


def test_target_is_usable() -> None:
    contract = contract_suite()
    if contract.refused is not None:
        # No traceback: its frames would show the refused key as a local variable.
        pytest.fail(
            f"configuration error, the contract run stopped: {contract.state.configuration_error}",
            pytrace=False,
        )
    assert contract.target is not None
