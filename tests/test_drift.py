"""The drift checker: every change gets its rule id and level, and the headline follows."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from medblocks.spec import load_pinned, read_document
from medblocks.spec.drift import compare_versions, diff_documents, unknown_report
from tests import drift_fixtures

ORACLE = Path(__file__).resolve().parents[2] / "shared/upstream/medblocks-openapi-2026-04-25.json"

Doc = dict[str, Any]


def docs_era(document: Doc) -> Doc:
    """The pinned document rewritten with the oldest docs' names (Connect Session era)."""
    text = json.dumps(document)
    for current, old in (
        ("/patient-sessions", "/sessions"),
        ('"patient_session_id"', '"session_id"'),
        ('"patient_session"', '"session"'),
        ("ps_", "sess_"),
    ):
        text = text.replace(current, old)
    return json.loads(text)


def _schema(doc: Doc, name: str) -> Doc:
    return doc["components"]["schemas"][name]


def _param(doc: Doc, path: str, method: str, name: str) -> Doc:
    return next(p for p in doc["paths"][path][method]["parameters"] if p.get("name") == name)


def _changed(mutate: Callable[[Doc], None]) -> Doc:
    doc = load_pinned()
    mutate(doc)
    return doc


def test_pinned_against_published_document_is_in_sync() -> None:
    if not ORACLE.is_file():
        pytest.skip(f"the published structure is not available at {ORACLE}")
    report = diff_documents(load_pinned(), read_document(ORACLE))
    assert report.headline == "in-sync"
    assert report.changes == []
    assert report.version_relation == "same"


def test_docs_era_names_are_breaking_drift_naming_the_paths() -> None:
    report = diff_documents(load_pinned(), docs_era(load_pinned()))
    assert report.headline == "breaking-drift"
    removed = {c.location for c in report.changes if c.rule == "api-path-removed"}
    assert removed == {
        "/patient-sessions",
        "/patient-sessions/{id}",
        "/patients/{id}/patient-sessions",
    }
    added = {c.location for c in report.changes if c.rule == "api-path-added"}
    assert added == {"/sessions", "/sessions/{id}", "/patients/{id}/sessions"}
    back_reference = [c for c in report.changes if c.rule == "response-required-property-removed"]
    assert any("patient_session_id" in c.message for c in back_reference)
    assert all(c.level == "breaking" for c in report.changes if c.rule == "api-path-removed")


def test_docs_era_session_object_is_seen_when_the_path_is_kept() -> None:
    # Same paths, old object names: the resource_type and back-reference changes are caught.
    def rename(doc: Doc) -> None:
        _schema(doc, "PatientSession")["properties"]["resource_type"]["const"] = "session"

    report = diff_documents(load_pinned(), _changed(rename))
    assert [(c.rule, c.level) for c in report.changes] == [
        ("response-property-const-changed", "breaking")
    ] * len(report.changes)
    assert {c.location for c in report.changes} == {
        "POST /patient-sessions",
        "GET /patient-sessions/{id}",
        "GET /patients/{id}/patient-sessions",
    }
    assert "'patient_session' -> 'session'" in report.changes[0].message


def test_new_connection_status_value_is_response_property_enum_value_added() -> None:
    def add_status(doc: Doc) -> None:
        status = _schema(doc, "PatientDetail")["properties"]["connections"]["items"]
        status["properties"]["status"]["enum"].append("paused")

    report = diff_documents(load_pinned(), _changed(add_status))
    assert [(c.rule, c.level, c.location) for c in report.changes] == [
        ("response-property-enum-value-added", "breaking", "GET /patients/{id}")
    ]
    assert "connections[].status" in report.changes[0].message
    assert "'paused'" in report.changes[0].message
    assert report.headline == "breaking-drift"


def _remove_operation(doc: Doc) -> None:
    del doc["paths"]["/patients/{id}"]["delete"]


def _add_operation(doc: Doc) -> None:
    doc["paths"]["/patients/{id}"]["patch"] = copy.deepcopy(doc["paths"]["/patients/{id}"]["put"])
    doc["paths"]["/patients/{id}"]["patch"]["operationId"] = "api.patchPatient"


def _request_property_required(doc: Doc) -> None:
    _schema(doc, "PatientCreateInput")["required"].append("email")


def _request_property_optional(doc: Doc) -> None:
    _schema(doc, "PatientSessionInitInput")["required"].remove("return_url")


def _new_optional_request_property(doc: Doc) -> None:
    _schema(doc, "PatientCreateInput")["properties"]["phone"] = {"type": "string"}


def _new_required_request_property(doc: Doc) -> None:
    _schema(doc, "PatientCreateInput")["properties"]["phone"] = {"type": "string"}
    _schema(doc, "PatientCreateInput")["required"].append("phone")


def _response_required_removed(doc: Doc) -> None:
    _schema(doc, "FhirSource")["required"].remove("portal_url")
    del _schema(doc, "FhirSource")["properties"]["portal_url"]


def _response_became_optional(doc: Doc) -> None:
    _schema(doc, "FhirSource")["required"].remove("portal_url")


def _response_type_changed(doc: Doc) -> None:
    _schema(doc, "WebhookEvent")["properties"]["attempts"] = {"type": "string"}


def _max_length_decreased(doc: Doc) -> None:
    _schema(doc, "PatientCreateInput")["properties"]["name"]["maxLength"] = 100


def _max_length_increased(doc: Doc) -> None:
    _schema(doc, "PatientCreateInput")["properties"]["name"]["maxLength"] = 400


def _new_required_parameter(doc: Doc) -> None:
    doc["paths"]["/connections"]["get"]["parameters"].append(
        {"name": "region", "in": "query", "required": True, "schema": {"type": "string"}}
    )


def _new_optional_parameter(doc: Doc) -> None:
    doc["paths"]["/connections"]["get"]["parameters"].append(
        {"name": "region", "in": "query", "schema": {"type": "string"}}
    )


def _parameter_enum_value_removed(doc: Doc) -> None:
    _param(doc, "/webhooks", "get", "status")["schema"]["enum"].remove("disabled")


def _parameter_limit_tightened(doc: Doc) -> None:
    _param(doc, "/patients", "get", "limit")["schema"]["maximum"] = 50


def _success_status_changed(doc: Doc) -> None:
    responses = doc["paths"]["/patients"]["post"]["responses"]
    responses["201"] = responses.pop("200")


def _retry_after_removed(doc: Doc) -> None:
    del doc["components"]["responses"]["TooManyRequests"]["headers"]


def _response_became_nullable(doc: Doc) -> None:
    _schema(doc, "FhirSource")["properties"]["name"] = {
        "anyOf": [{"type": "string"}, {"type": "null"}]
    }


def _request_closed(doc: Doc) -> None:
    _schema(doc, "PatientCreateInput")["additionalProperties"] = False


def _callback_removed(doc: Doc) -> None:
    del doc["paths"]["/patient-sessions"]["post"]["callbacks"]["directModeError"]


def _operation_id_changed(doc: Doc) -> None:
    doc["paths"]["/health"]["get"]["operationId"] = "api.ping"


def _servers_changed(doc: Doc) -> None:
    doc["servers"] = [{"url": "https://eu.app.medblocks.com"}]


def _pattern_added(doc: Doc) -> None:
    _schema(doc, "PatientCreateInput")["properties"]["patient_id"]["pattern"] = "^[a-z]+$"


@pytest.mark.parametrize(
    ("mutate", "rule", "level"),
    [
        (_remove_operation, "api-removed-without-deprecation", "breaking"),
        (_add_operation, "endpoint-added", "compatible"),
        (_request_property_required, "request-property-became-required", "breaking"),
        (_request_property_optional, "request-property-became-optional", "compatible"),
        (_new_optional_request_property, "new-optional-request-property", "compatible"),
        (_new_required_request_property, "new-required-request-property", "breaking"),
        (_response_required_removed, "response-required-property-removed", "breaking"),
        (_response_became_optional, "response-property-became-optional", "breaking"),
        (_response_type_changed, "response-property-type-changed", "breaking"),
        (_max_length_decreased, "request-property-max-length-decreased", "breaking"),
        (_max_length_increased, "request-property-max-length-increased", "compatible"),
        (_new_required_parameter, "new-required-request-parameter", "breaking"),
        (_new_optional_parameter, "new-optional-request-parameter", "compatible"),
        (_parameter_enum_value_removed, "request-parameter-enum-value-removed", "breaking"),
        (_parameter_limit_tightened, "request-parameter-max-decreased", "breaking"),
        (_success_status_changed, "response-success-status-removed", "breaking"),
        (_retry_after_removed, "response-header-removed", "breaking"),
        (_response_became_nullable, "response-property-became-nullable", "breaking"),
        (_request_closed, "request-body-additional-properties-restricted", "breaking"),
        (_callback_removed, "api-callback-removed", "breaking"),
        (_operation_id_changed, "api-operation-id-removed", "breaking"),
        (_servers_changed, "api-servers-changed", "info"),
        (_pattern_added, "request-property-pattern-changed", "breaking"),
    ],
)
def test_each_change_gets_its_rule_and_level(
    mutate: Callable[[Doc], None], rule: str, level: str
) -> None:
    report = diff_documents(load_pinned(), _changed(mutate))
    found = {(c.rule, c.level) for c in report.changes}
    assert (rule, level) in found, report.to_text()
    expected = {"breaking": "breaking-drift", "compatible": "compatible-drift", "info": "in-sync"}
    assert report.headline == expected[level]


def test_prose_changes_are_not_drift() -> None:
    def reword(doc: Doc) -> None:
        doc["paths"]["/health"]["get"]["summary"] = "Something else entirely"
        _schema(doc, "Patient")["description"] = "Reworded"

    assert diff_documents(load_pinned(), _changed(reword)).changes == []


def test_unknown_keyword_change_is_still_reported() -> None:
    def unique(doc: Doc) -> None:
        _schema(doc, "PatientCreateInput")["properties"]["metadata"]["maxProperties"] = 5
        _schema(doc, "PatientCreateInput")["properties"]["name"]["uniqueItems"] = True

    rules = {c.rule for c in diff_documents(load_pinned(), _changed(unique)).changes}
    assert rules == {"request-property-max-properties-set", "request-property-schema-changed"}


@pytest.mark.parametrize(
    ("old", "new", "relation"),
    [
        ("2026-04-25", "2026-04-25", "same"),
        ("2026-04-25", "2026-09-01", "newer"),
        ("2026-04-25", "2025-01-01", "older"),
        ("2026-04-25", "v2", "unknown"),
        ("2026-04-25", None, "unknown"),
    ],
)
def test_info_version_dates_are_compared(old: str, new: str | None, relation: str) -> None:
    assert compare_versions(old, new) == relation


def test_newer_version_without_structural_change_is_in_sync_with_a_note() -> None:
    def bump(doc: Doc) -> None:
        doc["info"]["version"] = "2026-09-01"

    report = diff_documents(load_pinned(), _changed(bump))
    assert report.headline == "in-sync"
    assert report.version_relation == "newer"
    assert [(c.rule, c.level) for c in report.changes] == [("api-version-changed", "info")]


def test_unreadable_document_is_unknown_and_fails_unless_never() -> None:
    report = unknown_report("pinned", "served", load_pinned(), "connection refused")
    assert report.headline == "unknown"
    assert report.fails("breaking") and report.fails("info")
    assert not report.fails("never")


@pytest.mark.parametrize(
    ("fail_on", "fails"),
    [("breaking", False), ("compatible", True), ("info", True), ("never", False)],
)
def test_fail_on_threshold_for_compatible_drift(fail_on: str, fails: bool) -> None:
    report = diff_documents(load_pinned(), _changed(_new_optional_parameter))
    assert report.headline == "compatible-drift"
    assert report.fails(fail_on) is fails


def test_renderings_carry_the_headline_and_every_change() -> None:
    report = diff_documents(load_pinned(), docs_era(load_pinned()))
    as_json = json.loads(report.to_json())
    assert as_json["headline"] == "breaking-drift"
    assert as_json["counts"]["breaking"] == sum(c.level == "breaking" for c in report.changes)
    assert len(as_json["changes"]) == len(report.changes)
    assert {"rule", "level", "location", "message"} <= set(as_json["changes"][0])
    markdown = report.to_markdown()
    assert (
        "`breaking-drift`" in markdown
        and "| `api-path-removed` | `/patient-sessions` |" in markdown
    )
    text = report.to_text()
    assert text.startswith("drift: breaking-drift")
    assert text.count("api-path-removed") == 3


def test_a_recursive_schema_is_compared_not_refused() -> None:
    original = drift_fixtures.recursive()
    assert diff_documents(original, drift_fixtures.recursive(node="Tree")).headline == "in-sync"
    report = diff_documents(original, drift_fixtures.recursive(label_type="integer"))
    assert [(c.rule, c.level, c.location) for c in report.changes] == [
        ("response-property-type-changed", "breaking", "GET /health")
    ]
    assert "property 'label'" in report.changes[0].message


def test_a_refused_document_is_unknown_naming_the_side_and_why() -> None:
    report = diff_documents(load_pinned(), drift_fixtures.fan_out(7), "pinned", "served")
    assert report.headline == "unknown"
    assert report.error is not None and report.error.startswith("served: its $refs fan out")
    assert report.fails("breaking") and report.changes == []
    assert report.compared == ("pinned (version 2026-04-25) vs served (version 2026-04-25, same)")
    assert report.to_text().startswith("drift: unknown (served: its $refs fan out")


# -- bounds: hostile documents are refused or compared within 2 s and 200 MB ----------------------

REPO = Path(__file__).resolve().parents[1]
SECONDS_BOUND = 2.0
PEAK_MB_BOUND = 200.0

# One fresh interpreter runs every job in turn, as the command line would (`run_check` reads
# the file and compares it with the pinned document; `run_diff` two files). Per job it prints
# the report's outcome, the wall time of the comparison and the process's peak RSS so far
# (the high-water mark only grows, so each job's figure bounds its own peak). Its address space is
# capped at 2 GiB so that a regression fails here instead of exhausting the machine.
MEASURE = """
import json, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))
from medblocks.__main__ import run_check, run_diff
def peak_kib():
    # VmHWM belongs to this process's own memory since exec; ru_maxrss on Linux keeps the
    # forking parent's peak across exec, so a large pytest process would be counted here.
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
for job in json.loads(sys.argv[1]):
    start = time.perf_counter()
    report = run_diff(*job) if len(job) == 2 else run_check(job[0])
    seconds = time.perf_counter() - start
    peak_mb = peak_kib() / 1024
    print(json.dumps({"headline": report.headline, "error": report.error,
                      "changes": len(report.changes), "seconds": seconds, "peak_mb": peak_mb}))
"""

FIXTURE_DIR = drift_fixtures.FIXTURES
# job name -> the expected headline, and the words an `unknown` one must carry to say why.
BOUNDED: dict[str, tuple[str, str]] = {
    "fan-out-7-levels.json": ("unknown", "$refs fan out"),
    "fan-out-13-levels.json": ("unknown", "$refs fan out"),
    "cycle-fan-out.json": ("unknown", "$refs fan out"),
    "reference-loop.json": ("unknown", "reference cycle"),
    "reference-chain.json": ("unknown", "nests deeper than"),
    "recursive.json": ("breaking-drift", ""),
    "large-with-prose-1mb.json": ("compatible-drift", ""),
    "large-with-shared-refs-1mb.json": ("unknown", "$refs fan out"),
    "nested-too-deeply-1mb.json": ("unknown", "nested too deeply"),
    "over-the-size-limit.json": ("unknown", "larger than"),
    "fan-out-under-the-budget.json vs changed": ("breaking-drift", ""),
    "large-enum-1mb.json vs shifted": ("breaking-drift", ""),
}


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Every BOUNDED job run once in one measuring subprocess: name -> its figures."""
    work = tmp_path_factory.mktemp("bounds")
    pinned = load_pinned()

    def write(name: str, text: str) -> str:
        (work / name).write_text(text, encoding="utf-8")
        return str(work / name)

    under_budget = drift_fixtures.fan_out(4)  # 10^4 leaves: about 70k nodes inlined, compared
    changed = copy.deepcopy(under_budget)
    changed["components"]["schemas"]["S4"]["type"] = "integer"  # every one of them changes
    jobs: dict[str, list[str]] = {
        name: [str(FIXTURE_DIR / name)] for name in drift_fixtures.fixtures()
    }
    jobs |= {
        "large-with-prose-1mb.json": [
            write("prose.json", drift_fixtures.render(drift_fixtures.large_with_prose(pinned)))
        ],
        "large-with-shared-refs-1mb.json": [
            write(
                "shared.json", drift_fixtures.render(drift_fixtures.large_with_shared_refs(pinned))
            )
        ],
        "nested-too-deeply-1mb.json": [write("deep.json", drift_fixtures.nested_too_deeply())],
        "over-the-size-limit.json": [
            write(
                "big.json",
                drift_fixtures.render(drift_fixtures.large_with_prose(pinned, 3_000_000)),
            )
        ],
        "fan-out-under-the-budget.json vs changed": [
            write("under.json", drift_fixtures.render(under_budget)),
            write("changed.json", drift_fixtures.render(changed)),
        ],
        "large-enum-1mb.json vs shifted": [
            write("enum.json", drift_fixtures.render(drift_fixtures.large_enum(pinned))),
            write(
                "shifted.json", drift_fixtures.render(drift_fixtures.large_enum(pinned, first=7))
            ),
        ],
    }
    for path in [p for job in jobs.values() for p in job]:
        assert Path(path).stat().st_size <= 1_000_000 or "big" in path
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, json.dumps(list(jobs.values()))],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert len(lines) == len(jobs), result.stdout
    return {name: json.loads(line) for name, line in zip(jobs, lines, strict=True)}


def test_fixture_files_are_what_the_generator_writes() -> None:
    for name, document in drift_fixtures.fixtures().items():
        assert (FIXTURE_DIR / name).read_text(encoding="utf-8") == drift_fixtures.render(document)
    assert set(BOUNDED) >= set(drift_fixtures.fixtures())


@pytest.mark.parametrize("name", BOUNDED)
def test_document_is_refused_or_compared_within_the_bounds(
    name: str, measured: dict[str, dict[str, Any]]
) -> None:
    headline, reason = BOUNDED[name]
    figures = measured[name]
    assert figures["headline"] == headline, figures
    if headline == "unknown":
        assert reason in figures["error"], figures
    else:
        assert figures["error"] is None
    assert figures["seconds"] < SECONDS_BOUND, figures
    assert figures["peak_mb"] < PEAK_MB_BOUND, figures


def test_under_the_budget_every_changed_copy_is_reported(
    measured: dict[str, dict[str, Any]],
) -> None:
    # Compared, not refused: the leaf changed once and is used 10^4 times.
    assert measured["fan-out-under-the-budget.json vs changed"]["changes"] == 10_000
    # Values dropped at the start of the list and added at its end, each one change.
    enums = [
        _param(drift_fixtures.large_enum(load_pinned(), first=first), "/webhooks", "get", "status")
        for first in (0, 7)
    ]
    old, new = (set(param["schema"]["enum"]) for param in enums)
    assert measured["large-enum-1mb.json vs shifted"]["changes"] == len(old ^ new) > 7
