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

from medblocks.spec.errors import SpecError
from medblocks.spec.references import dereference

SPEC_DIR = Path(__file__).resolve().parent
PINNED_PATH = SPEC_DIR / "medblocks.json"
OVERLAY_PATH = SPEC_DIR / "overlay.json"
# How reports name the pinned document: its path from the repository root.
PINNED_LABEL = f"pinned {PINNED_PATH.relative_to(SPEC_DIR.parents[1]).as_posix()}"
MAX_DOCUMENT_BYTES = 2 * 1024 * 1024  # the pinned document is 50 KB

Document = dict[str, Any]


def parse_document(raw: bytes, source: str) -> Document:
    """Parse the bytes of a JSON OpenAPI document read from `source` (a path or URL, for the
    message); `SpecError` says what is wrong. Larger than `MAX_DOCUMENT_BYTES` is refused
    before parsing, so what a comparison holds in memory stays bounded."""
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise SpecError(
            f"{source}: larger than the {MAX_DOCUMENT_BYTES:,} bytes a document may have; "
            "refused, not compared"
        )
    try:
        document = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SpecError(f"{source}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    except UnicodeDecodeError as exc:
        raise SpecError(f"{source}: not UTF-8 text") from exc
    except RecursionError as exc:
        raise SpecError(f"{source}: JSON nested too deeply to read") from exc
    if not isinstance(document, dict) or "paths" not in document:
        raise SpecError(f"{source}: not an OpenAPI document (no 'paths')")
    return document


def read_document(path: Path | str) -> Document:
    """Read a JSON OpenAPI document from disk, with a specific error when it cannot be used."""
    path = Path(path)
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_DOCUMENT_BYTES + 1)
    except FileNotFoundError as exc:
        raise SpecError(f"{path}: no such file") from exc
    except OSError as exc:
        raise SpecError(f"{path}: cannot be read ({exc.strerror})") from exc
    return parse_document(raw, str(path))


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
    """The pinned document with every local `$ref` replaced by its target (a private copy);
    inlined by `references.dereference`, the same bounded dereferencer comparisons use."""
    return copy.deepcopy(_dereferenced_pinned())


def load_overlay() -> Document:
    """The harness overlay: `links` per operation, keyed by operationId and status code."""
    return json.loads(OVERLAY_PATH.read_text(encoding="utf-8"))
