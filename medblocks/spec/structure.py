"""Structural equality of two OpenAPI documents.

"Structure" is everything but prose: both documents are dereferenced (by the bounded
`references.dereference`, which refuses with a `SpecError` a document whose `$ref`s fan out or
nest too deep) and the annotation keywords `description`, `summary`, `example` and `examples`
are set aside wherever they are keywords. They are kept where they are data, such as a schema
property that happens to be called `description`.
"""

from __future__ import annotations

from typing import Any

from medblocks.spec.document import Document
from medblocks.spec.references import dereference

PROSE_KEYS = frozenset({"description", "summary", "example", "examples"})
# Mappings whose keys are names chosen by the API author, never keywords.
NAME_MAPS = frozenset(
    {"properties", "patternProperties", "$defs", "definitions", "paths", "callbacks", "headers"}
)


def structural_view(document: Document) -> Any:
    """The dereferenced document without prose keys: what two equal APIs share exactly."""

    def strip(node: Any, names: bool) -> Any:
        if isinstance(node, dict):
            return {
                key: strip(value, key in NAME_MAPS and not names)
                if isinstance(value, (dict, list))
                else value
                for key, value in node.items()
                if names or key not in PROSE_KEYS
            }
        if isinstance(node, list):
            return [strip(item, False) if isinstance(item, (dict, list)) else item for item in node]
        return node

    view = strip(dereference(document), False)
    # Reusable components are compared where they are used, not where they are stored.
    components = view.pop("components", None)
    security_schemes = components.get("securitySchemes") if isinstance(components, dict) else None
    view["securitySchemes"] = security_schemes or {}
    return view


def structural_differences(expected: Document, actual: Document, limit: int = 50) -> list[str]:
    """Human-readable differences between two documents' structure, as JSON-pointer-like paths."""
    found: list[str] = []

    def compare(a: Any, b: Any, where: str) -> None:
        if len(found) >= limit:
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b), key=str):
                here = f"{where}/{key}"
                if key not in b:
                    found.append(f"{here}: missing")
                elif key not in a:
                    found.append(f"{here}: unexpected")
                else:
                    compare(a[key], b[key], here)
        elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for index, (x, y) in enumerate(zip(a, b, strict=True)):
                compare(x, y, f"{where}/{index}")
        elif a != b or type(a) is not type(b):
            found.append(f"{where or '/'}: expected {a!r}, found {b!r}")

    compare(structural_view(expected), structural_view(actual), "")
    return found
