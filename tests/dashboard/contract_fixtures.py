"""Contract runs and reports made up for tests: a child that waits, a summary, its files."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def waits_for(release: Path, *, then: str = "", started: Path | None = None) -> list[str]:
    """A child that prints a progress line (then opens the FIFO `started`, if given, which
    blocks until the test opens it too), then waits (bounded) until `release` exists."""
    code = (
        "import os, pathlib, time\n"
        "print('test_x PASSED  [ 40%]', flush=True)\n"
        + (f"open({str(started)!r}, 'w').close()\n" if started else "")
        + f"p = pathlib.Path({str(release)!r})\n"
        "for _ in range(600):\n"
        "    if p.exists(): break\n"
        "    time.sleep(0.05)\n"
        f"{then}\n"
    )
    return [sys.executable, "-c", code]


def summary(finished_at: str, **changes: Any) -> dict[str, Any]:
    return {
        "target": "embedded sandbox (in-process)",
        "finished_at": finished_at,
        "passed": 80,
        "failed": 1,
        "drift_headline": "in-sync",
        "coverage": {"api.health": [200], "api.getLaunchContext": [400, 404], "api.x": []},
        "failures": [
            {
                "operation": "api.health",
                "check": "status_code_conformance",
                "status": 503,
                "message": "m",
                "request_id": "r",
                "curl": "curl …",
                "count": 4,
                "tests": ["t"],
            }
        ],
        "rules": [
            {"rule": "put-full-replace", "section": "§4", "text": "PUT replaces", "check": "c"}
            | {"result": "passed"}
        ],
        "cleanup": {
            "made": 12,
            "deleted": 2,
            "left_behind": 10,
            "by_kind": {"webhook events": {"made": 12, "deleted": 2, "left_behind": 10}},
            "problems": ["10 webhook events on an endpoint the run does not own"],
        },
        "phases": {"conformance": 20.0, "prose": 1.5},
    } | changes


def write_reports(directory: Path, data: dict[str, Any], drift: dict[str, Any]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "contract-summary.json").write_text(json.dumps(data))
    (directory / "drift.json").write_text(json.dumps(drift))
