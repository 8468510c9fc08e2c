"""`AsyncMedblocks`: the client, written once, for asyncio. Edit this file, not `sync_client.py`.

`scripts/generate_sync_client.py` makes the synchronous `Medblocks` from this file with `unasync`
(`async`/`await` dropped, `Async…` names and `asyncio` mapped to their sync twins); CI runs it
with `--check` and fails when the generated file is stale. Keep docstrings true for both clients;
code between `# sync: leave out` and `# sync: end` exists only in the async client.

`list()`-style methods are not awaited: they return an `AsyncPaginator` for `async for`.
`fan_out` runs one read per item with bounded concurrency (see `medblocks.client.fan_out`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import date
from types import TracebackType
from typing import Any, Unpack
from uuid import UUID

import httpx

from medblocks.client import models as m
from medblocks.client import operations as ops
from medblocks.client.base import ClientCore
from medblocks.client.calls import Call, CallOptions, ModelT, Retry
from medblocks.client.fan_out import FanOutResult, ItemT, ProgressCallback, ValueT, fan_out
from medblocks.client.operations import (
    NOT_GIVEN,
    NotGiven,
    SessionStatusFilter,
    WebhookStatusFilter,
)
from medblocks.client.pagination import AsyncPaginator


class AsyncMedblocks(ClientCore[httpx.AsyncClient, httpx.AsyncBaseTransport]):
    """The Medblocks client over one httpx client, closed when its `with` block ends (or by
    its close method) unless the httpx client was passed in."""

    def _open_http(self, transport: httpx.AsyncBaseTransport | None) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=transport, timeout=self.timeout)

    def _attach_resources(self) -> None:
        self.patients = AsyncPatients(self)
        self.patient_sessions = AsyncPatientSessions(self)
        self.sources = AsyncSources(self)
        self.webhooks = AsyncWebhooks(self)
        self.events = AsyncEvents(self)
        self.launch_contexts = AsyncLaunchContexts(self)

    async def send(self, call: Call[ModelT], options: CallOptions) -> ModelT:
        """Send one call, retrying where that is safe; raise `MedblocksError` on failure."""
        runner = self._runner
        request = runner.build(self._http, call, options)
        max_retries = runner.retries_for(options)
        retries_done = 0
        while True:
            try:
                response = await self._http.send(request)
            except httpx.TransportError as exc:
                outcome: ModelT | Retry = runner.on_exception(call, exc, retries_done, max_retries)
            else:
                outcome = runner.on_response(call, response, retries_done, max_retries)
            if not isinstance(outcome, Retry):
                return outcome
            await asyncio.sleep(outcome.delay)
            retries_done += 1

    async def health(self, **options: Unpack[CallOptions]) -> m.Health:
        return await self.send(ops.health(), options)

    # sync: leave out
    async def fan_out(
        self,
        func: Callable[[ItemT], Awaitable[ValueT]],
        items: Iterable[ItemT],
        *,
        concurrency: int = 16,
        on_progress: ProgressCallback | None = None,
    ) -> FanOutResult[ItemT, ValueT]:
        """`await func(item)` for each item, `concurrency` at a time; failures are collected."""
        return await fan_out(func, items, concurrency=concurrency, on_progress=on_progress)

    # sync: end

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncMedblocks:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class _Resource:
    def __init__(self, client: AsyncMedblocks) -> None:
        self._client = client


class AsyncPatients(_Resource):
    async def create(
        self,
        patient_id: str,
        *,
        email: str | None = None,
        name: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        **options: Unpack[CallOptions],
    ) -> m.Patient:
        return await self._client.send(
            ops.create_patient(patient_id, email, name, metadata), options
        )

    async def retrieve(self, id: str, **options: Unpack[CallOptions]) -> m.PatientDetail:
        """The patient with every connection in the organisation, most recent first."""
        return await self._client.send(ops.retrieve_patient(id), options)

    def list(
        self,
        *,
        patient_id: str | None = None,
        email: str | None = None,
        limit: int | None = None,
        **options: Unpack[CallOptions],
    ) -> AsyncPaginator[m.Patient]:
        return AsyncPaginator(
            lambda cursor: self.list_page(
                limit=limit, starting_after=cursor, patient_id=patient_id, email=email, **options
            ),
            "api.listPatients",
        )

    async def list_page(
        self,
        *,
        limit: int | None = None,
        starting_after: str | None = None,
        patient_id: str | None = None,
        email: str | None = None,
        **options: Unpack[CallOptions],
    ) -> m.Page[m.Patient]:
        return await self._client.send(
            ops.list_patients(starting_after, limit, patient_id, email), options
        )

    async def replace(
        self,
        id: str,
        *,
        email: str | None,
        name: str | None,
        metadata: Mapping[str, Any] | None,
        **options: Unpack[CallOptions],
    ) -> m.Patient:
        """Full replace (PUT): `None` clears `email`/`name`; `metadata=None` resets it to {}."""
        return await self._client.send(ops.replace_patient(id, email, name, metadata), options)

    async def delete(self, id: str, **options: Unpack[CallOptions]) -> m.PatientDeleted:
        """Hard delete of the patient and its connections (no restore)."""
        return await self._client.send(ops.delete_patient(id), options)

    async def disconnect(
        self, id: str, conn_id: str, **options: Unpack[CallOptions]
    ) -> m.ConnectionDisconnected:
        """Revoke one connection: `conn_id` is the patient connection's `conn_` id."""
        return await self._client.send(ops.disconnect_connection(id, conn_id), options)

    def sessions(
        self,
        id: str,
        *,
        status: SessionStatusFilter | None = None,
        limit: int | None = None,
        **options: Unpack[CallOptions],
    ) -> AsyncPaginator[m.PatientSession]:
        return AsyncPaginator(
            lambda cursor: self.sessions_page(
                id, status=status, limit=limit, starting_after=cursor, **options
            ),
            "api.listPatientSessionsForPatient",
        )

    async def sessions_page(
        self,
        id: str,
        *,
        status: SessionStatusFilter | None = None,
        limit: int | None = None,
        starting_after: str | None = None,
        **options: Unpack[CallOptions],
    ) -> m.Page[m.PatientSession]:
        return await self._client.send(
            ops.list_patient_sessions(id, starting_after, status, limit), options
        )

    async def records(
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
        return await self._client.send(call, options)

    def iter_records(
        self,
        id: str,
        *,
        type: str | Sequence[str] | None = None,
        since: str | date | None = None,
        **options: Unpack[CallOptions],
    ) -> AsyncIterator[m.PatientRecord]:
        """Every record across pages, fetched forwards 100 at a time."""
        return aiter(
            AsyncPaginator(
                lambda cursor: self.records(
                    id, type=type, since=since, starting_after=cursor, **options
                ),
                "api.getPatientRecords",
            )
        )


class AsyncPatientSessions(_Resource):
    async def create(
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
        return await self._client.send(call, options)

    async def retrieve(self, id: str, **options: Unpack[CallOptions]) -> m.PatientSession:
        return await self._client.send(ops.retrieve_patient_session(id), options)


class AsyncSources(_Resource):
    """The catalog of FHIR sources (`/connections`)."""

    def list(
        self,
        *,
        q: str | None = None,
        type: str | None = None,
        limit: int | None = None,
        **options: Unpack[CallOptions],
    ) -> AsyncPaginator[m.FhirSource]:
        return AsyncPaginator(
            lambda cursor: self.list_page(
                q=q, type=type, limit=limit, starting_after=cursor, **options
            ),
            "api.listFhirSources",
        )

    async def list_page(
        self,
        *,
        q: str | None = None,
        type: str | None = None,
        limit: int | None = None,
        starting_after: str | None = None,
        **options: Unpack[CallOptions],
    ) -> m.Page[m.FhirSource]:
        return await self._client.send(ops.list_sources(starting_after, q, type, limit), options)

    async def retrieve(
        self, id_or_fhir_base_url: str, **options: Unpack[CallOptions]
    ) -> m.FhirSource:
        return await self._client.send(ops.retrieve_source(id_or_fhir_base_url), options)


class AsyncWebhooks(_Resource):
    async def create(
        self,
        url: str,
        events: Sequence[m.EventTypeInput],
        *,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        **options: Unpack[CallOptions],
    ) -> m.WebhookEndpointWithSecret:
        """Register an endpoint; the answer carries its signing `secret`, shown only now."""
        return await self._client.send(
            ops.create_webhook(url, events, description, metadata), options
        )

    def list(
        self,
        *,
        status: WebhookStatusFilter | None = None,
        limit: int | None = None,
        **options: Unpack[CallOptions],
    ) -> AsyncPaginator[m.WebhookEndpoint]:
        return AsyncPaginator(
            lambda cursor: self.list_page(
                status=status, limit=limit, starting_after=cursor, **options
            ),
            "api.listWebhooks",
        )

    async def list_page(
        self,
        *,
        status: WebhookStatusFilter | None = None,
        limit: int | None = None,
        starting_after: str | None = None,
        **options: Unpack[CallOptions],
    ) -> m.Page[m.WebhookEndpoint]:
        return await self._client.send(ops.list_webhooks(starting_after, status, limit), options)

    async def retrieve(self, id: str, **options: Unpack[CallOptions]) -> m.WebhookEndpoint:
        return await self._client.send(ops.retrieve_webhook(id), options)

    async def update(
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
        return await self._client.send(call, options)

    async def delete(self, id: str, **options: Unpack[CallOptions]) -> m.WebhookEndpointDeleted:
        """Delete the endpoint and, for good, its delivery history."""
        return await self._client.send(ops.delete_webhook(id), options)

    async def rotate_secret(
        self, id: str, **options: Unpack[CallOptions]
    ) -> m.WebhookEndpointWithSecret:
        """A new signing secret, shown only now; the old one stops working."""
        return await self._client.send(ops.rotate_webhook_secret(id), options)

    def events(
        self,
        id: str,
        *,
        delivered: bool | None = None,
        limit: int | None = None,
        **options: Unpack[CallOptions],
    ) -> AsyncPaginator[m.WebhookEvent]:
        return AsyncPaginator(
            lambda cursor: self.events_page(
                id, delivered=delivered, limit=limit, starting_after=cursor, **options
            ),
            "api.listWebhookEvents",
        )

    async def events_page(
        self,
        id: str,
        *,
        delivered: bool | None = None,
        limit: int | None = None,
        starting_after: str | None = None,
        **options: Unpack[CallOptions],
    ) -> m.Page[m.WebhookEvent]:
        return await self._client.send(
            ops.list_webhook_events(id, starting_after, delivered, limit), options
        )


class AsyncEvents(_Resource):
    async def redeliver(self, id: str, **options: Unpack[CallOptions]) -> m.WebhookEvent:
        """Queue the event again (one redelivery per event per minute, else 429)."""
        return await self._client.send(ops.redeliver_event(id), options)


class AsyncLaunchContexts(_Resource):
    async def retrieve(self, id: str | UUID, **options: Unpack[CallOptions]) -> m.LaunchContext:
        """The context of an EHR launch; `id` is the `mb_launch` UUID."""
        return await self._client.send(ops.retrieve_launch_context(id), options)
