"""The pinned Medblocks OpenAPI description and the tools that read it."""

from medblocks.spec.document import (
    OVERLAY_PATH,
    PINNED_PATH,
    SpecError,
    dereference,
    dereferenced_pinned,
    load_overlay,
    load_pinned,
    pinned_version,
    read_document,
)
from medblocks.spec.structure import structural_differences, structural_view

__all__ = [
    "OVERLAY_PATH",
    "PINNED_PATH",
    "SpecError",
    "dereference",
    "dereferenced_pinned",
    "load_overlay",
    "load_pinned",
    "pinned_version",
    "read_document",
    "structural_differences",
    "structural_view",
]
