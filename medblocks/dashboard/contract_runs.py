"""The contract harness's latest reports, and running it against the current target.

The harness is run as a subprocess (`python -m pytest contract_tests`, `python -m medblocks spec
check`); the product never imports `contract_tests`. The key goes to the child only through its
environment and is scrubbed from anything captured from it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from medblocks.dashboard.target import Target
from medblocks.redaction import sanitize

REPORTS_ENV = "MEDBLOCKS_REPORTS_DIR"
SUMMARY = "contract-summary.json"
DRIFT = "drift.json"


def reports_dir() -> Path:
    return Path(os.environ.get(REPORTS_ENV) or "reports")


def read_json(path: Path) -> dict[str, Any] | None:
    """The parsed report, None when it has not been produced; a broken file raises ValueError."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc.msg}, line {exc.lineno})") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path} does not hold a JSON object")
    return data


def latest_summary(directory: Path | None = None) -> dict[str, Any] | None:
    return read_json((directory or reports_dir()) / SUMMARY)


def latest_drift(directory: Path | None = None) -> dict[str, Any] | None:
    return read_json((directory or reports_dir()) / DRIFT)


FAILURE_COLUMNS = ["operation", "check", "message", "request_id"]


def failures_frame(summary: dict[str, Any]) -> pd.DataFrame:
    """The summary's failed checks, one row each, with the request id."""
    return pd.DataFrame(summary.get("failures") or [], columns=FAILURE_COLUMNS)


def coverage_frame(summary: dict[str, Any]) -> pd.DataFrame:
    """The status codes the run saw, one row per operation."""
    coverage = summary.get("coverage") or {}
    return pd.DataFrame(
        [{"operation": op, "codes": ", ".join(map(str, codes))} for op, codes in coverage.items()]
    )


@dataclass(frozen=True)
class RunResult:
    command: str
    returncode: int
    output: str


def harness_commands() -> list[list[str]]:
    return [
        [sys.executable, "-m", "pytest", "contract_tests", "-q", "-p", "no:cacheprovider"],
        [sys.executable, "-m", "medblocks", "spec", "check"],
    ]


def run_harness(
    target: Target, *, cwd: Path | None = None, timeout: float = 900
) -> list[RunResult]:
    """Run the contract suite and the drift check against `target`; refuses a live target."""
    if target.is_live:
        raise PermissionError("The contract suite never runs against a live key.")
    env = dict(os.environ)
    env.update(
        MEDBLOCKS_API_KEY=target.api_key,
        MEDBLOCKS_API_URL=target.base_url,
        MEDBLOCKS_API_VERSION=target.api_version,
    )
    results = []
    for command in harness_commands():
        done = subprocess.run(
            command,
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        output = sanitize(done.stdout + done.stderr, (target.api_key,))
        results.append(RunResult(" ".join(command[1:]), done.returncode, output[-20000:]))
    return results
