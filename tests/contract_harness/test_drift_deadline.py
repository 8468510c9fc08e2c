"""The contract suite's first request, the served-spec drift check, ends at the fetch deadline
against a server whose headers trickle in: the run goes on and its served-spec test fails with
the reason instead of hanging."""

from __future__ import annotations

import time

import pytest

from contract_tests.suite import check_drift
from contract_tests.target import ContractTarget
from medblocks import served_spec
from tests.trickle import trickling


def test_the_drift_check_of_a_stalled_target_ends_unknown_at_the_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(served_spec.DEADLINE_VARIABLE, "2")
    with trickling(every=0.5) as base:
        target = ContractTarget(label="stalled", base_url=base, api_key="mb_sk_sbx_" + "t" * 24)
        started = time.monotonic()
        drift = check_drift(target)
        assert time.monotonic() - started < 2 + 5
    assert drift.headline == "unknown"
    assert drift.error is not None and "not received within 2 s" in drift.error
