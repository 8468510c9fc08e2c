"""Streamlit glue for values in the URL: read through `medblocks.dashboard.url_values.read_param`
(a value the page does not take is named in a notice and ignored, so no link crashes a page),
and filters written back so a view can be shared."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from medblocks.dashboard.url_values import Choices, Read, Rule, Text, read_param


def param(name: str, rule: Rule) -> Read:
    """The URL's usable values of `name` under `rule`; a notice for the others."""
    read = read_param(name, st.query_params.get_all(name), rule)
    if read.notice:
        st.warning("This page's link holds a value it does not offer; it is ignored.")
        st.text(read.notice)  # URL text: shown as text, never markdown
    return read


def choices(name: str, options: Sequence[str]) -> list[str]:
    """The URL's values of `name` that are among `options` (a notice for the others)."""
    return list(param(name, Choices(options)).values)


def choice(name: str, options: Sequence[str]) -> str | None:
    """The URL's value of `name` when it is among `options`; None (with a notice) otherwise."""
    return param(name, Choices(options)).first


def choice_index(name: str, options: Sequence[str]) -> int | None:
    """Where the URL's value of `name` stands among `options` (a selectbox's `index`); None
    when there is none or it is not among them (with a notice)."""
    chosen = choice(name, options)
    return None if chosen is None else list(options).index(chosen)


def text(name: str) -> str:
    """The URL's free-text value of `name` ("" when there is none or it is not usable)."""
    return param(name, Text()).first or ""


def keep_in_query(name: str, value: str | list[str] | None) -> None:
    """Store a filter in the URL so the view can be shared; empty values are removed."""
    if value in (None, "", []):
        if name in st.query_params:
            del st.query_params[name]
    elif st.query_params.get_all(name) != (value if isinstance(value, list) else [value]):
        st.query_params[name] = value
