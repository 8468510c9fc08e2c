# Generated from async_client.py by scripts/generate_sync_client.py: do not edit.
# Change async_client.py and run `python scripts/generate_sync_client.py`.
"""`Medblocks`: the synchronous client, generated from `AsyncMedblocks`.

Every method takes `max_retries=` and `timeout=`; `list()`-style methods return a `Paginator`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from types import TracebackType
from typing import Any, Unpack
from uuid import UUID

import httpx

from medblocks.client import models as m
from medblocks.client import operations as ops
from medblocks.client.base import ClientCore
from medblocks.client.calls import Call, CallOptions, ModelT, Retry
from medblocks.client.operations import (
    NOT_GIVEN,
    NotGiven,
    SessionStatusFilter,
    WebhookStatusFilter,
)
from medblocks.client.pagination import Paginator


class Medblocks(ClientCore[httpx.Client, httpx.BaseTransport]):
    """The Medblocks client over one httpx client, closed when its `with` block ends (or by
    its close method) unless the httpx client was passed in."""

    def _open_http(self, transport: httpx.BaseTransport | None) -> httpx.Client:
        return httpx.Client(transport=transport, timeout=self.timeout)

    def _attach_resources(self) -> None:
        self.patients = Patients(self)
        self.patient_sessions = PatientSessions(self)
        self.sources = Sources(self)
        self.webhooks = Webhooks(self)
        self.events = Events(self)
        self.launch_contexts = LaunchContexts(self)

    def send(self, call: Call[ModelT], options: CallOptions) -> ModelT:
        """Send one call, retrying where that is safe; raise `MedblocksError` on failure."""
        runner = self._runner
        request = runner.build(self._http, call, options)
        max_retries = runner.retries_for(options)
        retries_done = 0
        while True:
            try:
                response = self._http.send(request)
            except httpx.TransportError as exc:
                outcome: ModelT | Retry = runner.on_exception(call, exc, retries_done, max_retries)
            else:
                outcome = runner.on_response(call, response, retries_done, max_retries)
            if not isinstance(outcome, Retry):
                return outcome
            time.sleep(outcome.delay)
            retries_done += 1

    def health(self, **options: Unpack[CallOptions]) -> m.Health:
        return self.send(ops.health(), options)

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Medblocks:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _Resource:
    def __init__(self, client: Medblocks) -> None:
        self._client = client


class Patients(_Resource):
    def create(
        self,
        patient_id: str,
        *,
        email: str | None = None,
        name: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        **options: Unpack[CallOptions],
    ) -> m.Patient:
        return self._client.send(ops.create_patient(patient_id, email, name, metadata), options)

    def retrieve(self, id: str, **options: Unpack[CallOptions]) -> m.PatientDetail:
        """The patient with every connection in the organisation, most recent first."""
        return self._client.send(ops.retrieve_patient(id), options)

    def list(
        self,
        *,
        patient_id: str | None = None,
        email: str | None = None,
        limit: int | None = None,
        **options: Unpack[CallOptions],
    ) -> Paginator[m.Patient]:
        return Paginator(
            lambda cursor: self.list_page(
                limit=limit, starting_after=cursor, patient_id=patient_id, email=email, **options
            ),
            "api.listPatients",
        )

    def list_page(
        self,
        *,
        limit: int | None = None,
        starting_after: str | None = None,
        patient_id: str | None = None,
        email: str | None = None,
        **options: Unpack[CallOptions],
    ) -> m.Page[m.Patient]:
        return self._client.send(
            ops.list_patients(starting_after, limit, patient_id, email), options
        )

    def replace(
        self,
        id: str,
        *,
        email: str | None,
        name: str | None,
        metadata: Mapping[str, Any] | None,
        **options: Unpack[CallOptions],
    ) -> m.Patient:
        """Full replace (PUT): `None` clears `email`/`name`; `metadata=None` resets it to {}."""
        return self._client.send(ops.replace_patient(id, email, name, metadata), options)

    def delete(self, id: str, **options: Unpack[CallOptions]) -> m.PatientDeleted:
        """Hard delete of the patient and its connections (no restore)."""
        return self._client.send(ops.delete_patient(id), options)

    def disconnect(
        self, id: str, conn_id: str, **options: Unpack[CallOptions]
    ) -> m.ConnectionDisconnected:
        """Revoke one connection: `conn_id` is the patient connection's `conn_` id."""
        return self._client.send(ops.disconnect_connection(id, conn_id), options)

    def sessions(
        self,
        id: str,
        *,
        status: SessionStatusFilter | None = None,
        limit: int | None = None,
        **options: Unpack[CallOptions],
    ) -> Paginator[m.PatientSession]:
        return Paginator(
            lambda cursor: self.sessions_page(
                id, status=status, limit=limit, starting_after=cursor, **options
            ),
            "api.listPatientSessionsForPatient",
        )

    def sessions_page(
        self,
        id: str,
        *,
        status: SessionStatusFilter | None = None,
        limit: int | None = None,
        starting_after: str | None = None,
        **options: Unpack[CallOptions],
    ) -> m.Page[m.PatientSession]:
        return self._client.send(
            ops.list_patient_sessions(id, starting_after, status, limit), options
        )

    def records(
        self,
        id: str,
        *,
        type: str | Sequence[str] | None = None,
        since: str | date | None = None,
        count: int | None = None,
        starting_after: str | None = None,
        ending_before: str | None = None,
        **options: Unpack[CallOptions],
    ) -> m.PatientRecords:
        """One page of records; `next_cursor`/`previous_cursor` page forwards and backwards."""
        call = ops.patient_records(id, type, since, count, starting_after, ending_before)
        return self._client.send(call, options)

    def iter_records(
        self,
        id: str,
        *,
        type: str | Sequence[str] | None = None,
        since: str | date | None = None,
        **options: Unpack[CallOptions],
    ) -> Iterator[m.PatientRecord]:
        """Every record across pages, fetched forwards 100 at a time."""
        return iter(
            Paginator(
                lambda cursor: self.records(
                    id, type=type, since=since, starting_after=cursor, **options
                ),
                "api.getPatientRecords",
            )
        )


class PatientSessions(_Resource):
    def create(
        self,
        *,
        patient_id: str,
        return_url: str,
        connection_id: str | None = None,
        recommended_connection_ids: Sequence[str] | None = None,
        patient_email: str | None = None,
        patient_name: str | None = None,
        return_button_label: str | None = None,
        expires_in: int | None = None,
        metadata: Mapping[str, Any] | None = None,
        **options: Unpack[CallOptions],
    ) -> m.PatientSession:
        """Picker mode (`recommended_connection_ids`) or direct mode (`connection_id`)."""
        call = ops.create_patient_session(
            patient_id=patient_id,
            return_url=return_url,
            connection_id=connection_id,
            recommended_connection_ids=recommended_connection_ids,
            patient_email=patient_email,
            patient_name=patient_name,
            return_button_label=return_button_label,
            expires_in=expires_in,
            metadata=metadata,
        )
        return self._client.send(call, options)

    def retrieve(self, id: str, **options: Unpack[CallOptions]) -> m.PatientSession:
        return self._client.send(ops.retrieve_patient_session(id), options)


class Sources(_Resource):
    """The catalog of FHIR sources (`/connections`)."""

    def list(
        self,
        *,
        q: str | None = None,
        type: str | None = None,
        limit: int | None = None,
        **options: Unpack[CallOptions],
    ) -> Paginator[m.FhirSource]:
        return Paginator(
            lambda cursor: self.list_page(
                q=q, type=type, limit=limit, starting_after=cursor, **options
            ),
            "api.listFhirSources",
        )

    def list_page(
        self,
        *,
        q: str | None = None,
        type: str | None = None,
        limit: int | None = None,
        starting_after: str | None = None,
        **options: Unpack[CallOptions],
    ) -> m.Page[m.FhirSource]:
        return self._client.send(ops.list_sources(starting_after, q, type, limit), options)

    def retrieve(self, id_or_fhir_base_url: str, **options: Unpack[CallOptions]) -> m.FhirSource:
        return self._client.send(ops.retrieve_source(id_or_fhir_base_url), options)


class Webhooks(_Resource):
    def create(
        self,
        url: str,
        events: Sequence[m.EventTypeInput],
        *,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        **options: Unpack[CallOptions],
    ) -> m.WebhookEndpointWithSecret:
        """Register an endpoint; the answer carries its signing `secret`, shown only now."""
        return self._client.send(ops.create_webhook(url, events, description, metadata), options)

    def list(
        self,
        *,
        status: WebhookStatusFilter | None = None,
        limit: int | None = None,
        **options: Unpack[CallOptions],
    ) -> Paginator[m.WebhookEndpoint]:
        return Paginator(
            lambda cursor: self.list_page(
                status=status, limit=limit, starting_after=cursor, **options
            ),
            "api.listWebhooks",
        )

    def list_page(
        self,
        *,
        status: WebhookStatusFilter | None = None,
        limit: int | None = None,
        starting_after: str | None = None,
        **options: Unpack[CallOptions],
    ) -> m.Page[m.WebhookEndpoint]:
        return self._client.send(ops.list_webhooks(starting_after, status, limit), options)

    def retrieve(self, id: str, **options: Unpack[CallOptions]) -> m.WebhookEndpoint:
        return self._client.send(ops.retrieve_webhook(id), options)

    def update(
        self,
        id: str,
        *,
        url: str | NotGiven = NOT_GIVEN,
        events: Sequence[m.EventTypeInput] | NotGiven = NOT_GIVEN,
        description: str | NotGiven | None = NOT_GIVEN,
        metadata: Mapping[str, Any] | NotGiven = NOT_GIVEN,
        status: WebhookStatusFilter | NotGiven = NOT_GIVEN,
        **options: Unpack[CallOptions],
    ) -> m.WebhookEndpoint:
        """Partial update: only the arguments given change; `description=None` clears it."""
        call = ops.update_webhook(
            id, url=url, events=events, description=description, metadata=metadata, status=status
        )
        return self._client.send(call, options)

    def delete(self, id: str, **options: Unpack[CallOptions]) -> m.WebhookEndpointDeleted:
        """Delete the endpoint and, for good, its delivery history."""
        return self._client.send(ops.delete_webhook(id), options)

    def rotate_secret(self, id: str, **options: Unpack[CallOptions]) -> m.WebhookEndpointWithSecret:
        """A new signing secret, shown only now; the old one stops working."""
        return self._client.send(ops.rotate_webhook_secret(id), options)

    def events(
        self,
        id: str,
        *,
        delivered: bool | None = None,
        limit: int | None = None,
        **options: Unpack[CallOptions],
    ) -> Paginator[m.WebhookEvent]:
        return Paginator(
            lambda cursor: self.events_page(
                id, delivered=delivered, limit=limit, starting_after=cursor, **options
            ),
            "api.listWebhookEvents",
        )

    def events_page(
        self,
        id: str,
        *,
        delivered: bool | None = None,
        limit: int | None = None,
        starting_after: str | None = None,
        **options: Unpack[CallOptions],
    ) -> m.Page[m.WebhookEvent]:
        return self._client.send(
            ops.list_webhook_events(id, starting_after, delivered, limit), options
        )


class Events(_Resource):
    def redeliver(self, id: str, **options: Unpack[CallOptions]) -> m.WebhookEvent:
        """Queue the event again (one redelivery per event per minute, else 429)."""
        return self._client.send(ops.redeliver_event(id), options)


class LaunchContexts(_Resource):
    def retrieve(self, id: str | UUID, **options: Unpack[CallOptions]) -> m.LaunchContext:
        """The context of an EHR launch; `id` is the `mb_launch` UUID."""
        return self._client.send(ops.retrieve_launch_context(id), options)
