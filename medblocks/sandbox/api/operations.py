"""The 22 operations of the pinned spec with Medblocks' semantics.

Each handler takes a validated `Call` and returns the JSON object of a 200 answer, or raises
`ApiError`. Requests reach a handler only after auth, version, parameter and body checks
(`api/dispatcher.py`), so handlers apply only the rules the schema cannot express.
"""

from __future__ import annotations

import json
import math
import secrets
import sqlite3
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from medblocks.loopback import is_loopback_host
from medblocks.sandbox.api import resources
from medblocks.sandbox.api.pagination import decode_cursor, list_page
from medblocks.sandbox.clock import iso, parse_iso
from medblocks.sandbox.errors import ApiError, invalid_data, not_found
from medblocks.sandbox.ids import new_id, new_secret, new_token
from medblocks.sandbox.runtime import SandboxRuntime
from medblocks.sandbox.storage.store import Row, dumps
from medblocks.spec.ids import RESERVED_PATIENT_PREFIXES

DEFAULT_EXPIRES_IN = 1800
REDELIVERY_INTERVAL = 60
RECORD_CURSOR_ALPHABET = string.ascii_letters + string.digits
RECORD_CURSOR_LENGTH = 12
RECORD_CURSOR_LIFETIME = timedelta(days=7)
WEBHOOK_METADATA_MAX_KEYS = 50


@dataclass
class Call:
    """One validated request."""

    runtime: SandboxRuntime
    path: dict[str, str]
    query: dict[str, Any]
    body: Any
    base_url: str

    @property
    def now(self) -> str:
        return self.runtime.clock.now_iso()


Handler = Callable[[Call], dict[str, Any]]


# -- shared rules ------------------------------------------------------------------------------


def _patient_row(call: Call) -> Row:
    row = call.runtime.store.get_patient(call.path["id"])
    if row is None:
        raise not_found("No patient with this id.", "id")
    return row


def _check_patient_id(patient_id: str, param: str = "patient_id") -> None:
    if patient_id.startswith(RESERVED_PATIENT_PREFIXES):
        reserved = " ".join(RESERVED_PATIENT_PREFIXES)
        raise invalid_data(f"{param} must not start with a reserved prefix ({reserved}).", param)


def _written(row: Row | None) -> Row:
    """A row this request has just written, read back (it cannot be missing)."""
    assert row is not None
    return row


def _deleted(row_id: str, resource_type: str) -> dict[str, Any]:
    """The answer to a delete that went through."""
    return {"id": row_id, "resource_type": resource_type, "deleted": True}


def _source_id(call: Call, id_or_url: str, param: str) -> str:
    source = call.runtime.store.get_source(id_or_url)
    if source is None:
        raise not_found("No FHIR source with this id or fhir_base_url.", param)
    return str(source["id"])


# -- health --------------------------------------------------------------------------------------


def health(call: Call) -> dict[str, Any]:
    return {"ok": True, "server_time": call.now}


# -- patients ------------------------------------------------------------------------------------


def create_patient(call: Call) -> dict[str, Any]:
    body = call.body
    _check_patient_id(body["patient_id"])
    store = call.runtime.store
    try:
        with store.transaction() as db:
            store.insert_patient(
                db,
                body["patient_id"],
                body.get("email"),
                body.get("name"),
                body.get("metadata", {}),
                call.now,
            )
    except sqlite3.IntegrityError as exc:
        raise ApiError(
            "conflict_error",
            "external_id_already_exists",
            "A patient with this patient_id already exists.",
            param="patient_id",
        ) from exc
    return resources.patient(_written(store.get_patient(body["patient_id"])))


def list_patients(call: Call) -> dict[str, Any]:
    q = call.query
    rows = call.runtime.store.list_patients(
        limit=q["limit"],
        before_seq=decode_cursor("patients", q.get("starting_after")),
        patient_id=q.get("patient_id"),
        email=q.get("email"),
    )
    return list_page(rows, q["limit"], "patients", resources.patient)


def get_patient(call: Call) -> dict[str, Any]:
    return resources.patient_detail(_patient_row(call), call.runtime.store)


def update_patient(call: Call) -> dict[str, Any]:
    row = _patient_row(call)
    body = call.body
    if body["patient_id"] != row["id"]:
        raise invalid_data("patient_id must equal the id in the path.", "patient_id")
    store = call.runtime.store
    with store.transaction() as db:
        store.replace_patient(
            db, row["id"], body.get("email"), body.get("name"), body.get("metadata") or {}
        )
    return resources.patient(_written(store.get_patient(row["id"])))


def delete_patient(call: Call) -> dict[str, Any]:
    row = _patient_row(call)
    store = call.runtime.store
    with store.transaction() as db:
        store.delete_patient(db, row["id"])
    return _deleted(row["id"], "patient")


def disconnect_patient_connection(call: Call) -> dict[str, Any]:
    patient = _patient_row(call)
    store = call.runtime.store
    connection = store.get_connection(patient["id"], call.path["connection_id"])
    if connection is None:
        raise not_found("This patient has no connection with this id.", "connection_id")
    with store.transaction() as db:
        store.set_connection_status(db, connection["id"], "disconnected", call.now)
    return {"id": connection["id"], "resource_type": "connection", "disconnected": True}


def list_patient_sessions(call: Call) -> dict[str, Any]:
    patient = _patient_row(call)
    q = call.query
    now = call.now
    store = call.runtime.store
    rows = store.list_sessions_for_patient(
        patient_id=patient["id"],
        limit=q["limit"],
        before_seq=decode_cursor("patient_sessions", q.get("starting_after")),
        status=q.get("status"),
        now=now,
    )
    return list_page(
        rows,
        q["limit"],
        "patient_sessions",
        lambda r: resources.patient_session(r, store, now, call.base_url),
    )


# -- records -------------------------------------------------------------------------------------


def _since(text: str | None) -> str | None:
    """`since` (date or date-time) as a sandbox timestamp for comparison."""
    if text is None:
        return None
    try:
        if len(text) == 10:
            moment = datetime.fromisoformat(text).replace(tzinfo=UTC)
        else:
            moment = parse_iso(text.upper())
        return iso(moment)
    except (ValueError, OverflowError) as exc:
        # RFC 3339 allows forms Python cannot represent (leap seconds, year 0).
        raise invalid_data(
            "since must be a date or date-time Python can represent.", "since"
        ) from exc


def _issue_record_cursor(call: Call, patient_id: str, seq: int) -> str:
    cursor = "".join(secrets.choice(RECORD_CURSOR_ALPHABET) for _ in range(RECORD_CURSOR_LENGTH))
    call.runtime.store.save_record_cursor(cursor, patient_id, seq, call.now)
    return cursor


def _read_record_cursor(call: Call, patient_id: str, param: str) -> int | None:
    cursor = call.query.get(param)
    if cursor is None:
        return None
    row = call.runtime.store.get_record_cursor(cursor)
    if row is None or row["patient_id"] != patient_id:
        raise not_found(f"{param} is not a cursor returned for this patient's records.", param)
    if parse_iso(row["created_at"]) + RECORD_CURSOR_LIFETIME <= call.runtime.clock.now():
        raise not_found(f"{param} has expired (cursors are valid for 7 days).", param)
    return int(row["seq"])


def get_patient_records(call: Call) -> dict[str, Any]:
    patient = _patient_row(call)
    q = call.query
    types = [t.strip() for t in (q.get("type") or "").split(",") if t.strip()] or None
    since = _since(q.get("since"))
    after = _read_record_cursor(call, patient["id"], "starting_after")
    before = _read_record_cursor(call, patient["id"], "ending_before")
    if after is not None and before is not None:
        raise invalid_data("Send starting_after or ending_before, not both.", "ending_before")
    store = call.runtime.store
    rows = store.list_records(
        patient_id=patient["id"],
        types=types,
        since=since,
        limit=q["count"],
        after_seq=after,
        before_seq=before,
    )
    # The store fetched one extra row beyond the page, on the side away from the cursor.
    rows = rows[-q["count"] :] if before is not None else rows[: q["count"]]
    next_cursor = previous_cursor = None
    if rows:
        first, last = rows[0]["seq"], rows[-1]["seq"]
        if store.records_exist(patient["id"], None, last, types, since):
            next_cursor = _issue_record_cursor(call, patient["id"], last)
        if store.records_exist(patient["id"], first, None, types, since):
            previous_cursor = _issue_record_cursor(call, patient["id"], first)
    return {
        "resource_type": "list",
        "patient_id": patient["id"],
        "data": [resources.record(r) for r in rows],
        "has_more": next_cursor is not None,
        "next_cursor": next_cursor,
        "previous_cursor": previous_cursor,
    }


# -- catalog -------------------------------------------------------------------------------------


def list_fhir_sources(call: Call) -> dict[str, Any]:
    q = call.query
    rows = call.runtime.store.list_sources(
        limit=q["limit"],
        after_seq=decode_cursor("fhir_sources", q.get("starting_after")),
        q=q.get("q"),
        vendor=q.get("type"),
    )
    return list_page(rows, q["limit"], "fhir_sources", resources.fhir_source)


def get_fhir_source(call: Call) -> dict[str, Any]:
    row = call.runtime.store.get_source(call.path["id"])
    if row is None:
        raise not_found("No FHIR source with this id or fhir_base_url.", "id")
    return resources.fhir_source(row)


# -- patient sessions ----------------------------------------------------------------------------


def _http_url(value: str, param: str) -> None:
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise invalid_data(f"{param} must be an http or https URL.", param)


def init_patient_session(call: Call) -> dict[str, Any]:
    body = call.body
    if "connection_id" in body and "recommended_connection_ids" in body:
        raise invalid_data(
            "connection_id (direct mode) and recommended_connection_ids (picker mode) "
            "cannot be sent together.",
            "recommended_connection_ids",
        )
    patient_id = body["patient_id"]
    _check_patient_id(patient_id)
    _http_url(body["return_url"], "return_url")
    direct = None
    recommended = None
    if "connection_id" in body:
        direct = _source_id(call, body["connection_id"], "connection_id")
    if "recommended_connection_ids" in body:
        recommended = [
            _source_id(call, item, "recommended_connection_ids")
            for item in body["recommended_connection_ids"]
        ]
    store = call.runtime.store
    now_moment = call.runtime.clock.now()
    now = iso(now_moment)
    session_id = new_id("ps_")
    expires_in = body.get("expires_in", DEFAULT_EXPIRES_IN)
    with store.transaction() as db:
        existing = store.get_patient(patient_id)
        if existing is None:
            store.insert_patient(
                db, patient_id, body.get("patient_email"), body.get("patient_name"), {}, now
            )
        elif "patient_email" in body or "patient_name" in body:
            store.replace_patient(
                db,
                patient_id,
                body.get("patient_email", existing["email"]),
                body.get("patient_name", existing["name"]),
                json.loads(existing["metadata"]),
            )
        store.insert_session(
            db,
            id=session_id,
            token=new_token(),
            patient_id=patient_id,
            mode="direct" if direct else "picker",
            connection_id=direct,
            recommended_connection_ids=recommended,
            return_url=body["return_url"],
            return_button_label=body.get("return_button_label"),
            expires_at=iso(now_moment + timedelta(seconds=expires_in)),
            metadata=body.get("metadata", {}),
            created_at=now,
        )
    return resources.patient_session(
        _written(store.get_session(session_id)), store, now, call.base_url
    )


def retrieve_patient_session(call: Call) -> dict[str, Any]:
    store = call.runtime.store
    row = store.get_session(call.path["id"])
    if row is None:
        raise not_found("No patient session with this id.", "id")
    return resources.patient_session(row, store, call.now, call.base_url)


def retrieve_launch_context(call: Call) -> dict[str, Any]:
    row = call.runtime.store.get_launch_context(call.path["id"].lower())
    if row is None:
        raise not_found("No launch context with this id.", "id")
    return resources.launch_context(row)


# -- webhooks ------------------------------------------------------------------------------------


def _check_webhook_fields(body: dict[str, Any]) -> None:
    if "url" in body:
        parts = urlsplit(body["url"])
        scheme = parts.scheme.lower()
        local = scheme == "http" and is_loopback_host(parts.hostname)
        if not parts.netloc or not (scheme == "https" or local):
            raise invalid_data("url must be https (http is accepted only for localhost).", "url")
    if "events" in body:
        events = list(dict.fromkeys(body["events"]))
        if "*" in events and len(events) > 1:
            raise invalid_data('events is either ["*"] alone or a list of event types.', "events")
        body["events"] = events
    if len(body.get("metadata") or {}) > WEBHOOK_METADATA_MAX_KEYS:
        raise invalid_data(
            f"metadata can hold at most {WEBHOOK_METADATA_MAX_KEYS} keys.", "metadata"
        )


def _webhook_row(call: Call) -> Row:
    row = call.runtime.store.get_webhook(call.path["id"])
    if row is None:
        raise not_found("No webhook endpoint with this id.", "id")
    return row


def create_webhook(call: Call) -> dict[str, Any]:
    body = call.body
    _check_webhook_fields(body)
    store = call.runtime.store
    webhook_id = new_id("wh_")
    with store.transaction() as db:
        store.insert_webhook(
            db,
            id=webhook_id,
            url=body["url"],
            events=body["events"],
            status="active",
            description=body.get("description"),
            metadata=body.get("metadata", {}),
            api_version=call.runtime.api_version,
            secret=new_secret(),
            created_at=call.now,
        )
    return resources.webhook_endpoint(_written(store.get_webhook(webhook_id)), with_secret=True)


def list_webhooks(call: Call) -> dict[str, Any]:
    q = call.query
    rows = call.runtime.store.list_webhooks(
        limit=q["limit"],
        before_seq=decode_cursor("webhook_endpoints", q.get("starting_after")),
        status=q.get("status"),
    )
    return list_page(rows, q["limit"], "webhook_endpoints", resources.webhook_endpoint)


def get_webhook(call: Call) -> dict[str, Any]:
    return resources.webhook_endpoint(_webhook_row(call))


def update_webhook(call: Call) -> dict[str, Any]:
    row = _webhook_row(call)
    body = call.body if call.body is not None else {}
    _check_webhook_fields(body)
    fields: dict[str, Any] = {}
    for column in ("url", "status", "description"):
        if column in body:
            fields[column] = body[column]
    for column in ("events", "metadata"):
        if column in body:
            fields[column] = dumps(body[column])
    store = call.runtime.store
    if fields:
        fields["updated_at"] = call.now
        with store.transaction() as db:
            store.update_webhook(db, row["id"], fields)
    return resources.webhook_endpoint(_written(store.get_webhook(row["id"])))


def delete_webhook(call: Call) -> dict[str, Any]:
    row = _webhook_row(call)
    store = call.runtime.store
    with store.transaction() as db:
        store.delete_webhook(db, row["id"])
    return _deleted(row["id"], "webhook_endpoint")


def rotate_webhook_secret(call: Call) -> dict[str, Any]:
    row = _webhook_row(call)
    store = call.runtime.store
    with store.transaction() as db:
        store.update_webhook(db, row["id"], {"secret": new_secret(), "updated_at": call.now})
    return resources.webhook_endpoint(_written(store.get_webhook(row["id"])), with_secret=True)


def list_webhook_events(call: Call) -> dict[str, Any]:
    row = _webhook_row(call)
    q = call.query
    delivered = q.get("delivered")
    rows = call.runtime.store.list_events(
        webhook_endpoint_id=row["id"],
        limit=q["limit"],
        before_seq=decode_cursor("webhook_events", q.get("starting_after")),
        delivered=None if delivered is None else delivered == "true",
    )
    return list_page(rows, q["limit"], "webhook_events", resources.webhook_event)


def redeliver_webhook_event(call: Call) -> dict[str, Any]:
    store = call.runtime.store
    event = store.get_event(call.path["id"])
    if event is None:
        raise not_found("No event with this id.", "id")
    now = call.runtime.clock.now()
    if event["last_redelivered_at"] is not None:
        elapsed = (now - parse_iso(event["last_redelivered_at"])).total_seconds()
        if elapsed < REDELIVERY_INTERVAL:
            wait = max(1, math.ceil(REDELIVERY_INTERVAL - elapsed))
            raise ApiError(
                "rate_limit_error",
                "throttled",
                "An event can be redelivered once per minute.",
                headers={"Retry-After": str(wait)},
            )
    with store.transaction() as db:
        store.mark_redelivery(db, event["id"], iso(now))
    return resources.webhook_event(_written(store.get_event(event["id"])))


HANDLERS: dict[str, Handler] = {
    "api.health": health,
    "api.createPatient": create_patient,
    "api.listPatients": list_patients,
    "api.getPatient": get_patient,
    "api.updatePatient": update_patient,
    "api.deletePatient": delete_patient,
    "api.disconnectPatientConnection": disconnect_patient_connection,
    "api.listPatientSessionsForPatient": list_patient_sessions,
    "api.getPatientRecords": get_patient_records,
    "api.listFhirSources": list_fhir_sources,
    "api.getFhirSource": get_fhir_source,
    "api.initPatientSession": init_patient_session,
    "api.retrievePatientSession": retrieve_patient_session,
    "api.retrieveLaunchContext": retrieve_launch_context,
    "api.createWebhook": create_webhook,
    "api.listWebhooks": list_webhooks,
    "api.getWebhook": get_webhook,
    "api.updateWebhook": update_webhook,
    "api.deleteWebhook": delete_webhook,
    "api.rotateWebhookSecret": rotate_webhook_secret,
    "api.listWebhookEvents": list_webhook_events,
    "api.redeliverWebhookEvent": redeliver_webhook_event,
}
