"""Garbage in a page's URL: the value is named in a notice and ignored, the page still works
(AppTest on the embedded sandbox), and the check itself (`url_values`)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from medblocks.dashboard.url_values import (
    Choices,
    Text,
    WholeNumber,
    read_param,
    split_known,
    unknown_notice,
    unknown_path,
)
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


def test_read_param_takes_what_the_rule_allows_and_names_the_rest() -> None:
    statuses = Choices(["open", "expired"])
    assert read_param("status", [], statuses).values == ()
    assert read_param("status", [""], statuses).notice is None  # empty: no filter
    read = read_param("status", ["open", "bogus"], statuses)
    assert read.values == ("open",) and read.first == "open"
    assert read.notice is not None and read.notice.startswith("Ignored status='bogus'")

    days = WholeNumber(0, 36500)
    assert read_param("failing_days", ["7"], days).number == 7
    for garbage in ("99999999999999999999999", "-1", "3.5", "seven", "٣"):
        read = read_param("failing_days", [garbage], days)
        assert read.number is None and read.values == ()
        assert read.notice == (
            f"Ignored failing_days={garbage!r}: not a whole number from 0 to 36500."
        )
    assert read_param("failing_days", ["2", "3"], days).values == ("2",)  # one value is taken
    assert "'3'" in str(read_param("failing_days", ["2", "3"], days).notice)

    assert read_param("q", ["Alice"], Text()).first == "Alice"
    assert read_param("open", ["p" * 250], Text()).first == "p" * 250  # ids have no maximum
    for garbage in ("x" * 1001, "a\x00b", "line\nbreak"):
        read = read_param("q", [garbage], Text())
        assert read.first is None and str(read.notice).startswith("Ignored q=")
        assert "x" * 81 not in str(read.notice)  # a long value is shortened in the notice


GARBAGE = {
    "ui_pages/sessions.py": {"status": "bogus", "mode": "bogus", "session": "ps_bogus"},
    "ui_pages/webhooks.py": {"endpoint": "wh_bogus", "delivery": "bogus", "event": "evt_bogus"},
    "ui_pages/connection_health.py": {
        "status": "nonsense",
        "source": "No Such Hospital",
        "code": "bogus_code",
        "failing_days": "99999999999999999999999",
        "connection": "conn_bogus",
        "list": "Bogus tab",
    },
    "ui_pages/patients.py": {
        "patient_id": "x" * 1500,
        "email": "a\x00@example.test",
        "q": "y" * 1500,
        "open": "z" * 1500,
    },
    "ui_pages/hospitals.py": {"hospital": "fhirsrc_bogus"},
    "ui_pages/sources.py": {"q": "q" * 1500, "vendor": "v\x07"},
    "ui_pages/sandbox.py": {"session": "s" * 1500},
    "ui_pages/launch.py": {"patient_id": "p" * 1500},
}


@pytest.mark.parametrize(
    ("page", "name"), [(page, name) for page, params in GARBAGE.items() for name in params]
)
def test_every_ops_page_with_garbage_in_each_query_parameter(page: str, name: str) -> None:
    at = clean(open_app_page(page, **{name: GARBAGE[page][name]}))
    assert any("does not offer" in w.value for w in at.warning), [w.value for w in at.warning]
    assert any(t.value.startswith(f"Ignored {name}=") for t in at.text), [t.value for t in at.text]
