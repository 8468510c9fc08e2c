"""The 22 operations of the pinned spec as `Call` descriptions, shared by both clients.

Each function checks what the spec and its prose require of the arguments, builds the body
through the request models, percent-encodes path segments (a `fhir_base_url` or a caller's
`patient_id` may hold `/`), drops unset query parameters and names the ids to put in log lines.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from enum import Enum
from typing import Any, Final, Literal
from urllib.parse import quote
from uuid import UUID

from medblocks.client import models as m
from medblocks.client.calls import Call

SessionStatusFilter = Literal["open", "complete", "expired"]
WebhookStatusFilter = Literal["active", "disabled"]


class NotGiven(Enum):
    """Marks an argument left out, where `None` has a meaning of its own (null clears)."""

    NOT_GIVEN = "NOT_GIVEN"

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven.NOT_GIVEN


def _seg(value: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("an id must be a non-empty string")
    return quote(value, safe="")


def _query(**params: str | int | None) -> dict[str, str | int]:
    return {name: value for name, value in params.items() if value is not None}


def _object(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return None if value is None else dict(value)


def health() -> Call[m.Health]:
    return Call("api.health", "GET", "/health", m.Health)


def create_patient(
    patient_id: str, email: str | None, name: str | None, metadata: Mapping[str, Any] | None
) -> Call[m.Patient]:
    body = m.PatientCreateInput(
        patient_id=patient_id, email=email, name=name, metadata=_object(metadata)
    )
    return Call(
        "api.createPatient",
        "POST",
        "/patients",
        m.Patient,
        body=body.to_body(),
        subject={"patient_id": patient_id},
    )


def list_patients(
    cursor: str | None, limit: int | None, patient_id: str | None, email: str | None
) -> Call[m.Page[m.Patient]]:
    params = _query(limit=limit, starting_after=cursor, patient_id=patient_id, email=email)
    return Call("api.listPatients", "GET", "/patients", m.Page[m.Patient], params=params)


def retrieve_patient(id: str) -> Call[m.PatientDetail]:
    return Call(
        "api.getPatient",
        "GET",
        f"/patients/{_seg(id)}",
        m.PatientDetail,
        subject={"patient_id": id},
    )


def replace_patient(
    id: str, email: str | None, name: str | None, metadata: Mapping[str, Any] | None
) -> Call[m.Patient]:
    body = m.PatientReplaceInput(patient_id=id, email=email, name=name, metadata=_object(metadata))
    return Call(
        "api.updatePatient",
        "PUT",
        f"/patients/{_seg(id)}",
        m.Patient,
        body=body.to_body(),
        subject={"patient_id": id},
    )


def delete_patient(id: str) -> Call[m.PatientDeleted]:
    return Call(
        "api.deletePatient",
        "DELETE",
        f"/patients/{_seg(id)}",
        m.PatientDeleted,
        subject={"patient_id": id},
    )


def disconnect_connection(id: str, conn_id: str) -> Call[m.ConnectionDisconnected]:
    return Call(
        "api.disconnectPatientConnection",
        "DELETE",
        f"/patients/{_seg(id)}/connections/{_seg(conn_id)}",
        m.ConnectionDisconnected,
        subject={"patient_id": id, "conn_id": conn_id},
    )


def list_patient_sessions(
    id: str, cursor: str | None, status: SessionStatusFilter | None, limit: int | None
) -> Call[m.Page[m.PatientSession]]:
    return Call(
        "api.listPatientSessionsForPatient",
        "GET",
        f"/patients/{_seg(id)}/patient-sessions",
        m.Page[m.PatientSession],
        params=_query(limit=limit, starting_after=cursor, status=status),
        subject={"patient_id": id},
    )


def _types(value: str | Sequence[str] | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return ",".join(value)


def _instant(value: str | date | None) -> str | None:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def patient_records(
    id: str,
    type: str | Sequence[str] | None,
    since: str | date | None,
    count: int | None,
    starting_after: str | None,
    ending_before: str | None,
) -> Call[m.PatientRecords]:
    params = _query(
        type=_types(type),
        since=_instant(since),
        count=count,
        starting_after=starting_after,
        ending_before=ending_before,
    )
    return Call(
        "api.getPatientRecords",
        "GET",
        f"/patients/{_seg(id)}/records",
        m.PatientRecords,
        params=params,
        subject={"patient_id": id},
    )


def create_patient_session(
    *,
    patient_id: str,
    return_url: str,
    connection_id: str | None,
    recommended_connection_ids: Sequence[str] | None,
    patient_email: str | None,
    patient_name: str | None,
    return_button_label: str | None,
    expires_in: int | None,
    metadata: Mapping[str, Any] | None,
) -> Call[m.PatientSession]:
    if connection_id is not None and recommended_connection_ids is not None:
        raise ValueError(
            "give connection_id (direct mode: straight to one EHR) or "
            "recommended_connection_ids (picker mode: listed first on the picker), not both"
        )
    body = m.PatientSessionInitInput(
        patient_id=patient_id,
        return_url=return_url,
        connection_id=connection_id,
        recommended_connection_ids=(
            None if recommended_connection_ids is None else list(recommended_connection_ids)
        ),
        patient_email=patient_email,
        patient_name=patient_name,
        return_button_label=return_button_label,
        expires_in=expires_in,
        metadata=_object(metadata),
    )
    return Call(
        "api.initPatientSession",
        "POST",
        "/patient-sessions",
        m.PatientSession,
        body=body.to_body(),
        subject={"patient_id": patient_id},
    )


def retrieve_patient_session(id: str) -> Call[m.PatientSession]:
    return Call(
        "api.retrievePatientSession",
        "GET",
        f"/patient-sessions/{_seg(id)}",
        m.PatientSession,
        subject={"patient_session_id": id},
    )


def list_sources(
    cursor: str | None, q: str | None, type: str | None, limit: int | None
) -> Call[m.Page[m.FhirSource]]:
    params = _query(limit=limit, starting_after=cursor, q=q, type=type)
    return Call("api.listFhirSources", "GET", "/connections", m.Page[m.FhirSource], params=params)


def retrieve_source(id_or_fhir_base_url: str) -> Call[m.FhirSource]:
    return Call(
        "api.getFhirSource",
        "GET",
        f"/connections/{_seg(id_or_fhir_base_url)}",
        m.FhirSource,
        subject={"source": id_or_fhir_base_url},
    )


def retrieve_launch_context(id: str | UUID) -> Call[m.LaunchContext]:
    return Call(
        "api.retrieveLaunchContext",
        "GET",
        f"/launch-contexts/{_seg(str(id))}",
        m.LaunchContext,
        subject={"launch_context_id": str(id)},
    )


def create_webhook(
    url: str,
    events: Sequence[m.EventTypeInput],
    description: str | None,
    metadata: Mapping[str, Any] | None,
) -> Call[m.WebhookEndpointWithSecret]:
    body = m.WebhookEndpointCreateInput(
        url=url, events=list(events), description=description, metadata=_object(metadata)
    )
    return Call(
        "api.createWebhook", "POST", "/webhooks", m.WebhookEndpointWithSecret, body=body.to_body()
    )


def list_webhooks(
    cursor: str | None, status: WebhookStatusFilter | None, limit: int | None
) -> Call[m.Page[m.WebhookEndpoint]]:
    params = _query(limit=limit, starting_after=cursor, status=status)
    return Call("api.listWebhooks", "GET", "/webhooks", m.Page[m.WebhookEndpoint], params=params)


def retrieve_webhook(id: str) -> Call[m.WebhookEndpoint]:
    return Call(
        "api.getWebhook",
        "GET",
        f"/webhooks/{_seg(id)}",
        m.WebhookEndpoint,
        subject={"webhook_id": id},
    )


def update_webhook(
    id: str,
    *,
    url: str | NotGiven,
    events: Sequence[m.EventTypeInput] | NotGiven,
    description: str | NotGiven | None,
    metadata: Mapping[str, Any] | NotGiven,
    status: WebhookStatusFilter | NotGiven,
) -> Call[m.WebhookEndpoint]:
    """Only the fields given go in the body (`NOT_GIVEN` leaves one out; `None` is sent)."""
    changes: dict[str, Any] = {
        "url": url,
        "events": events,
        "description": description,
        "metadata": metadata,
        "status": status,
    }
    given = {name: value for name, value in changes.items() if value is not NOT_GIVEN}
    body = m.WebhookEndpointUpdateInput(**given)
    return Call(
        "api.updateWebhook",
        "PATCH",
        f"/webhooks/{_seg(id)}",
        m.WebhookEndpoint,
        body=body.to_body(),
        subject={"webhook_id": id},
    )


def delete_webhook(id: str) -> Call[m.WebhookEndpointDeleted]:
    return Call(
        "api.deleteWebhook",
        "DELETE",
        f"/webhooks/{_seg(id)}",
        m.WebhookEndpointDeleted,
        subject={"webhook_id": id},
    )


def rotate_webhook_secret(id: str) -> Call[m.WebhookEndpointWithSecret]:
    return Call(
        "api.rotateWebhookSecret",
        "POST",
        f"/webhooks/{_seg(id)}/rotate-secret",
        m.WebhookEndpointWithSecret,
        subject={"webhook_id": id},
    )


def list_webhook_events(
    id: str, cursor: str | None, delivered: bool | None, limit: int | None
) -> Call[m.Page[m.WebhookEvent]]:
    flag = None if delivered is None else ("true" if delivered else "false")
    return Call(
        "api.listWebhookEvents",
        "GET",
        f"/webhooks/{_seg(id)}/events",
        m.Page[m.WebhookEvent],
        params=_query(limit=limit, starting_after=cursor, delivered=flag),
        subject={"webhook_id": id},
    )


def redeliver_event(id: str) -> Call[m.WebhookEvent]:
    return Call(
        "api.redeliverWebhookEvent",
        "POST",
        f"/events/{_seg(id)}/redeliver",
        m.WebhookEvent,
        subject={"event_id": id},
    )
