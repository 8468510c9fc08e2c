"""Pydantic models for every object of the pinned spec (`medblocks/spec/medblocks.json`).

Field names, required-ness, nullability and enums follow the spec exactly;
`tests/client/test_models_match_spec.py` checks each model against its schema, so a change to
the spec shows up as a failing test. Timestamps stay strings, as the spec declares them.

Enums the server may grow (statuses, event types) are *open*: a value the pinned spec does not
list does not fail parsing. It is kept as an `UnknownEnumValue` (a `str`), logged once per
field and value on the `medblocks.client` logger (field name and value only, never PHI), and
reported by `model.unknown_enum_values()` and by `unknown_enum_values_seen()` for the process.
Objects also keep fields the spec does not know yet (`extra="allow"`). Request bodies are
models too, closed to fields the spec does not declare.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler, PrivateAttr
from pydantic_core import core_schema

logger = logging.getLogger("medblocks.client")

_seen_lock = threading.Lock()
_seen: Counter[tuple[str, str]] = Counter()


class UnknownEnumValue(str):
    """A value the pinned spec does not list for an enum field, kept exactly as sent."""

    __slots__ = ()


class OpenEnum:
    """Annotation for a `str` field with documented values that tolerates new ones."""

    def __init__(self, name: str, *values: str) -> None:
        self.name = name
        self.values = values
        self._known = frozenset(values)

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def _check(self, value: str) -> str:
        if value in self._known:
            return value
        with _seen_lock:
            first = (self.name, value) not in _seen
            _seen[(self.name, value)] += 1
        if first:
            logger.warning(
                "unknown enum value field=%s value=%r known=%s (kept as sent)",
                self.name,
                value,
                ",".join(self.values),
            )
        return UnknownEnumValue(value)


def unknown_enum_values_seen() -> dict[tuple[str, str], int]:
    """(field, value) -> how often this process parsed a value the pinned spec does not list."""
    with _seen_lock:
        return dict(_seen)


def _unknown_in(value: Any, path: str, found: dict[str, str]) -> None:
    if isinstance(value, UnknownEnumValue):
        found[path] = str(value)
    elif isinstance(value, MedblocksModel):
        for name in type(value).model_fields:
            _unknown_in(getattr(value, name), f"{path}.{name}" if path else name, found)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _unknown_in(item, f"{path}[{index}]", found)


class MedblocksModel(BaseModel):
    """Base of every response object: keeps unknown fields, never echoes input in errors.

    `_request_id` is the `X-Request-Id` of the response the object was read from, set once by
    the client where it parses the answer (a list page carries its own; objects nested in an
    answer, such as a page's items, carry none).
    """

    model_config = ConfigDict(extra="allow", hide_input_in_errors=True)
    _request_id: str | None = PrivateAttr(default=None)

    def __eq__(self, other: object) -> bool:
        """Equal data is equal, whichever response each object was read from."""
        if not isinstance(other, BaseModel):
            return NotImplemented
        return (
            type(self) is type(other)
            and self.__dict__ == other.__dict__
            and self.__pydantic_extra__ == other.__pydantic_extra__
        )

    def unknown_enum_values(self) -> dict[str, str]:
        """Dotted field path -> value, for every enum value the pinned spec does not list."""
        found: dict[str, str] = {}
        _unknown_in(self, "", found)
        return found


class RequestBody(BaseModel):
    """Base of every request body: only the fields the spec declares.

    `None` on an optional field means "leave it out", except for the fields listed in
    `nullable` (those the spec lets be null), where an explicitly given `None` is sent as null.
    """

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)
    nullable: ClassVar[frozenset[str]] = frozenset()

    def to_body(self) -> dict[str, Any]:
        """The JSON object to send: fields that were given, nulls only where the spec allows."""
        given = self.model_dump(exclude_unset=True)
        return {k: v for k, v in given.items() if v is not None or k in self.nullable}


ConnectionStatus = Annotated[
    str,
    OpenEnum("connection.status", "active", "failed", "expired", "refresh_failed", "disconnected"),
]
SessionStatus = Annotated[str, OpenEnum("patient_session.status", "open", "complete", "expired")]
LaunchStatus = Annotated[str, OpenEnum("launch_context.status", "ready", "pending")]
WebhookStatus = Annotated[str, OpenEnum("webhook_endpoint.status", "active", "disabled")]
EventType = Annotated[
    str,
    OpenEnum(
        "event.type",
        "patient_session.completed",
        "connection.token_refresh_failed",
        "records.sync.completed",
        "records.sync.failed",
    ),
]
EventTypeInput = Literal[
    "*",
    "patient_session.completed",
    "connection.token_refresh_failed",
    "records.sync.completed",
    "records.sync.failed",
]
Metadata = dict[str, Any]

ItemT = TypeVar("ItemT")


class Health(MedblocksModel):
    ok: Literal[True]
    server_time: str


class Patient(MedblocksModel):
    id: str
    resource_type: Literal["patient"]
    email: str | None
    name: str | None
    metadata: Metadata
    created_at: str


class PatientConnection(MedblocksModel):
    """A patient's link to one EHR (`conn_` id); `connection_id` is the catalog `fhirsrc_` id."""

    id: str
    resource_type: Literal["connection"]
    patient_session_id: str | None
    connection_id: str
    status: ConnectionStatus
    scopes: list[str]
    failure_code: str | None
    failure_at: str | None
    created_at: str
    updated_at: str


class PatientDetail(Patient):
    connections: list[PatientConnection]


class PatientDeleted(MedblocksModel):
    id: str
    resource_type: Literal["patient"]
    deleted: Literal[True]


class ConnectionDisconnected(MedblocksModel):
    id: str
    resource_type: Literal["connection"]
    disconnected: Literal[True]


class SessionConnection(MedblocksModel):
    """A connection attempt made during one session; `id` is null for a failed attempt."""

    id: str | None
    connection_id: str
    status: ConnectionStatus
    failure_code: str | None
    failure_at: str | None
    created_at: str


class PatientSession(MedblocksModel):
    id: str
    resource_type: Literal["patient_session"]
    status: SessionStatus
    url: str
    patient_id: str
    connection_id: str | None
    recommended_connection_ids: list[str] | None
    return_url: str
    return_button_label: str | None
    connections: list[SessionConnection]
    expires_at: str
    metadata: Metadata
    created_at: str


class FhirResource(MedblocksModel):
    """One FHIR resource as stored; every FHIR field beyond these two is kept as extra."""

    resourceType: str
    id: str | None = None


class PatientRecord(MedblocksModel):
    source: str | None
    resource: FhirResource


class PatientRecords(MedblocksModel):
    resource_type: Literal["list"]
    patient_id: str
    data: list[PatientRecord]
    has_more: bool
    next_cursor: str | None
    previous_cursor: str | None


class FhirSource(MedblocksModel):
    id: str
    resource_type: Literal["fhir_source"]
    name: str
    type: str | None
    fhir_base_url: str
    logo_url: str | None
    portal_url: str | None


class LaunchContext(MedblocksModel):
    id: str
    resource_type: Literal["launch_context"]
    status: LaunchStatus
    patient: str | None
    encounter: str | None
    fhir_user: str | None
    scope: str | None
    fhir_source: str | None
    fhir_base_url: str
    created_at: str


class WebhookEndpoint(MedblocksModel):
    id: str
    resource_type: Literal["webhook_endpoint"]
    url: str
    events: list[str]
    status: WebhookStatus
    description: str | None
    metadata: Metadata
    api_version: str
    created_at: str
    updated_at: str


class WebhookEndpointWithSecret(WebhookEndpoint):
    """An endpoint as returned by create and rotate-secret: the only time `secret` is shown."""

    secret: str

    def __repr_args__(self) -> Any:
        return [(k, "***" if k == "secret" else v) for k, v in super().__repr_args__()]


class WebhookEndpointDeleted(MedblocksModel):
    id: str
    resource_type: Literal["webhook_endpoint"]
    deleted: Literal[True]


class WebhookEventData(MedblocksModel):
    object: Any = None


class WebhookEvent(MedblocksModel):
    id: str
    resource_type: Literal["event"]
    webhook_endpoint_id: str
    type: EventType
    data: WebhookEventData
    api_version: str
    attempts: int
    next_attempt_at: str | None
    delivered_at: str | None
    last_status_code: int | None
    last_response_body: str | None
    last_redelivered_at: str | None
    created_at: str


class Page(MedblocksModel, Generic[ItemT]):
    """One page of a list: `next_cursor` feeds the next call's `starting_after`."""

    resource_type: Literal["list"]
    data: list[ItemT]
    has_more: bool
    next_cursor: str | None


class ErrorDetail(MedblocksModel):
    type: str
    code: str
    message: str
    param: str | None
    doc_url: str
    request_id: str


class ErrorEnvelope(MedblocksModel):
    error: ErrorDetail


class PatientCreateInput(RequestBody):
    patient_id: str
    email: str | None = None
    name: str | None = None
    metadata: Metadata | None = None


class PatientReplaceInput(RequestBody):
    """PUT body: `email`/`name` sent as null clear them; an omitted `metadata` resets to {}."""

    nullable: ClassVar[frozenset[str]] = frozenset({"email", "name"})

    patient_id: str
    email: str | None = None
    name: str | None = None
    metadata: Metadata | None = None


class PatientSessionInitInput(RequestBody):
    patient_id: str
    return_url: str
    patient_email: str | None = None
    patient_name: str | None = None
    connection_id: str | None = None
    recommended_connection_ids: list[str] | None = None
    return_button_label: str | None = None
    expires_in: int | None = None
    metadata: Metadata | None = None


class WebhookEndpointCreateInput(RequestBody):
    url: str
    events: list[EventTypeInput]
    description: str | None = None
    metadata: Metadata | None = None


class WebhookEndpointUpdateInput(RequestBody):
    """PATCH body: only the fields given are changed; `description=None` clears it."""

    nullable: ClassVar[frozenset[str]] = frozenset({"description"})
    url: str | None = None
    events: list[EventTypeInput] | None = None
    description: str | None = None
    metadata: Metadata | None = None
    status: Literal["active", "disabled"] | None = None
