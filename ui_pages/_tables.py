"""Streamlit glue for the tables of `medblocks.dashboard.tables`: column labels in words,
links, and long text wrapped into a column of its own width."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from medblocks.dashboard.bidi import visible_frame
from medblocks.dashboard.tables import LABELS, PATIENT_LINK_TEXT, csv_text
from ui_pages import _audit, _reveal

LONG_TEXT = ("tell_patient", "what_happened", "who_acts")
WIDTHS = {  # pixels: wide enough for the values they hold, so nothing is cut
    "patient_link": 120,
    "patient_id": 120,
    "source": 190,
    "status": 115,
    "failing_since": 165,
    "updated": 165,
    "created": 165,
    "id": 230,
}


def column_config(columns: list[str]) -> dict[str, Any]:
    """A label in words for each column; patient and hosted links as links; long text wide."""
    config: dict[str, Any] = {}
    for column in columns:
        label = LABELS.get(column, column.replace("_", " ").capitalize())
        if column == "patient_link":
            config[column] = st.column_config.LinkColumn(
                label, display_text=PATIENT_LINK_TEXT, width=WIDTHS[column]
            )
        elif column == "hosted_url":
            config[column] = st.column_config.LinkColumn(label, width="medium")
        elif column in LONG_TEXT:
            config[column] = st.column_config.TextColumn(label, width=360)
        else:
            config[column] = st.column_config.Column(label, width=WIDTHS.get(column))
    return config


def show(frame: pd.DataFrame, columns: list[str], **kwargs: Any) -> Any:
    """`frame[columns]` with labels in words, no index, bidirectional controls shown."""
    return st.dataframe(
        visible_frame(frame[columns]),
        hide_index=True,
        column_config=column_config(columns),
        **kwargs,
    )


def download(frame: pd.DataFrame, file_name: str, key: str) -> None:
    """The CSV of the table as shown (labels in words, same rounding). Pressing the button is
    audited (who, which file, how many rows, masked or revealed) by its `on_click` callback,
    which Streamlit runs on the server as the browser saves the file."""
    st.download_button(
        "Download CSV",
        csv_text(frame),
        file_name=file_name,
        mime="text/csv",
        key=key,
        on_click=_audit.record_export,
        args=(file_name, len(frame), _reveal.reveal()),
    )
