"""Opening one page of the real dashboard (`dashboard.py`, the frame included) through AppTest."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[2] / "dashboard.py"


def open_app_page(page: str, **query: str) -> AppTest:
    """Run the app once, switch to `page` (a path under ui_pages/) with `query`, run it."""
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page(page)
    at.query_params.update(query)
    return at.run()
