"""The FHIR source catalog: one row per source (only safe links and images), keyed by id or as a
table."""

from __future__ import annotations

from typing import Any

import pandas as pd

from medblocks.client import Medblocks
from medblocks.dashboard.links import safe_image, safe_link

SOURCE_COLUMNS = ["id", "name", "type", "fhir_base_url", "logo_url", "portal_url"]


def source_row(source: Any) -> dict[str, Any]:
    return {
        "id": source.id,
        "name": source.name,
        "type": source.type,
        "fhir_base_url": source.fhir_base_url,
        "logo_url": safe_image(source.logo_url),
        "portal_url": safe_link(source.portal_url),
    }


def sources_by_id(client: Medblocks) -> dict[str, dict[str, Any]]:
    """The catalog keyed by `fhirsrc_` id: name, type, logo, portal link."""
    return {s.id: source_row(s) for s in client.sources.list()}


def sources_frame(client: Medblocks, *, q: str = "", vendor: str = "") -> pd.DataFrame:
    """The catalog as a table, narrowed by the API's `q` (name) and `type` (vendor) filters."""
    rows = [source_row(s) for s in client.sources.list(q=q or None, type=vendor or None)]
    return pd.DataFrame(rows, columns=SOURCE_COLUMNS)


def source_name(catalog: dict[str, dict[str, Any]], source_id: str) -> str:
    """A source's name from `sources_by_id`; the id itself when the catalog does not list it."""
    return catalog.get(source_id, {}).get("name", source_id)


def with_source_names(frame: pd.DataFrame, catalog: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """A copy of `frame` (a `source_id` column, empty for a picker session where no source was
    tried yet) with each row's `source` named from the catalog (None where none)."""
    return frame.assign(source=[source_name(catalog, s) if s else None for s in frame["source_id"]])
