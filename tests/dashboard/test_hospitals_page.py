"""Hospital status through AppTest on the embedded sandbox's demo data: which hospital fails
most and since when, its drill-down to Connection health, and Overview naming it."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboard.apptest import open_app_page
from tests.mirror.alert_inbox import running_inbox

pytestmark = pytest.mark.usefixtures("app_environment")


def clean(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_hospital_status_names_the_worst_hospital_and_since_when() -> None:
    at = clean(open_app_page("ui_pages/hospitals.py"))
    table = at.dataframe[0].value
    assert len(table) >= 2
    worst = table.iloc[0]
    assert (
        worst["patients_failing"] > 0
        and worst["patients_failing"] == table["patients_failing"].max()
    )
    assert worst["failing_since"].endswith(" UTC")
    assert worst["failing_link"].startswith("health?source=")
    assert "status=refresh_failed" in worst["failing_link"]
    for label in ("None", "nan", "NaT"):
        assert not (table.astype(str) == label).any().any()

    opened = clean(open_app_page("ui_pages/hospitals.py", hospital=worst["source"]))
    assert opened.subheader[0].value == worst["source"]
    assert "failing now (since " in opened.text[0].value
    reasons = opened.dataframe[1].value
    assert reasons["connections"].sum() >= worst["patients_failing"]
    assert reasons["what_happened"].str.len().min() > 0  # every reason in ops words


def test_overview_names_the_worst_hospitals() -> None:
    at = clean(open_app_page("ui_pages/overview.py"))
    assert any(c.value == "Worst hospitals now" for c in at.caption)


def test_an_unknown_hospital_opens_none() -> None:
    at = clean(open_app_page("ui_pages/hospitals.py", hospital="fhirsrc_no_such_source"))
    assert not at.subheader and at.selectbox[0].value is None
    assert "does not offer" in at.warning[0].value
    assert any(t.value.startswith("Ignored hospital='fhirsrc_no_such_source'") for t in at.text)


def test_alerts_page_works_with_no_alert_configured(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MEDBLOCKS_DATABASE_URL", f"sqlite:///{tmp_path / 'mirror.sqlite3'}")
    at = clean(open_app_page("ui_pages/alerts.py"))
    assert any("No channel configured" in i.value for i in at.info)
    assert at.dataframe[0].value["rule"].tolist()[:2] == ["new_failures", "source_incident"]
    assert "Nothing sent yet." in [t.value for t in at.text]


def test_alerts_page_masks_channels_sends_a_test_and_records_silences(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MEDBLOCKS_DATABASE_URL", f"sqlite:///{tmp_path / 'mirror.sqlite3'}")
    with running_inbox() as inbox:
        monkeypatch.setenv("MEDBLOCKS_ALERT_URLS", f"{inbox.url} json://127.0.0.1:9/hook/S3CRET")
        at = clean(open_app_page("ui_pages/alerts.py"))
        channels = at.dataframe[1].value["channel"].tolist()
        assert channels == [f"json://127.0.0.1:{inbox.port}/…", "json://127.0.0.1:9/…"]
        at.button(key="alerts_test").click().run()
        clean(at)
        # the test message is sent before the run returns; other messages may reach the inbox
        # meanwhile (this process's open-session re-read of an earlier test's mirror evaluates
        # its rules under this test's MEDBLOCKS_ALERT_URLS)
        titles = [m["title"] for m in inbox.wait_for(1)]
        assert titles.count("Test message from the Medblocks workbench") == 1, titles
        assert "channel 2 (json://127.0.0.1:9/…) refused" in at.error[0].value
        history = at.dataframe[2].value
        assert history.iloc[0]["kind"] == "test" and history.iloc[0]["outcome"] == "failed"
        assert "S3CRET" not in str(history.to_dict()) and "S3CRET" not in at.error[0].value

        at.selectbox[0].set_value("stale_mirror")
        at.text_input[1].input("maintenance window")
        at.button[1].click().run()
        clean(at)
        silences = at.dataframe[3].value
        assert silences.iloc[0]["rule"] == "stale_mirror"
        assert silences.iloc[0]["comment"] == "maintenance window"
