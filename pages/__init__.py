"""The dashboard's pages, one module each; `_shared` holds the Streamlit glue they share."""
