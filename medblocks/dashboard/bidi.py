"""Bidirectional control characters shown, not obeyed, wherever the dashboard displays text
that comes from outside (patient names, emails and ids, session ids).

A right-to-left override (U+202E) in a patient id reverses the rest of the line it is shown in:
`user_42` followed by an override and `txt.exe` reads as something else, and a name can put
itself in front of another patient's id. The dashboard replaces each of Unicode's bidirectional
controls (the `Bidi_Control` characters: ALM, LRM, RLM, LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI,
PDI) with its code point in brackets, e.g. `[U+202E]`: nothing can reorder the line, and a
person sees that the value holds a control. Letters of right-to-left scripts (Arabic, Hebrew)
are not controls and are shown as they are.

Only what is displayed changes: the values the dashboard acts on (a patient id it creates a
session for) and the CSV exports keep the text as stored.
"""

from __future__ import annotations

import pandas as pd

from medblocks.dashboard.tables import text_columns

BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_SHOWN = str.maketrans({c: f"[U+{ord(c):04X}]" for c in BIDI_CONTROLS})


def visible_controls(text: str) -> str:
    """`text` with every bidirectional control replaced by `[U+XXXX]`."""
    return text.translate(_SHOWN)


def visible_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text cells go through `visible_controls` (other cells as they
    are), for showing as a table."""
    out = frame.copy()
    for column in text_columns(out):
        out[column] = [visible_controls(v) if isinstance(v, str) else v for v in out[column]]
    return out
