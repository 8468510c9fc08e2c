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


def test_dereference_inlines_references_and_refuses_cycles() -> None:
    doc = {"a": {"$ref": "#/b"}, "b": {"type": "string"}}
    assert dereference(doc)["a"] == {"type": "string"}
    with pytest.raises(SpecError, match="cycle"):
        dereference({"a": {"$ref": "#/a"}})
    with pytest.raises(SpecError, match="dangling"):
        dereference({"a": {"$ref": "#/missing"}})


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
