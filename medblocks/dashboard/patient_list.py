"""The Patients page's list: its three filters combined, and the table as people read it.

- "Patient id (exact)" is the API's own exact-match filter: the page asks the API
  (`patients.list(patient_id=…)`) and passes the ids it answered;
- "Email (any case)" and "Contains" filter the mirror's summary (`frames.patients_with_email`,
  `frames.patients_containing`: a masked search never matches a name or e-mail it hides).

A patient is listed when it passes every filter given; an empty filter keeps every patient.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from medblocks.dashboard.frames import patients_containing, patients_with_email
from medblocks.dashboard.masking import shown_people
from medblocks.dashboard.tables import patients_table

COLUMNS = [
    "patient_id",
    "name",
    "email",
    "active",
    "failed",
    "refresh_failed",
    "expired",
    "disconnected",
    "last_activity",
]


@dataclass(frozen=True)
class PatientFilters:
    """What the filters hold, surrounding spaces removed."""

    patient_id: str = ""
    email: str = ""
    text: str = ""

    @classmethod
    def typed(cls, patient_id: str, email: str, text: str) -> PatientFilters:
        return cls(patient_id.strip(), email.strip(), text.strip())


def matching(
    summary: pd.DataFrame,
    chosen: PatientFilters,
    exact_ids: Collection[str] | None,
    *,
    reveal: bool,
) -> pd.DataFrame:
    """The patients of `summary` (`frames.patient_summary`) every filter keeps. `exact_ids`:
    what the API answered for `chosen.patient_id` (None when it could not be asked: nobody)."""
    if chosen.patient_id:
        summary = summary[summary["patient_id"].isin(list(exact_ids or ()))]
    if chosen.email:
        summary = patients_with_email(summary, chosen.email)
    if chosen.text:
        summary = patients_containing(summary, chosen.text, reveal=reveal)
    return summary


def patient_rows(summary: pd.DataFrame, now: datetime, *, reveal: bool) -> pd.DataFrame:
    """The table: names and e-mails masked unless `reveal`, counts whole, activity as an age."""
    return patients_table(shown_people(summary, reveal=reveal), now)[COLUMNS]
