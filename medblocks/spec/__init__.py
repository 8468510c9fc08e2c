"""The pinned Medblocks OpenAPI description and the tools that read it."""

from medblocks.spec.document import (
    OVERLAY_PATH,
    PINNED_LABEL,
    PINNED_PATH,
    dereferenced_pinned,
    load_overlay,
    load_pinned,
    parse_document,
    pinned_version,
    read_document,
)
from medblocks.spec.errors import SpecError
from medblocks.spec.references import dereference
from medblocks.spec.structure import structural_differences, structural_view

__all__ = [
    "OVERLAY_PATH",
    "PINNED_LABEL",
    "PINNED_PATH",
    "SpecError",
    "dereference",
    "dereferenced_pinned",
    "load_overlay",
    "load_pinned",
    "parse_document",
    "pinned_version",
    "read_document",
    "structural_differences",
    "structural_view",
]
