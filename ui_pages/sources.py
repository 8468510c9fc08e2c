"""Sources: the FHIR source catalog with the API's `q` and vendor filters, logos, portal links."""

from __future__ import annotations

import streamlit as st

from ui_pages import _errors, _query, _reads

st.title("Sources")
cols = st.columns(2)
q = cols[0].text_input("Name contains", value=_query.text("q"))
vendor = cols[1].text_input("Vendor (epic, cerner, …)", value=_query.text("vendor"))
_query.keep_in_query("q", q.strip())
_query.keep_in_query("vendor", vendor.strip())

frame = _errors.attempt("Reading the catalog", _reads.sources, q.strip(), vendor.strip())
if frame is not None:
    st.caption(f"{len(frame)} sources")
    st.dataframe(
        frame[["logo_url", "name", "type", "id", "fhir_base_url", "portal_url"]],
        hide_index=True,
        column_config={
            "logo_url": st.column_config.ImageColumn("logo"),
            "portal_url": st.column_config.LinkColumn("patient portal"),
        },
    )
