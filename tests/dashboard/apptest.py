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


def press_new_link(at: AppTest, where: str = "health") -> AppTest:
    """Press a row's "Create a new session link…"; where an open link is offered instead (an
    earlier test made one for that patient and source), tick "Make a new link anyway" first."""
    anyway = [c for c in at.checkbox if c.key == f"{where}_link_anyway"]
    if anyway:
        anyway[0].check().run()
    return at.button(key=f"{where}_new_link").click().run()
