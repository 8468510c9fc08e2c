"""Small layout pieces several pages share: tabs named in the URL, a link to a patient."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from ui_pages import _query


def lazy_tabs(key: str, views: dict[str, Callable[[], None]]) -> None:
    """Tabs of which only the open one runs its view, named in the URL as `key` (so the view a
    link names is the one it opens; an unknown name is said so and opens the first tab)."""
    _query.choices(key, list(views))
    for tab, draw in zip(
        st.tabs(list(views), key=key, bind="query-params"), views.values(), strict=True
    ):
        if tab.open:
            with tab:
                draw()


def patient_page_link(patient_id: str) -> None:
    """A link to the Patients page opened on this patient."""
    st.page_link(
        "ui_pages/patients.py",
        label="Open the patient",
        query_params={"patient_id": patient_id, "open": patient_id},
    )
