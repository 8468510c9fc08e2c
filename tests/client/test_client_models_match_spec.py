"""Each model against its schema in the pinned spec: field names, required, nullability, enums
(and consts). A change to the spec's objects makes this fail until the models follow."""

from __future__ import annotations

import types
import typing
from typing import Any

import pytest
from pydantic import BaseModel

from medblocks.client import models as m
from medblocks.client.models import OpenEnum, RequestBody
from medblocks.spec import dereferenced_pinned

SPEC = dereferenced_pinned()
SCHEMAS = SPEC["components"]["schemas"]


def ok_schema(path: str, method: str = "get") -> dict[str, Any]:
    return SPEC["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]


def body_schema(path: str, method: str) -> dict[str, Any]:
    return SPEC["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]


def item(schema: dict[str, Any], name: str) -> dict[str, Any]:
    prop = schema["properties"][name]
    return prop["items"] if prop.get("type") == "array" else prop


MODEL_SCHEMAS: list[tuple[type[BaseModel], dict[str, Any]]] = [
    (m.Health, ok_schema("/health")),
    (m.Patient, SCHEMAS["Patient"]),
    (m.PatientDetail, SCHEMAS["PatientDetail"]),
    (m.PatientConnection, item(SCHEMAS["PatientDetail"], "connections")),
    (m.PatientDeleted, SCHEMAS["PatientDeleted"]),
    (m.ConnectionDisconnected, SCHEMAS["ConnectionDisconnected"]),
    (m.PatientSession, SCHEMAS["PatientSession"]),
    (m.SessionConnection, item(SCHEMAS["PatientSession"], "connections")),
    (m.PatientRecords, SCHEMAS["PatientRecords"]),
    (m.PatientRecord, item(SCHEMAS["PatientRecords"], "data")),
    (m.FhirResource, item(SCHEMAS["PatientRecords"], "data")["properties"]["resource"]),
    (m.FhirSource, SCHEMAS["FhirSource"]),
    (m.LaunchContext, ok_schema("/launch-contexts/{id}")),
    (m.WebhookEndpoint, SCHEMAS["WebhookEndpoint"]),
    (m.WebhookEndpointWithSecret, SCHEMAS["WebhookEndpointWithSecret"]),
    (m.WebhookEndpointDeleted, SCHEMAS["WebhookEndpointDeleted"]),
    (m.WebhookEvent, SCHEMAS["WebhookEvent"]),
    (m.WebhookEventData, SCHEMAS["WebhookEvent"]["properties"]["data"]),
    (m.ErrorEnvelope, SCHEMAS["ErrorEnvelope"]),
    (m.ErrorDetail, SCHEMAS["ErrorEnvelope"]["properties"]["error"]),
    (m.Page[m.Patient], ok_schema("/patients")),
    (m.Page[m.PatientSession], ok_schema("/patients/{id}/patient-sessions")),
    (m.Page[m.FhirSource], ok_schema("/connections")),
    (m.Page[m.WebhookEndpoint], ok_schema("/webhooks")),
    (m.Page[m.WebhookEvent], ok_schema("/webhooks/{id}/events")),
    (m.PatientCreateInput, SCHEMAS["PatientCreateInput"]),
    (m.PatientReplaceInput, SCHEMAS["PatientReplaceInput"]),
    (m.PatientReplaceInput, body_schema("/patients/{id}", "put")),
    (m.PatientSessionInitInput, SCHEMAS["PatientSessionInitInput"]),
    (m.WebhookEndpointCreateInput, SCHEMAS["WebhookEndpointCreateInput"]),
    (m.WebhookEndpointUpdateInput, SCHEMAS["WebhookEndpointUpdateInput"]),
    (m.WebhookEndpointUpdateInput, body_schema("/webhooks/{id}", "patch")),
]


def spec_nullable(prop: dict[str, Any]) -> bool:
    return prop == {} or any(alt.get("type") == "null" for alt in prop.get("anyOf", []))


def spec_values(prop: dict[str, Any]) -> set[Any] | None:
    """Enum and const values a property (or its array items, or its anyOf members) allows."""
    if prop.get("type") == "array":
        return spec_values(prop.get("items", {}))
    found: set[Any] = set()
    for node in [prop, *prop.get("anyOf", [])]:
        found.update(node.get("enum", []))
        if "const" in node:
            found.add(node["const"])
    return found or None


def strip_optional(annotation: Any) -> tuple[Any, bool]:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return (rest[0] if len(rest) == 1 else typing.Union[tuple(rest)]), True  # noqa: UP007
    return annotation, annotation is Any


def model_values(field: Any) -> set[Any] | None:
    annotation, _ = strip_optional(field.annotation)
    for meta in field.metadata:
        if isinstance(meta, OpenEnum):
            return set(meta.values)
    if typing.get_origin(annotation) is list:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) is typing.Annotated:
        for meta in typing.get_args(annotation)[1:]:
            if isinstance(meta, OpenEnum):
                return set(meta.values)
    if typing.get_origin(annotation) is typing.Literal:
        return set(typing.get_args(annotation))
    return None


CASES = [pytest.param(model, schema, id=model.__name__) for model, schema in MODEL_SCHEMAS]


@pytest.mark.parametrize(("model", "schema"), CASES)
def test_field_names_match(model: type[BaseModel], schema: dict[str, Any]) -> None:
    assert set(model.model_fields) == set(schema["properties"])


@pytest.mark.parametrize(("model", "schema"), CASES)
def test_required_fields_match(model: type[BaseModel], schema: dict[str, Any]) -> None:
    required = {name for name, field in model.model_fields.items() if field.is_required()}
    assert required == set(schema.get("required", []))


@pytest.mark.parametrize(("model", "schema"), CASES)
def test_nullability_matches(model: type[BaseModel], schema: dict[str, Any]) -> None:
    required = set(schema.get("required", []))
    for name, field in model.model_fields.items():
        _, accepts_none = strip_optional(field.annotation)
        prop = schema["properties"][name]
        if name in required:
            assert accepts_none == spec_nullable(prop), name
        elif issubclass(model, RequestBody):
            # Optional body fields take None for "left out"; only `nullable` ones send null.
            assert (name in model.nullable) == spec_nullable(prop), name
        else:
            assert field.default is None, name


@pytest.mark.parametrize(("model", "schema"), CASES)
def test_enums_and_consts_match(model: type[BaseModel], schema: dict[str, Any]) -> None:
    for name, field in model.model_fields.items():
        assert model_values(field) == spec_values(schema["properties"][name]), name


def test_every_component_schema_has_a_model() -> None:
    covered = {id(schema) for _, schema in MODEL_SCHEMAS}
    assert [name for name, schema in SCHEMAS.items() if id(schema) not in covered] == []


def test_a_changed_spec_fails_the_comparison() -> None:
    """The checks above notice a change: a new enum value, a dropped `required`, a new field."""
    changed = dereferenced_pinned()["components"]["schemas"]["PatientSession"]
    changed["properties"]["status"]["enum"].append("cancelled")
    assert model_values(m.PatientSession.model_fields["status"]) != spec_values(
        changed["properties"]["status"]
    )
    changed["required"].remove("url")
    assert {n for n, f in m.PatientSession.model_fields.items() if f.is_required()} != set(
        changed["required"]
    )
