"""The hosted patient flow at each session's `url`: the pages (`pages`, `html`, with the
scopes in plain words from `scope_words`) and what a patient's attempt does to sessions and
connections (`outcomes`, shared with the controls)."""
