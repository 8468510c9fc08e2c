"""Load, validate and dereference the pinned Medblocks OpenAPI description.

The pinned document (`medblocks.json` beside this module) is the one description of the API
that the client, the sandbox and the contract suite share. `overlay.json` holds what the
harness needs but Medblocks does not publish (OpenAPI links for stateful testing); it is never
merged into the pinned document on disk.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from openapi_spec_validator import validate

SPEC_DIR = Path(__file__).resolve().parent
PINNED_PATH = SPEC_DIR / "medblocks.json"
OVERLAY_PATH = SPEC_DIR / "overlay.json"

Document = dict[str, Any]


class SpecError(ValueError):
    """A document that is not a usable OpenAPI description."""


def read_document(path: Path | str) -> Document:
    """Read a JSON OpenAPI document from disk, with a specific error when it cannot be used."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SpecError(f"{path}: no such file") from exc
    except json.JSONDecodeError as exc:
        raise SpecError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(document, dict) or "paths" not in document:
        raise SpecError(f"{path}: not an OpenAPI document (no 'paths')")
    return document


@lru_cache(maxsize=1)
def _pinned() -> Document:
    document = read_document(PINNED_PATH)
    validate(document)
    return document


def load_pinned() -> Document:
    """The pinned document, validated once per process. Callers get their own copy."""
    return copy.deepcopy(_pinned())


def pinned_version() -> str:
    """`info.version` of the pinned document: the default `Version` header."""
    return str(_pinned()["info"]["version"])


@lru_cache(maxsize=1)
def _dereferenced_pinned() -> Document:
    return dereference(_pinned())


def dereferenced_pinned() -> Document:
    """The pinned document with every local `$ref` replaced by its target (a private copy)."""
    return copy.deepcopy(_dereferenced_pinned())


def load_overlay() -> Document:
    """The harness overlay: `links` per operation, keyed by operationId and status code."""
    return json.loads(OVERLAY_PATH.read_text(encoding="utf-8"))


def resolve_pointer(document: Document, ref: str) -> Any:
    """Follow a local JSON pointer such as `#/components/schemas/Patient`."""
    if not ref.startswith("#/"):
        raise SpecError(f"only local references are supported, got {ref!r}")
    node: Any = document
    for raw in ref[2:].split("/"):
        key = raw.replace("~1", "/").replace("~0", "~")
        try:
            node = node[key]
        except (KeyError, TypeError) as exc:
            raise SpecError(f"dangling reference {ref!r}") from exc
    return node


def dereference(document: Document) -> Document:
    """A copy of `document` with every local `$ref` inlined (siblings of `$ref` are kept).

    Written by hand because the documents here only use local pointers and the comparison
    needs plain dicts; a cycle raises `SpecError` instead of recursing forever.
    """

    def walk(node: Any, trail: tuple[str, ...]) -> Any:
        if isinstance(node, dict):
            if "$ref" in node and isinstance(node["$ref"], str):
                ref = node["$ref"]
                if ref in trail:
                    raise SpecError(f"reference cycle through {ref!r}")
                target = walk(resolve_pointer(document, ref), (*trail, ref))
                siblings = {k: walk(v, trail) for k, v in node.items() if k != "$ref"}
                return {**target, **siblings} if isinstance(target, dict) else target
            return {k: walk(v, trail) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(item, trail) for item in node]
        return node

    return walk(document, ())
