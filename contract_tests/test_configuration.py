"""The run's first test: the configured target can be tested at all. On a configuration error
(a live or malformed key, an unreachable target, a refused key) it is the only test that runs,
and it fails with that one message (see `conftest.pytest_collection_modifyitems`)."""

from __future__ import annotations

from contract_tests.session import ContractSession


def test_target_is_usable(contract: ContractSession) -> None:
    assert contract.target is not None and contract.refused is None
