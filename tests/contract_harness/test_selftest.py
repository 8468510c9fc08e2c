"""The harness fails when the server drifts: each seeded break of the schema or of an error code
(`contract_tests.broken`) makes a reduced suite against the in-process sandbox fail, naming the
operation and the check."""

from __future__ import annotations

from pathlib import Path

import pytest

from contract_tests.broken import BREAKS, Break
from contract_tests.prose import RULES
from contract_tests.subprocess_run import run_suite
from contract_tests.suite import OPERATIONS_ENV
from contract_tests.target import BREAK_ENV

# The prose rules' breaks have their own, faster test (test_prose_rules.py).
SCHEMA_BREAKS = {name: b for name, b in BREAKS.items() if name not in RULES}


@pytest.mark.parametrize("seeded", SCHEMA_BREAKS.values(), ids=list(SCHEMA_BREAKS))
def test_seeded_break_fails_the_suite(seeded: Break, tmp_path: Path) -> None:
    env = {BREAK_ENV: seeded.name, OPERATIONS_ENV: seeded.operations}
    run = run_suite([seeded.selection], env, tmp_path / "reports")
    assert run.returncode == 1, f"the suite did not fail for {seeded.name}:\n{run.output[-2000:]}"
    assert seeded.operation in run.output and seeded.check in run.output, run.output[-3000:]
    failures = run.summary()["failures"]
    named = [
        f for f in failures if (f["operation"], f["check"]) == (seeded.operation, seeded.check)
    ]
    assert named, f"no failure names {seeded.operation} / {seeded.check}: {failures[:5]}"
    assert all(seeded.operation in f["message"] and seeded.check in f["message"] for f in named)


def test_unbroken_sandbox_passes_the_same_reduced_suites(tmp_path: Path) -> None:
    selections = sorted({b.selection for b in SCHEMA_BREAKS.values()})
    operations = ",".join(sorted({b.operations for b in SCHEMA_BREAKS.values()} - {""}))
    run = run_suite(selections, {OPERATIONS_ENV: operations}, tmp_path / "reports")
    assert run.returncode == 0, run.output[-3000:]
    assert run.summary()["failures"] == []
