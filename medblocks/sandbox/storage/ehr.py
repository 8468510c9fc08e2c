"""The simulated EHR behind every catalog source: what a patient connection is granted and the
synthetic chart a records sync pulls from it.

Shared by the seeded demo data (`seed.py`) and the live flow (`hosted/outcomes.py`), so a
connection made either way carries the same scopes and the same kind of records.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from medblocks.sandbox.clock import iso
from medblocks.sandbox.storage.store import dumps

# The SMART scopes every sandbox connection is granted.
SCOPES = ["launch/patient", "openid", "fhirUser", "offline_access", "patient/*.read"]


def _observation(
    ehr_id: str, number: int, loinc_code: str, display: str, value: float, unit: str
) -> dict[str, Any]:
    """A final Observation of the chart's patient, coded in LOINC."""
    return {
        "resourceType": "Observation",
        "id": f"obs-{ehr_id}-{number}",
        "status": "final",
        "code": {
            "coding": [{"system": "http://loinc.org", "code": loinc_code, "display": display}]
        },
        "subject": {"reference": f"Patient/{ehr_id}"},
        "valueQuantity": {"value": value, "unit": unit},
    }


def chart_records(
    rng: random.Random, patient_id: str, name: str | None, source: str, updated: datetime
) -> list[tuple[Any, ...]]:
    """A small synthetic FHIR chart: Patient, Observations, Condition, medication, allergy.

    Rows of (patient_id, source, resource_type, resource_id, resource JSON, updated_at), one
    minute apart from `updated`, for `Store.insert_records`.
    """
    given, _, family = (name or "Sample Patient").partition(" ")
    ehr_id = f"{rng.randrange(10**7, 10**8)}"
    resources: list[dict[str, Any]] = [
        {
            "resourceType": "Patient",
            "id": ehr_id,
            "name": [{"given": [given], "family": family}],
            "gender": rng.choice(["female", "male", "other"]),
            "birthDate": f"{rng.randrange(1940, 2010)}-0{rng.randrange(1, 10)}-15",
        },
        _observation(ehr_id, 1, "8867-4", "Heart rate", rng.randrange(55, 95), "/min"),
        _observation(ehr_id, 2, "4548-4", "Hemoglobin A1c", round(rng.uniform(4.8, 8.5), 1), "%"),
        {
            "resourceType": "Condition",
            "id": f"cond-{ehr_id}",
            "clinicalStatus": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                        "code": "active",
                    }
                ]
            },
            "code": {
                "text": rng.choice(
                    [
                        "Essential hypertension",
                        "Type 2 diabetes mellitus",
                        "Seasonal allergic rhinitis",
                        "Asthma",
                    ]
                )
            },
            "subject": {"reference": f"Patient/{ehr_id}"},
        },
        {
            "resourceType": "MedicationRequest",
            "id": f"med-{ehr_id}",
            "status": "active",
            "intent": "order",
            "medicationCodeableConcept": {
                "text": rng.choice(
                    [
                        "Lisinopril 10 mg tablet",
                        "Metformin 500 mg tablet",
                        "Cetirizine 10 mg tablet",
                    ]
                )
            },
            "subject": {"reference": f"Patient/{ehr_id}"},
        },
        {
            "resourceType": "AllergyIntolerance",
            "id": f"alg-{ehr_id}",
            "code": {"text": rng.choice(["Penicillin", "Peanut", "Latex"])},
            "patient": {"reference": f"Patient/{ehr_id}"},
        },
        {
            "resourceType": "Encounter",
            "id": f"enc-{ehr_id}",
            "status": "finished",
            "class": {"code": "AMB"},
            "subject": {"reference": f"Patient/{ehr_id}"},
        },
    ]
    rows = []
    for offset, resource in enumerate(resources):
        changed = iso(updated + timedelta(minutes=offset))
        resource["meta"] = {"lastUpdated": changed}
        rows.append(
            (patient_id, source, resource["resourceType"], resource["id"], dumps(resource), changed)
        )
    return rows
