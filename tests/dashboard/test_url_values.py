"""Garbage in a page's URL: the value is named in a notice and ignored, the page still works
(AppTest on the embedded sandbox), and the check itself (`url_values`)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from medblocks.dashboard.url_values import split_known, unknown_notice, unknown_path
from tests.dashboard.apptest import open_app_page

pytestmark = pytest.mark.usefixtures("app_environment")


def clean(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_split_known_keeps_the_order_asked_and_names_the_rest() -> None:
    assert split_known(["expired", "bogus", "open"], ["open", "expired"]) == (
        ["expired", "open"],
        ["bogus"],
    )
    notice = unknown_notice("status", ["bogus", "x" * 200], ["open", "expired"])
    assert notice.startswith("Ignored status='bogus', 'xxx")
    assert notice.endswith("not one of open, expired.") and "x" * 81 not in notice


def test_sessions_with_unknown_filter_values_say_so_and_ignore_them() -> None:
    at = clean(open_app_page("ui_pages/sessions.py", status="bogus", mode="direct"))
    assert "does not offer" in at.warning[0].value
    assert any(t.value.startswith("Ignored status='bogus'") for t in at.text)
    assert at.multiselect[0].value == [] and at.multiselect[1].value == ["direct"]


def test_webhooks_with_unknown_values_say_so_and_ignore_them() -> None:
    at = clean(
        open_app_page("ui_pages/webhooks.py", delivery="bogus", endpoint="wh_bogus", event="x")
    )
    shown = [t.value for t in at.text]
    assert any(t.startswith("Ignored endpoint='wh_bogus'") for t in shown), shown
    assert any(t.startswith("Ignored delivery='bogus'") for t in shown), shown
    assert at.multiselect[0].value == []


def test_an_address_naming_no_page_is_recognised() -> None:
    assert unknown_path("http://127.0.0.1:8501/") is None
    assert unknown_path("http://127.0.0.1:8501") is None and unknown_path(None) is None
    assert unknown_path("http://127.0.0.1:8501/does-not-exist?x=1") == "/does-not-exist"
