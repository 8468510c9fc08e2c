"""Small layout pieces several pages share: tabs named in the URL, a link to a patient, the
question a disconnect asks."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from medblocks.dashboard.row_actions import Disconnect
from ui_pages import _audit, _errors, _query, _target


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


def confirm_disconnect(
    disconnect: Disconnect,
    patient_id: str,
    connection_id: str | None,
    *,
    view: str,
    key: str,
    reread: Callable[[], None],
) -> None:
    """While `disconnect` awaits `connection_id`: the warning and "Yes, disconnect" (button
    `key`); pressed, one audited disconnect (recorded with `view`), then `reread` and the page
    drawn again, or the failure shown. Nothing is sent before the press, nor retried after."""
    if connection_id is None or not disconnect.awaits(connection_id):
        return
    st.warning("The patient's hospital access ends for this organisation. This cannot be undone.")
    if st.button("Yes, disconnect", key=key, type="primary"):
        failure = disconnect.confirm(
            lambda: _audit.act(
                "disconnect",
                _target.client().patients.disconnect,
                patient_id,
                connection_id,
                target=connection_id,
                patient_id=patient_id,
                view=view,
            ),
            reread,
        )
        if failure is not None:
            _errors.show_problem(failure, "Disconnecting")
        else:
            st.rerun()  # drawn again with the connection disconnected
