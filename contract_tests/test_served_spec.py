"""The drift check the run made first: the pinned document against the one the target serves
at `/openapi/medblocks.json` (the result is in every report as the drift headline)."""

from __future__ import annotations

from contract_tests.suite import ContractSuite


def test_served_document_has_not_drifted_in_a_breaking_way(contract: ContractSuite) -> None:
    drift = contract.state.drift
    assert drift is not None
    breaking = [
        f"{c.rule} at {c.location}: {c.message}" for c in drift.changes if c.level == "breaking"
    ]
    assert drift.headline in ("in-sync", "compatible-drift"), (
        f"spec drift: {drift.headline}"
        + (f" ({drift.error})" if drift.error else "")
        + "".join(f"\n  {line}" for line in breaking)
    )
