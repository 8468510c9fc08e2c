"""The ops wording table covers every status and every known failure code, speaks about the
patient (never to them), and differs from the patient-facing table."""

from __future__ import annotations

import re

from medblocks.dashboard.ops_wording import FAILURE_WORDING, STATUS_WORDING, ops_wording
from medblocks.mirror.statuses import STATUSES
from medblocks.spec import failure_codes

SECOND_PERSON = re.compile(r"\b(you|your)\b", re.IGNORECASE)


def test_every_status_and_failure_code_has_ops_words() -> None:
    assert set(STATUS_WORDING) == set(STATUSES)
    assert set(FAILURE_WORDING) == set(failure_codes.FAILURE_WORDING)
    for wording in [*STATUS_WORDING.values(), *FAILURE_WORDING.values()]:
        for text in (wording.what_happened, wording.who_acts, wording.what_to_do):
            assert text and not SECOND_PERSON.search(text), text
    for code, patient in failure_codes.FAILURE_WORDING.items():
        assert ops_wording("failed", code).what_happened != patient.what_happened


def test_refresh_failed_and_expired_are_worded_and_unknowns_named() -> None:
    assert "no longer update" in ops_wording("refresh_failed").what_happened
    assert "end date" in ops_wording("expired").what_happened
    assert "quantum_flux" in ops_wording("failed", "quantum_flux").what_happened
    assert "paused" in ops_wording("paused").what_happened
