"""The pinned document is valid and structurally equal to the published one (the oracle)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from medblocks.spec import (
    PINNED_PATH,
    SpecError,
    dereference,
    load_pinned,
    pinned_version,
    read_document,
    structural_differences,
)
from medblocks.spec.references import RECURSION_KEY
from tests import drift_fixtures

ORACLE = Path(__file__).resolve().parents[2] / "shared/upstream/medblocks-openapi-2026-04-25.json"


@pytest.fixture(scope="module")
def oracle() -> dict[str, Any]:
    if not ORACLE.is_file():
        pytest.skip(f"the published structure is not available at {ORACLE}")
    return read_document(ORACLE)


def test_pinned_document_is_valid_openapi() -> None:
    validate(read_document(PINNED_PATH))


def test_pinned_version_is_the_published_date() -> None:
    assert pinned_version() == "2026-04-25"


def test_pinned_document_has_all_22_operations() -> None:
    operations = [
        op["operationId"]
        for item in load_pinned()["paths"].values()
        for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    ]
    assert len(operations) == 22 == len(set(operations))
    assert all(op.startswith("api.") for op in operations)


def test_pinned_document_is_structurally_equal_to_the_oracle(oracle: dict[str, Any]) -> None:
    assert structural_differences(oracle, load_pinned()) == []


def test_pinned_prose_is_our_own(oracle: dict[str, Any]) -> None:
    # The oracle carries no prose; ours describes every operation in the project's words.
    for item in load_pinned()["paths"].values():
        for op in item.values():
            assert op["summary"] and op["description"]


def _operation(doc: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    return doc["paths"][path][method]


def _remove_operation(doc: dict[str, Any]) -> None:
    del doc["paths"]["/patients/{id}"]["delete"]


def _remove_enum_value(doc: dict[str, Any]) -> None:
    params = _operation(doc, "/patients/{id}/patient-sessions", "get")["parameters"]
    status = next(p for p in params if p.get("name") == "status")
    status["schema"]["enum"].remove("expired")


def _add_enum_value(doc: dict[str, Any]) -> None:
    params = _operation(doc, "/webhooks", "get")["parameters"]
    status = next(p for p in params if p.get("name") == "status")
    status["schema"]["enum"].append("paused")


def _change_required(doc: dict[str, Any]) -> None:
    doc["components"]["schemas"]["PatientCreateInput"]["required"] = []


def _change_parameter_location(doc: dict[str, Any]) -> None:
    params = _operation(doc, "/patients", "get")["parameters"]
    next(p for p in params if p.get("name") == "email")["in"] = "header"


def _drop_status_code(doc: dict[str, Any]) -> None:
    del _operation(doc, "/patient-sessions", "post")["responses"]["409"]


def _change_max_length(doc: dict[str, Any]) -> None:
    props = doc["components"]["schemas"]["PatientCreateInput"]["properties"]
    props["name"]["maxLength"] = 201


def _rename_schema_property_called_description(doc: dict[str, Any]) -> None:
    props = doc["components"]["schemas"]["WebhookEndpoint"]["properties"]
    props["summary"] = props.pop("description")


MUTATIONS: dict[str, Callable[[dict[str, Any]], None]] = {
    "operation removed": _remove_operation,
    "enum value removed": _remove_enum_value,
    "enum value added": _add_enum_value,
    "required entry changed": _change_required,
    "parameter location changed": _change_parameter_location,
    "status code dropped": _drop_status_code,
    "maxLength changed": _change_max_length,
    "property named like prose renamed": _rename_schema_property_called_description,
}


@pytest.mark.parametrize("mutate", MUTATIONS.values(), ids=MUTATIONS.keys())
def test_comparison_catches_a_single_changed_fact(
    oracle: dict[str, Any], mutate: Callable[[dict[str, Any]], None]
) -> None:
    copy_of_pinned = load_pinned()
    mutate(copy_of_pinned)
    differences = structural_differences(oracle, copy_of_pinned)
    assert differences, "the comparison missed a structural change"


def test_comparison_ignores_prose(oracle: dict[str, Any]) -> None:
    reworded = load_pinned()
    reworded["info"]["description"] = "something else entirely"
    _operation(reworded, "/health", "get")["summary"] = "Ping"
    assert structural_differences(oracle, reworded) == []


def test_dereference_inlines_references_and_refuses_loops() -> None:
    doc = {"a": {"$ref": "#/b"}, "b": {"type": "string"}}
    assert dereference(doc)["a"] == {"type": "string"}
    with pytest.raises(SpecError, match="reference cycle"):
        dereference({"a": {"$ref": "#/a"}})
    with pytest.raises(SpecError, match="reference cycle"):
        dereference({"a": {"$ref": "#/b"}, "b": {"$ref": "#/a"}})
    with pytest.raises(SpecError, match="dangling"):
        dereference({"a": {"$ref": "#/missing"}})


def test_siblings_of_a_reference_are_kept_over_the_target() -> None:
    doc = {"a": {"$ref": "#/b", "maxLength": 5}, "b": {"type": "string", "maxLength": 9}}
    assert dereference(doc)["a"] == {"type": "string", "maxLength": 5}


def test_a_recursive_schema_is_inlined_once_and_marked_where_it_recurs() -> None:
    schema = dereference(drift_fixtures.recursive())["paths"]["/health"]["get"]["responses"]
    node = schema["200"]["content"]["application/json"]["schema"]
    assert node["properties"]["label"] == {"type": "string"}
    # The back reference says "the schema one reference up", not its component name.
    assert node["properties"]["children"]["items"] == {RECURSION_KEY: 1}
    assert node["properties"]["parent"]["anyOf"] == [{RECURSION_KEY: 1}, {"type": "null"}]


def test_fan_out_past_the_node_budget_is_refused_saying_why() -> None:
    doc = drift_fixtures.fan_out(3)  # 10^3 leaves: 4.7k nodes copied in by references
    assert dereference(doc, max_inlined=10_000)
    with pytest.raises(SpecError, match=r"\$refs fan out: .* passes 1,000 nodes"):
        dereference(doc, max_inlined=1_000)


def test_the_documents_own_nodes_do_not_count_against_the_inlining_budget() -> None:
    # A long enum is large but copies nothing in.
    doc = {"paths": {}, "values": {"enum": list(range(5_000))}, "x": {"$ref": "#/y"}, "y": {}}
    assert dereference(doc, max_inlined=10)["values"]["enum"][-1] == 4_999


def test_nesting_past_the_depth_limit_is_refused_saying_why() -> None:
    doc = drift_fixtures.reference_chain(length=30)
    assert dereference(doc, max_depth=200)
    with pytest.raises(SpecError, match="nests deeper than 50 levels"):
        dereference(doc, max_depth=50)


def test_recursive_schemas_compare_by_shape_not_by_name() -> None:
    original = drift_fixtures.recursive()
    assert structural_differences(original, drift_fixtures.recursive(node="Tree")) == []
    changed = drift_fixtures.recursive(label_type="integer")
    schema = "/paths//health/get/responses/200/content/application/json/schema"
    assert structural_differences(original, changed) == [
        f"{schema}/properties/label/type: expected 'string', found 'integer'"
    ]


def test_read_document_says_what_is_wrong(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(SpecError, match="not valid JSON"):
        read_document(broken)
    with pytest.raises(SpecError, match="no such file"):
        read_document(tmp_path / "absent.json")
    other = tmp_path / "other.json"
    other.write_text('{"hello": 1}')
    with pytest.raises(SpecError, match="not an OpenAPI document"):
        read_document(other)


def test_load_pinned_returns_a_private_copy() -> None:
    first = load_pinned()
    first["paths"].clear()
    assert load_pinned()["paths"]
    assert copy.deepcopy(load_pinned()) == load_pinned()
