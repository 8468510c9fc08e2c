"""Bidirectional controls in names, emails and ids are shown, not obeyed
(`medblocks.dashboard.bidi`), and the dashboard shows them so."""

from __future__ import annotations

import pandas as pd
import pytest

from medblocks.client import Medblocks
from medblocks.dashboard.bidi import BIDI_CONTROLS, visible_controls, visible_frame
from medblocks.dashboard.masking import shown_email, shown_name
from tests.dashboard.apptest import open_app_page

RLO = "\u202e"
SPOOF_ID = f"bidi_{RLO}gpj.exe"
SPOOF_NAME = f"Eve {RLO}nosnhoJ"


def test_every_bidi_control_is_shown_as_its_code_point() -> None:
    assert len(BIDI_CONTROLS) == 12
    for control in BIDI_CONTROLS:
        shown = visible_controls(f"a{control}b")
        assert shown == f"a[U+{ord(control):04X}]b"
        assert not set(shown) & BIDI_CONTROLS
    assert visible_controls(SPOOF_ID) == "bidi_[U+202E]gpj.exe"


@pytest.mark.parametrize("text", ["user_42", "Maria López", "مريم", "שרה", "", "M**** L****"])
def test_other_text_is_unchanged(text: str) -> None:
    assert visible_controls(text) == text


def test_names_and_emails_masked_or_revealed_carry_no_control() -> None:
    for reveal in (False, True):
        for shown in (
            shown_name(f"{RLO}Eve Johnson", reveal=reveal),
            shown_email(f"{RLO}eve@example.test", reveal=reveal),
        ):
            assert RLO not in shown and "[U+202E]" in shown
    assert shown_name(None, reveal=True) == "" and shown_email(None, reveal=False) == ""


def test_tables_are_shown_with_controls_visible_and_other_cells_kept() -> None:
    frame = pd.DataFrame({"id": [SPOOF_ID, None], "n": [1, 2], "ok": [True, False]})
    shown = visible_frame(frame)
    assert shown["id"][0] == "bidi_[U+202E]gpj.exe" and pd.isna(shown["id"][1])
    assert list(shown["n"]) == [1, 2] and list(shown["ok"]) == [True, False]
    assert frame["id"][0] == SPOOF_ID  # the frame acted on keeps the stored text


@pytest.mark.usefixtures("app_environment")
def test_the_patients_page_shows_a_spoofing_id_and_name_with_their_controls(
    embedded_api: Medblocks,
) -> None:
    embedded_api.patients.create(patient_id=SPOOF_ID, name=SPOOF_NAME)
    at = open_app_page("ui_pages/patients.py", patient_id=SPOOF_ID, open=SPOOF_ID)
    at.session_state["reveal_phi"] = True
    at.button(key="mirror_sync_now").click().run()
    assert not at.exception, [e.value for e in at.exception]
    lines = [t.value for t in at.text]
    assert any(line.startswith("bidi_[U+202E]gpj.exe · Eve [U+202E]nosnhoJ ·") for line in lines)
    table = at.dataframe[0].value
    assert "bidi_[U+202E]gpj.exe" in set(table["patient_id"])
    assert "Eve [U+202E]nosnhoJ" in set(table["name"])
    shown = " ".join(lines) + table.to_csv()
    assert RLO not in shown
