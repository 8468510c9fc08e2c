"""Run (part of) the contract suite in a child pytest process with its own environment and
reports directory: how the harness tests itself (live-key refusal, seeded breaks, reports)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contract_tests.reports import REPORTS_ENV
from contract_tests.target import BREAK_ENV

ROOT = Path(__file__).resolve().parents[1]
CHILD_TIMEOUT = 120
CONFIG_VARIABLES = ("MEDBLOCKS_API_KEY", "MEDBLOCKS_API_URL", "MEDBLOCKS_API_VERSION", BREAK_ENV)


@dataclass
class ChildRun:
    returncode: int
    output: str
    reports: Path

    def summary(self) -> dict[str, Any]:
        return json.loads((self.reports / "contract-summary.json").read_text(encoding="utf-8"))


def run_suite(
    selection: list[str], env: dict[str, str], reports: Path, *, stop_at_first: bool = True
) -> ChildRun:
    """`pytest SELECTION` in a child process (with `-x` unless `stop_at_first` is False); the
    parent's MEDBLOCKS_* target is not inherited."""
    child_env = {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES}
    child_env.update(env)
    child_env[REPORTS_ENV] = str(reports)
    child_env.pop("PYTEST_ADDOPTS", None)
    # With CI or BUILD_NUMBER set, pytest prints whole summary lines instead of cutting them to
    # the terminal width: the child's output must read the same on a laptop and in CI.
    for variable in ("CI", "BUILD_NUMBER"):
        child_env.pop(variable, None)
    result = subprocess.run(
        [
            sys.executable,
            *("-m", "pytest", "-q", "-p", "no:cacheprovider"),
            *(["-x"] if stop_at_first else []),
            *selection,
        ],
        cwd=ROOT,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
    )
    return ChildRun(result.returncode, result.stdout + result.stderr, reports)
