"""The reports of one contract run, all in one directory (default `reports/`, or
`MEDBLOCKS_REPORTS_DIR`), every file sanitised:

* `contract-junit.xml`   - one testcase per contract test, failures with their messages;
* `contract-report.md`   - target, drift headline, operations x checks, failures with request ids;
* `contract-summary.json`- the same facts for the dashboard;
* `drift.json`           - the drift report of the pinned document against the served one.

The JUnit file is written here rather than by pytest's `--junitxml` so that it holds the
contract tests only and passes through the same sanitiser as the rest.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from contract_tests.run import RunState, pinned_operations
from medblocks.redaction import sanitize

REPORTS_ENV = "MEDBLOCKS_REPORTS_DIR"
# The response checks every schemathesis call runs: the columns of the checks table.
COLUMN_CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
    "missing_required_header",
    "ignored_auth",
    "use_after_free",
    "ensure_resource_availability",
    "unsupported_method",
    "allow_header_conformance",
    "object_level_authorization",
    "max_response_time",
    "request_id_echoed",
    "error_envelope",
    "health_status",
)
FILES = ("contract-junit.xml", "contract-report.md", "contract-summary.json", "drift.json")


@dataclass
class TestOutcome:
    nodeid: str
    outcome: str  # passed | failed | skipped | error
    duration: float
    message: str = ""


def reports_dir() -> Path:
    return Path(os.environ.get(REPORTS_ENV) or "reports")


def summary(state: RunState, outcomes: list[TestOutcome]) -> dict[str, Any]:
    operations = sorted(pinned_operations().values())
    return {
        "target": state.target_label,
        "base_url": state.base_url,
        "started_at": state.started_at,
        "finished_at": datetime.now(UTC).isoformat(),
        "passed": sum(o.outcome == "passed" for o in outcomes),
        "failed": sum(o.outcome in ("failed", "error") for o in outcomes),
        "skipped": sum(o.outcome == "skipped" for o in outcomes),
        "drift_headline": state.drift.headline if state.drift else "unknown",
        "run_prefix": state.prefix,
        "coverage": {op: sorted(state.coverage.get(op, ())) for op in operations},
        "checks": {
            op: {check: {"passed": n[0], "failed": n[1]} for check, n in sorted(checks.items())}
            for op, checks in sorted(state.checks.items())
        },
        "failures": [f.as_dict() for f in state.failures],
        "cleanup": {"deleted": state.cleaned, "problems": state.cleanup_problems},
        "budget_exhausted": state.budget_exhausted,
        "unexercised_operations": state.unexercised(),
    }


def markdown(data: dict[str, Any], drift_markdown: str) -> str:
    lines = [
        "# Contract run",
        "",
        f"- target: {data['target']} (`{data['base_url']}`)",
        f"- started {data['started_at']}, finished {data['finished_at']}",
        f"- tests: {data['passed']} passed, {data['failed']} failed, {data['skipped']} skipped",
        f"- drift headline: **{data['drift_headline']}**",
        f"- run prefix for created patient ids: `{data['run_prefix']}`",
        f"- clean-up: {data['cleanup']['deleted']} deleted, "
        f"{len(data['cleanup']['problems'])} left behind",
        "",
        "## Operations x status codes seen",
        "",
        "| operation | status codes |",
        "|---|---|",
    ]
    lines += [
        f"| `{op}` | {', '.join(map(str, codes)) or '**none**'} |"
        for op, codes in data["coverage"].items()
    ]
    found = {c for per_op in data["checks"].values() for c in per_op}
    checks = [c for c in COLUMN_CHECKS if c in found]
    lines += ["", "## Operations x checks (passed / failed)", ""]
    lines += ["| operation | " + " | ".join(checks) + " |", "|---" * (len(checks) + 1) + "|"]
    for op in data["coverage"]:
        cells = []
        for check in checks:
            result = data["checks"].get(op, {}).get(check)
            cells.append("-" if result is None else _cell(result))
        lines.append(f"| `{op}` | " + " | ".join(cells) + " |")
    lines += ["", "## Documented errors and behaviour (passed / failed)", ""]
    lines += ["| operation | check | result |", "|---|---|---|"]
    for op, per_op in data["checks"].items():
        lines += [
            f"| `{op}` | `{check}` | {_cell(result)} |"
            for check, result in per_op.items()
            if check not in COLUMN_CHECKS
        ]
    lines += ["", "## Failures", ""]
    if not data["failures"]:
        lines.append("None.")
    for failure in data["failures"]:
        lines.append(
            f"- `{failure['operation']}` / `{failure['check']}` "
            f"(request id `{failure['request_id']}`): {failure['message']}"
        )
    if data["cleanup"]["problems"]:
        lines += ["", "## Left behind by clean-up", ""]
        lines += [f"- {problem}" for problem in data["cleanup"]["problems"]]
    lines += ["", "## Drift", "", drift_markdown]
    return "\n".join(lines) + "\n"


def _cell(result: dict[str, int]) -> str:
    mark = "FAIL " if result["failed"] else ""
    return f"{mark}{result['passed']} / {result['failed']}"


def junit(outcomes: list[TestOutcome], started_at: str) -> str:
    suite = ET.Element(
        "testsuite",
        name="contract_tests",
        tests=str(len(outcomes)),
        failures=str(sum(o.outcome == "failed" for o in outcomes)),
        errors=str(sum(o.outcome == "error" for o in outcomes)),
        skipped=str(sum(o.outcome == "skipped" for o in outcomes)),
        timestamp=started_at,
        time=f"{sum(o.duration for o in outcomes):.3f}",
    )
    for outcome in outcomes:
        module, _, name = outcome.nodeid.partition("::")
        case = ET.SubElement(
            suite,
            "testcase",
            classname=module.removesuffix(".py").replace("/", "."),
            name=name or module,
            time=f"{outcome.duration:.3f}",
        )
        if outcome.outcome in ("failed", "error", "skipped"):
            tag = "failure" if outcome.outcome == "failed" else outcome.outcome
            element = ET.SubElement(
                case, tag, message=outcome.message.splitlines()[0][:500] if outcome.message else ""
            )
            element.text = outcome.message
    return ET.tostring(ET.ElementTree(suite).getroot(), encoding="unicode", xml_declaration=True)


def write_reports(
    state: RunState,
    outcomes: list[TestOutcome],
    secrets: tuple[str, ...],
    directory: Path | None = None,
) -> Path:
    """Write the four files, sanitised; return the directory."""
    directory = directory or reports_dir()
    directory.mkdir(parents=True, exist_ok=True)
    # Messages are sanitised before any escaping (XML attributes would hide quoted PHI keys).
    outcomes = [
        TestOutcome(o.nodeid, o.outcome, o.duration, sanitize(o.message, secrets)) for o in outcomes
    ]
    data = summary(state, outcomes)
    data["failures"] = [{**f, "message": sanitize(f["message"], secrets)} for f in data["failures"]]
    drift_markdown = state.drift.to_markdown() if state.drift else "No drift check ran."
    texts = {
        "contract-summary.json": json.dumps(data, indent=2),
        "contract-report.md": markdown(data, drift_markdown),
        "contract-junit.xml": junit(outcomes, state.started_at),
        "drift.json": state.drift.to_json() if state.drift else json.dumps({"headline": "unknown"}),
    }
    for name, text in texts.items():  # a second pass over whole files, after the one below
        clean = sanitize(text, secrets)
        if name.endswith(".json"):
            json.loads(clean)  # the sanitiser must never break a JSON file
        (directory / name).write_text(clean, encoding="utf-8")
    return directory


def coverage_table(data: dict[str, Any]) -> list[str]:
    """The terminal table: every operation with the status codes the run saw."""
    width = max(len(op) for op in data["coverage"])
    lines = [f"{'operation':<{width}}  status codes seen"]
    lines += [
        f"{op:<{width}}  {' '.join(map(str, codes)) or 'NONE'}"
        for op, codes in data["coverage"].items()
    ]
    return lines
