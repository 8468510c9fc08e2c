"""The dashboard's pages, one module each; the `_` modules are the Streamlit glue they share
(`_access`, `_target`, `_audit`, `_reveal`, `_errors`, `_reads`, `_query`, `_layout`, `_mirror`,
`_tables`).

Not named `pages/`: Streamlit treats a `pages/` folder beside the entry file as a version-1
multipage app until `st.navigation` first runs in the process, so the first visit after a
start listed the folder's files and answered deep links with "Page not found".
"""
