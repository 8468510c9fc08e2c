"""Hostile and recursive OpenAPI documents for the drift checker's bounds.

`python -m tests.drift_fixtures` (re)writes the small ones under `tests/fixtures/drift/`; a test
checks the files are what this module writes. The 1 MB documents are written by the tests
themselves (too big to keep).

* `fan-out-7-levels.json` (2.8 KB), `fan-out-13-levels.json` (5.1 KB): each schema an `allOf`
  of ten references to the next (10^levels copies inlined; before the bounds 2.6 KB of this
  cost 15 s and 1 GB, 5 KB exhausted memory).
* `cycle-fan-out.json`: ten schemas, each with a property referring to every one of them (a
  loop at every step, and 10! paths through it).
* `reference-loop.json`: `A -> B -> A`, references that never reach a schema.
* `reference-chain.json`: 400 schemas, each nesting the next (deeper than any stack should go).
* `recursive.json`: a legitimate recursive schema (a tree node), which must compare normally.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "drift"
VERSION = "2026-04-25"

Doc = dict[str, Any]


def ref(name: str) -> Doc:
    return {"$ref": f"#/components/schemas/{name}"}


def document(schemas: Doc, root: str, title: str) -> Doc:
    """A minimal valid OpenAPI 3.1 document with one operation answering schema `root`."""
    answer = {"description": "ok", "content": {"application/json": {"schema": ref(root)}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": VERSION},
        "paths": {"/health": {"get": {"operationId": "api.health", "responses": {"200": answer}}}},
        "components": {"schemas": schemas},
    }


def fan_out(levels: int, width: int = 10) -> Doc:
    schemas: Doc = {f"S{i}": {"allOf": [ref(f"S{i + 1}")] * width} for i in range(levels)}
    schemas[f"S{levels}"] = {"type": "string"}
    return document(schemas, "S0", "fan-out")


def cycle_fan_out(size: int = 10) -> Doc:
    properties = {f"p{j}": ref(f"C{j}") for j in range(size)}
    schemas = {f"C{i}": {"type": "object", "properties": properties} for i in range(size)}
    return document(schemas, "C0", "cycle fan-out")


def reference_loop() -> Doc:
    return document({"A": ref("B"), "B": ref("A")}, "A", "reference loop")


def reference_chain(length: int = 400) -> Doc:
    schemas: Doc = {
        f"N{i}": {"type": "object", "properties": {"next": ref(f"N{i + 1}")}} for i in range(length)
    }
    schemas[f"N{length}"] = {"type": "string"}
    return document(schemas, "N0", "reference chain")


def recursive(node: str = "TreeNode", label_type: str = "string") -> Doc:
    schemas = {
        node: {
            "type": "object",
            "required": ["label"],
            "properties": {
                "label": {"type": label_type},
                "children": {"type": "array", "items": ref(node)},
                "parent": {"anyOf": [ref(node), {"type": "null"}]},
            },
        }
    }
    return document(schemas, node, "recursive")


def padded_to(base: Doc, size: int, extra_path: Any) -> Doc:
    """`base` plus paths `/extra/0`, `/extra/1`, ... (each `extra_path(i)`) while the document
    stays within `size` bytes."""
    doc = json.loads(json.dumps(base))
    room = size - len(render(doc))
    index = 0
    while True:
        item = {f"/extra/{index}": extra_path(index)}
        cost = len(render(item))
        if cost > room:
            return doc
        doc["paths"].update(item)
        room -= cost
        index += 1


def large_with_prose(pinned: Doc, size: int = 1_000_000) -> Doc:
    """The pinned document padded to `size` with operations described at length (no `$ref`):
    large, as a real document grows, and to be compared, not refused."""

    def operation(index: int) -> Doc:
        schema = {"type": "object", "properties": {"id": {"type": "string"}}}
        return {
            "get": {
                "operationId": f"api.extra{index}",
                "description": "Reads one extra resource. " * 20,
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {"application/json": {"schema": schema}},
                    }
                },
            }
        }

    return padded_to(pinned, size, operation)


def large_with_shared_refs(pinned: Doc, size: int = 1_000_000) -> Doc:
    """The pinned document padded to `size` with operations all answering the largest pinned
    schema by reference: each reference is small, their inlined total is not."""

    def operation(index: int) -> Doc:
        schema = {"$ref": "#/components/schemas/PatientDetail"}
        return {
            "get": {"responses": {"200": {"content": {"application/json": {"schema": schema}}}}}
        }

    return padded_to(pinned, size, operation)


def large_enum(pinned: Doc, size: int = 1_000_000, first: int = 0) -> Doc:
    """The pinned document with the `status` filter of `GET /webhooks` allowing the values
    `v{first}`, `v{first + 1}`, ... as many as fit in `size` bytes (comparing two such lists
    pairwise would take minutes)."""
    doc = json.loads(json.dumps(pinned))
    parameters = doc["paths"]["/webhooks"]["get"]["parameters"]
    schema = next(p for p in parameters if p.get("name") == "status")["schema"]
    values_size = size - len(render(doc)) + len(json.dumps(schema["enum"]))
    schema["enum"] = []
    room, index = values_size - 2, first
    while (cost := len(json.dumps(f"v{index}")) + 1) <= room:
        schema["enum"].append(f"v{index}")
        room -= cost
        index += 1
    return doc


def nested_too_deeply(size: int = 1_000_000) -> str:
    """JSON text of `size` bytes: one array nested as deep as the bytes allow."""
    prefix, suffix = '{"paths":{},"x":', "}"
    depth = (size - len(prefix) - len(suffix)) // 2
    return prefix + "[" * depth + "]" * depth + suffix


def fixtures() -> dict[str, Doc]:
    return {
        "fan-out-7-levels.json": fan_out(7),
        "fan-out-13-levels.json": fan_out(13),
        "cycle-fan-out.json": cycle_fan_out(),
        "reference-loop.json": reference_loop(),
        "reference-chain.json": reference_chain(),
        "recursive.json": recursive(),
    }


def render(doc: Doc) -> str:
    return json.dumps(doc, separators=(",", ":")) + "\n"


def main() -> None:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    for name, doc in fixtures().items():
        (FIXTURES / name).write_text(render(doc), encoding="utf-8")


if __name__ == "__main__":
    main()
