"""The reports of one contract run, all in one directory (default `reports/`, or
`MEDBLOCKS_REPORTS_DIR`), every file sanitised:

* `contract-junit.xml`   - one testcase per contract test; a failure's `message` is the failed
  check's one-line reason with the request id, its text the curl command that repeats the
  request (then the traceback);
* `contract-report.md`   - target, drift headline, failures grouped by cause, the prose rules
  (rule, check, result) and those that cannot be checked, operations x checks, clean-up counts,
  time per phase; on a configuration error, why the run stopped;
* `contract-summary.json`- the same facts for the dashboard;
* `drift.json`           - the drift report of the pinned document against the served one.

The JUnit file is written here rather than by pytest's `--junitxml` so that it holds the
contract tests only and passes through the same sanitiser as the rest.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from contract_tests.causes import cause_text, root_causes
from contract_tests.prose import NOT_CHECKABLE, RULES
from contract_tests.run import Failure, RunState, pinned_operations
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
PROSE_TEST = "contract_tests/test_prose.py::test_prose_rule[{}]"
FILES = ("contract-junit.xml", "contract-report.md", "contract-summary.json", "drift.json")


@dataclass
class TestOutcome:
    nodeid: str
    outcome: str  # passed | failed | skipped | error
    duration: float
    message: str = ""


def reports_dir() -> Path:
    return Path(os.environ.get(REPORTS_ENV) or "reports")


def failure_causes(failures: list[Failure]) -> list[dict[str, Any]]:
    """One entry per cause (operation, check, status), with its count and first example."""
    causes: dict[tuple[str, str, int | None], dict[str, Any]] = {}
    for failure in failures:
        entry = causes.get(failure.cause)
        if entry is None:
            causes[failure.cause] = {**failure.as_dict(), "count": 1, "tests": [failure.test]}
            continue
        entry["count"] += 1
        if failure.test not in entry["tests"]:
            entry["tests"].append(failure.test)
    return sorted(causes.values(), key=lambda c: (-c["count"], c["operation"], c["check"]))


def rules_table(state: RunState, outcomes: list[TestOutcome]) -> list[dict[str, str]]:
    by_id = {o.nodeid: o for o in outcomes}
    rows = []
    for rule in RULES.values():
        check = PROSE_TEST.format(rule.id)
        outcome = by_id.get(check)
        result = "not run" if outcome is None else outcome.outcome
        gap = state.known_gaps.get(f"rule:{rule.id}")
        if gap is not None:
            result = f"known sandbox gap: {gap}"
        rows.append(
            {"rule": rule.id, "section": rule.section, "text": rule.text, "check": check}
            | {"result": result}
        )
    return rows


def summary(state: RunState, outcomes: list[TestOutcome]) -> dict[str, Any]:
    operations = sorted(pinned_operations().values())
    counts = state.cleanup_counts
    return {
        "target": state.target_label,
        "base_url": state.base_url,
        "reproduce_url": state.reproduce_url,
        "configuration_error": state.configuration_error,
        "started_at": state.started_at,
        "finished_at": datetime.now(UTC).isoformat(),
        "passed": sum(o.outcome == "passed" for o in outcomes),
        "failed": sum(o.outcome in ("failed", "error") for o in outcomes),
        "skipped": sum(o.outcome == "skipped" for o in outcomes),
        "xfailed": sum(o.outcome == "xfailed" for o in outcomes),
        "drift_headline": state.drift.headline if state.drift else "unknown",
        "run_prefix": state.prefix,
        "coverage": {op: sorted(state.coverage.get(op, ())) for op in operations},
        "checks": {
            op: {check: {"passed": n[0], "failed": n[1]} for check, n in sorted(checks.items())}
            for op, checks in sorted(state.checks.items())
        },
        "failures": failure_causes(state.failures),
        "failed_checks": len(state.failures),
        "rules": rules_table(state, outcomes),
        "rules_not_checkable": [{"rule": r, "reason": why} for r, why in NOT_CHECKABLE],
        "known_sandbox_gaps": state.known_gaps,
        "cleanup": {
            "made": sum(c[0] for c in counts.values()),
            "deleted": sum(c[1] for c in counts.values()),
            "left_behind": sum(c[2] for c in counts.values()),
            "by_kind": {
                kind: {"made": c[0], "deleted": c[1], "left_behind": c[2]}
                for kind, c in counts.items()
            },
            "problems": state.cleanup_problems,
        },
        "phases": {name: round(seconds, 2) for name, seconds in state.phases.items()},
        "not_run": state.not_run,
        "fuzzing_cut": state.fuzzing_cut,
        "faults": state.faults,
        "root_causes": root_causes(state, outcomes),
        "unexercised_operations": state.unexercised(),
    }


def markdown(data: dict[str, Any], drift_markdown: str) -> str:
    lines = ["# Contract run", ""]
    if data["configuration_error"]:
        lines += [
            "**The run stopped before any contract test: configuration error.**",
            "",
            f"> {data['configuration_error']}",
            "",
        ]
    lines += root_cause_lines(data, markdown=True)
    lines += [
        f"- target: {data['target']} (`{data['base_url']}`)",
        f"- started {data['started_at']}, finished {data['finished_at']}",
        f"- tests: {data['passed']} passed, {data['failed']} failed, {data['skipped']} skipped, "
        f"{data['xfailed']} known sandbox gaps",
        f"- drift headline: **{data['drift_headline']}**",
        f"- run prefix for created patient ids: `{data['run_prefix']}`",
        f"- {cleanup_line(data)}",
        f"- {phase_line(data['phases'])}",
    ]
    if data["reproduce_url"] and data["reproduce_url"] != data["base_url"]:
        lines.append(
            f"- curl commands below go to `{data['reproduce_url']}`: the in-process sandbox has "
            "no address, so start `python -m medblocks.sandbox` (that is its default address) "
            "and `export MEDBLOCKS_API_KEY=<the key it prints>`"
        )
    if data["fuzzing_cut"]:
        cut = ", ".join(f"{op} {n}" for op, n in sorted(data["fuzzing_cut"].items()))
        lines.append(f"- fuzzing sized to the budget: generated cases not sent: {cut}")
    lines += ["", "## Failures by cause (operation, check, status)", ""]
    if not data["failures"]:
        lines.append("None.")
    for cause in data["failures"]:
        lines += [
            f"- **{cause['count']}x** `{cause['operation']}` / `{cause['check']}` / "
            f"HTTP {cause['status']} (first request id `{cause['request_id']}`): "
            f"{cause['message']}"
        ]
        if cause["curl"]:
            lines += ["", "  ```bash", f"  {cause['curl']}", "  ```"]
    lines += ["", "## Rules stated only in prose", ""]
    lines += ["| rule | check | result |", "|---|---|---|"]
    lines += [
        f"| `{r['rule']}` ({r['section']}): {r['text']} | `{r['check']}` | {r['result']} |"
        for r in data["rules"]
    ]
    lines += ["", "Not checkable from outside:", ""]
    lines += [f"- {r['rule']}: {r['reason']}" for r in data["rules_not_checkable"]]
    lines += [
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
    if data["cleanup"]["problems"]:
        lines += ["", "## Left behind by clean-up", ""]
        lines += [f"- {problem}" for problem in data["cleanup"]["problems"]]
    lines += ["", "## Drift", "", drift_markdown]
    return "\n".join(lines) + "\n"


def _cell(result: dict[str, int]) -> str:
    mark = "FAIL " if result["failed"] else ""
    return f"{mark}{result['passed']} / {result['failed']}"


def cleanup_line(data: dict[str, Any]) -> str:
    cleanup = data["cleanup"]
    kinds = ", ".join(
        f"{kind} {c['made']}" for kind, c in cleanup.get("by_kind", {}).items() if c["made"]
    )
    return (
        f"clean-up: made {cleanup['made']} ({kinds or 'nothing'}), deleted {cleanup['deleted']}, "
        f"{cleanup['left_behind']} left behind"
    )


def phase_line(phases: dict[str, float]) -> str:
    parts = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in phases.items())
    return f"time per phase: {parts} (total {sum(phases.values()):.1f}s)"


def root_cause_lines(data: dict[str, Any], *, markdown: bool = False) -> list[str]:
    """The causes that explain many results at once, then what did not run and why: the
    first thing every report says."""
    causes = data.get("root_causes") or []
    not_run = data.get("not_run") or {}
    if not causes and not not_run:
        return []
    lines = ["## Root causes (each explains many results)", ""] if markdown else []
    lines += [f"- {cause_text(c)}" if markdown else cause_text(c) for c in causes]
    if not_run:
        lines += ["", "### Did not run", ""] if markdown else ["did not run:"]
        lines += [
            f"- `{test}`: {why}" if markdown else f"  {test}: {why}"
            for test, why in not_run.items()
        ]
    return [*lines, ""] if markdown else lines


def cause_lines(data: dict[str, Any]) -> list[str]:
    lines = []
    for cause in data["failures"]:
        lines.append(
            f"{cause['count']}x {cause['operation']} / {cause['check']} / HTTP {cause['status']}:"
            f" {cause['message'].splitlines()[0][:300]} (request id {cause['request_id']})"
        )
        if cause["curl"]:
            lines.append(f"    reproduce: {cause['curl'][:1000]}")
    return lines


def one_line(failure: Failure) -> str:
    return f"{failure.message.splitlines()[0][:400]} (request id {failure.request_id})"


def _first_error_line(text: str) -> str:
    for line in text.splitlines():
        if line.startswith("E "):
            return line[1:].strip()
    return text.strip().splitlines()[-1] if text.strip() else ""


def junit(
    outcomes: list[TestOutcome],
    started_at: str,
    failures: list[Failure],
    causes: list[dict[str, Any]] | None = None,
) -> str:
    """One testcase per contract test. A failure's `message` is the failed check's reason with
    the request id; its text holds each distinct failed check with its curl command, then the
    traceback."""
    by_test: dict[str, list[Failure]] = {}
    for failure in failures:
        by_test.setdefault(str(failure.test), []).append(failure)
    suite = ET.Element(
        "testsuite",
        name="contract_tests",
        tests=str(len(outcomes)),
        failures=str(sum(o.outcome == "failed" for o in outcomes)),
        errors=str(sum(o.outcome == "error" for o in outcomes)),
        skipped=str(sum(o.outcome in ("skipped", "xfailed") for o in outcomes)),
        timestamp=started_at,
        time=f"{sum(o.duration for o in outcomes):.3f}",
    )
    if causes:  # first in the file, as in every report
        properties = ET.SubElement(suite, "properties")
        for cause in causes:
            ET.SubElement(properties, "property", name="root-cause", value=cause_text(cause))
    for outcome in outcomes:
        module, _, name = outcome.nodeid.partition("::")
        case = ET.SubElement(
            suite,
            "testcase",
            classname=module.removesuffix(".py").replace("/", "."),
            name=name or module,
            time=f"{outcome.duration:.3f}",
        )
        if outcome.outcome == "passed":
            continue
        tag = {"failed": "failure", "xfailed": "skipped"}.get(outcome.outcome, outcome.outcome)
        seen = by_test.get(outcome.nodeid, []) if tag in ("failure", "error") else []
        distinct = list({f.cause: f for f in reversed(seen)}.values())[::-1]
        message = one_line(distinct[0]) if distinct else _first_error_line(outcome.message)
        body = [f"{one_line(f)}\nreproduce: {f.curl or '(no request)'}\n" for f in distinct] + [
            outcome.message
        ]
        element = ET.SubElement(case, tag, message=message[:500])
        element.text = "\n".join(body)
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
    failures = [
        replace(
            f,
            message=sanitize(f.message, secrets),
            curl=None if f.curl is None else sanitize(f.curl, secrets),
        )
        for f in state.failures
    ]
    data = summary(state, outcomes)
    data["failures"] = failure_causes(failures)
    drift_markdown = state.drift.to_markdown() if state.drift else "No drift check ran."
    texts = {
        "contract-summary.json": json.dumps(data, indent=2),
        "contract-report.md": markdown(data, drift_markdown),
        "contract-junit.xml": junit(outcomes, state.started_at, failures, data["root_causes"]),
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
