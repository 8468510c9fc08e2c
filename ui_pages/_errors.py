"""Failures on a page: one message with what failed and the request id; the page goes on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from medblocks.dashboard.error_messages import explain

T = TypeVar("T")


def show_problem(exc: BaseException, doing: str) -> None:
    """An upstream failure as a clear message with the request id; the page keeps going."""
    problem = explain(exc)
    st.error(f"{doing}: {problem.title}")
    st.text(problem.detail)
    st.text(problem.request_id_text)


def attempt(doing: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
    """Run one read or write; on any failure show it (with request id) and return None."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:
        show_problem(exc, doing)
        return None
