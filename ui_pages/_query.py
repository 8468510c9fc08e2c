"""Streamlit glue for filters read from the URL (`medblocks.dashboard.url_values`): a value
the page does not offer is named in a notice and ignored, so no link crashes a page."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from medblocks.dashboard.url_values import split_known, unknown_notice


def _notice(name: str, unknown: Sequence[str], options: Sequence[str]) -> None:
    st.warning("This page's link holds a value it does not offer; it is ignored.")
    st.text(unknown_notice(name, unknown, options))  # URL text: shown as text, never markdown


def choices(name: str, options: Sequence[str]) -> list[str]:
    """The URL's values of `name` that are among `options` (a notice for the others)."""
    known, unknown = split_known([v for v in st.query_params.get_all(name) if v], options)
    if unknown:
        _notice(name, unknown, options)
    return known


def choice(name: str, options: Sequence[str]) -> str | None:
    """The URL's value of `name` when it is among `options`; None (with a notice) otherwise."""
    value = st.query_params.get(name)
    if not value:
        return None
    if value not in options:
        _notice(name, [value], options)
        return None
    return value
