"""Request validation driven by the pinned spec, compiled once when the app starts.

Every operation of `medblocks.json` becomes an `Operation`: its path template split into
segments, one precompiled Draft 2020-12 validator (with format checking) per query/path
parameter and one for the body. Nothing here reads the spec per request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match

from medblocks.sandbox.errors import invalid_data

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
INTEGER_TEXT = re.compile(r"^-?[0-9]{1,18}$")
FORMAT_CHECKER = FormatChecker(["email", "uri", "date-time", "date", "uuid"])


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str
    required: bool
    allow_empty: bool
    is_integer: bool
    validator: Draft202012Validator


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    template: str
    path_params: tuple[Parameter, ...]
    query_params: tuple[Parameter, ...]
    declares_version: bool
    body_validator: Draft202012Validator | None
    body_required: bool


@dataclass
class PathEntry:
    """One path template of the spec and the operations declared on it, by upper-case method."""

    template: str
    segments: tuple[str | None, ...]
    param_names: tuple[str, ...]
    operations: dict[str, Operation] = field(default_factory=dict)

    @property
    def allow(self) -> str:
        return ", ".join(sorted(self.operations))


def _validator(schema: Mapping[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(schema, format_checker=FORMAT_CHECKER)


def _is_integer_schema(schema: Mapping[str, Any]) -> bool:
    return schema.get("type") == "integer"


def _parameter(raw: Mapping[str, Any]) -> Parameter:
    schema = raw.get("schema", {})
    return Parameter(
        name=raw["name"],
        location=raw["in"],
        required=bool(raw.get("required", False)),
        allow_empty=bool(raw.get("allowEmptyValue", False)),
        is_integer=_is_integer_schema(schema),
        validator=_validator(schema),
    )


def compile_spec(document: Mapping[str, Any]) -> list[PathEntry]:
    """Compile a dereferenced OpenAPI document into path entries, literal paths first."""
    entries: list[PathEntry] = []
    for template, item in document["paths"].items():
        parts = template.strip("/").split("/")
        segments = tuple(
            None if part.startswith("{") and part.endswith("}") else part for part in parts
        )
        names = tuple(part[1:-1] for part in parts if part.startswith("{"))
        entry = PathEntry(template=template, segments=segments, param_names=names)
        shared = item.get("parameters", [])
        for method in HTTP_METHODS:
            raw_op = item.get(method)
            if raw_op is None:
                continue
            params = [_parameter(p) for p in [*shared, *raw_op.get("parameters", [])]]
            body = raw_op.get("requestBody")
            body_schema = None
            if body is not None:
                body_schema = body.get("content", {}).get("application/json", {}).get("schema")
            entry.operations[method.upper()] = Operation(
                operation_id=raw_op["operationId"],
                method=method.upper(),
                template=template,
                path_params=tuple(p for p in params if p.location == "path"),
                query_params=tuple(p for p in params if p.location == "query"),
                declares_version=any(
                    p.location == "header" and p.name == "Version" for p in params
                ),
                body_validator=None if body_schema is None else _validator(body_schema),
                body_required=bool(body and body.get("required", False)),
            )
        entries.append(entry)
    # A literal segment beats a parameter at the same position.
    entries.sort(key=lambda e: tuple(0 if s is not None else 1 for s in e.segments))
    return entries


def match_path(entries: list[PathEntry], raw_path: str) -> tuple[PathEntry, dict[str, str]] | None:
    """The entry whose template matches the still-encoded path, and its decoded parameters.

    Matching works on raw segments, so an encoded `/` (`%2F`) stays inside one parameter, as
    a `fhir_base_url` passed as `GET /connections/{id}` needs.
    """
    if not raw_path.startswith("/"):
        return None
    parts = raw_path[1:].split("/")
    for entry in entries:
        if len(parts) != len(entry.segments):
            continue
        values: list[str] = []
        for part, segment in zip(parts, entry.segments, strict=True):
            if segment is None:
                if not part:
                    break
                values.append(unquote(part, errors="replace"))
            elif part != segment:
                break
        else:
            return entry, dict(zip(entry.param_names, values, strict=True))
    return None


def _message(error: ValidationError, param: str | None) -> str:
    """A message naming the rule broken, never echoing the value sent (it may be PHI)."""
    subject = param or "The request body"
    rule, value = error.validator, error.validator_value
    if rule == "required":
        return f"{subject} is required."
    if rule == "additionalProperties":
        return f"{subject} is not an accepted field."
    if rule == "type":
        return f"{subject} must be of type {value}."
    if rule == "format":
        return f"{subject} must be a valid {value}."
    if rule in ("enum", "const"):
        allowed = value if rule == "enum" else [value]
        return f"{subject} must be one of {', '.join(json.dumps(v) for v in allowed)}."
    if rule in ("minLength", "maxLength"):
        bound = "at least" if rule == "minLength" else "at most"
        return f"{subject} must be {bound} {value} characters long."
    if rule in ("minimum", "maximum"):
        bound = "at least" if rule == "minimum" else "at most"
        return f"{subject} must be {bound} {value}."
    if rule in ("minItems", "maxItems"):
        bound = "at least" if rule == "minItems" else "at most"
        return f"{subject} must have {bound} {value} items."
    return f"{subject} is not valid ({rule})."


def _body_error_param(error: ValidationError) -> str | None:
    """The top-level body field an error is about."""
    path = list(error.absolute_path)
    if path:
        return str(path[0])
    instance = error.instance
    if error.validator == "required" and isinstance(instance, dict):
        missing = [name for name in error.validator_value if name not in instance]
        return missing[0] if missing else None
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        known = set(error.schema.get("properties", {}))
        extra = sorted(name for name in instance if name not in known)
        return extra[0] if extra else None
    return None


def validate_body(operation: Operation, body: Any) -> None:
    """Raise 400 `invalid_data` naming the field when `body` breaks the operation's schema."""
    if operation.body_validator is not None:
        check_body(operation.body_validator, body)


def check_body(validator: Draft202012Validator, body: Any) -> None:
    """Raise 400 `invalid_data` naming the top-level field when `body` breaks the schema."""
    error = best_match(validator.iter_errors(body))
    if error is not None:
        param = _body_error_param(error)
        raise invalid_data(_message(error, param), param)


def coerce_parameters(params: tuple[Parameter, ...], raw: Mapping[str, str]) -> dict[str, Any]:
    """Coerce raw strings per schema and validate them; absent (or allowed-empty) means unset."""
    values: dict[str, Any] = {}
    for param in params:
        text = raw.get(param.name)
        if text is None or (text == "" and param.allow_empty):
            if param.required:
                raise invalid_data(f"{param.name} is required.", param.name)
            default = param.validator.schema.get("default")
            if default is not None:
                values[param.name] = default
            continue
        value: Any = text
        if param.is_integer:
            if not INTEGER_TEXT.match(text):
                raise invalid_data(f"{param.name} must be an integer.", param.name)
            value = int(text)
        error = best_match(param.validator.iter_errors(value))
        if error is not None:
            raise invalid_data(_message(error, param.name), param.name)
        values[param.name] = value
    return values
