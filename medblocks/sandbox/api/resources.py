"""Rows of the sandbox database rendered as the API's JSON objects."""

from __future__ import annotations

import json
from typing import Any

from medblocks.sandbox.storage.store import Row, Store


def patient(row: Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "resource_type": "patient",
        "email": row["email"],
        "name": row["name"],
        "metadata": json.loads(row["metadata"]),
        "created_at": row["created_at"],
    }


def connection(row: Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "resource_type": "connection",
        "patient_session_id": row["patient_session_id"],
        "connection_id": row["connection_id"],
        "status": row["status"],
        "scopes": json.loads(row["scopes"]),
        "failure_code": row["failure_code"],
        "failure_at": row["failure_at"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def patient_detail(row: Row, store: Store) -> dict[str, Any]:
    detail = patient(row)
    detail["connections"] = [connection(c) for c in store.connections_for_patient(row["id"])]
    return detail


def session_status(row: Row, now: str) -> str:
    """An open session whose `expires_at` has passed reads as expired."""
    status = str(row["status"])
    if status == "open" and row["expires_at"] <= now:
        return "expired"
    return status


def patient_session(row: Row, store: Store, now: str, base_url: str) -> dict[str, Any]:
    recommended = row["recommended_connection_ids"]
    return {
        "id": row["id"],
        "resource_type": "patient_session",
        "status": session_status(row, now),
        "url": f"{base_url.rstrip('/')}/c/{row['token']}",
        "patient_id": row["patient_id"],
        "connection_id": row["connection_id"],
        "recommended_connection_ids": None if recommended is None else json.loads(recommended),
        "return_url": row["return_url"],
        "return_button_label": row["return_button_label"],
        "connections": [dict(a) for a in store.attempts_for_session(row["id"])],
        "expires_at": row["expires_at"],
        "metadata": json.loads(row["metadata"]),
        "created_at": row["created_at"],
    }


def fhir_source(row: Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "resource_type": "fhir_source",
        "name": row["name"],
        "type": row["type"],
        "fhir_base_url": row["fhir_base_url"],
        "logo_url": row["logo_url"],
        "portal_url": row["portal_url"],
    }


def webhook_endpoint(row: Row, *, with_secret: bool = False) -> dict[str, Any]:
    body = {
        "id": row["id"],
        "resource_type": "webhook_endpoint",
        "url": row["url"],
        "events": json.loads(row["events"]),
        "status": row["status"],
        "description": row["description"],
        "metadata": json.loads(row["metadata"]),
        "api_version": row["api_version"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }
    if with_secret:
        body["secret"] = row["secret"]
    return body


def webhook_event(row: Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "resource_type": "event",
        "webhook_endpoint_id": row["webhook_endpoint_id"],
        "type": row["type"],
        "data": json.loads(row["data"]),
        "api_version": row["api_version"],
        "attempts": row["attempts"],
        "next_attempt_at": row["next_attempt_at"],
        "delivered_at": row["delivered_at"],
        "last_status_code": row["last_status_code"],
        "last_response_body": row["last_response_body"],
        "last_redelivered_at": row["last_redelivered_at"],
        "created_at": row["created_at"],
    }


def launch_context(row: Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "resource_type": "launch_context",
        "status": row["status"],
        "patient": row["patient"],
        "encounter": row["encounter"],
        "fhir_user": row["fhir_user"],
        "scope": row["scope"],
        "fhir_source": row["fhir_source"],
        "fhir_base_url": row["fhir_base_url"],
        "created_at": row["created_at"],
    }


def record(row: Row) -> dict[str, Any]:
    return {"source": row["source"], "resource": json.loads(row["resource"])}
