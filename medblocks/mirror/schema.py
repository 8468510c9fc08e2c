"""The mirror's tables, as SQLAlchemy Core objects (the migrations in `migrations/` create them).

Timestamps are kept as the API writes them: ISO 8601 UTC strings with milliseconds and `Z`,
which sort in time order as text on both SQLite and PostgreSQL. JSON values are stored as text.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()
Text = sa.Text
Stamp = sa.String(40)

patients = sa.Table(
    "patients",
    metadata,
    sa.Column("id", sa.String(200), primary_key=True),
    sa.Column("email", Text),
    sa.Column("name", Text),
    sa.Column("metadata", Text, nullable=False),
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("sync_run", sa.String(40)),
    sa.Column("mirrored_at", Stamp, nullable=False),
)

connections = sa.Table(
    "connections",
    metadata,
    sa.Column("id", sa.String(80), primary_key=True),
    sa.Column("patient_id", sa.String(200), nullable=False, index=True),
    sa.Column("source_id", sa.String(80), nullable=False),
    sa.Column("status", sa.String(40), nullable=False, index=True),
    sa.Column("scopes", Text, nullable=False),
    sa.Column("failure_code", sa.String(80)),
    sa.Column("failure_at", Stamp),
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("updated_at", Stamp, nullable=False),
    sa.Column("patient_session_id", sa.String(80)),
    sa.Column("failing_since", Stamp),
    sa.Column("records_arrived", sa.Boolean),
    sa.Column("mirrored_at", Stamp, nullable=False),
    sa.Column("failing_since_exact", sa.Boolean),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", sa.String(80), primary_key=True),
    sa.Column("patient_id", sa.String(200), nullable=False, index=True),
    sa.Column("status", sa.String(40), nullable=False),
    sa.Column("connection_id", sa.String(80)),
    sa.Column("recommended_connection_ids", Text),
    sa.Column("attempts", Text, nullable=False),
    sa.Column("url", Text, nullable=False),
    sa.Column("expires_at", Stamp, nullable=False),
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("mirrored_at", Stamp, nullable=False),
)

status_changes = sa.Table(
    "status_changes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("connection_id", sa.String(80), nullable=False),
    sa.Column("patient_id", sa.String(200), nullable=False),
    sa.Column("source_id", sa.String(80), nullable=False),
    sa.Column("from_status", sa.String(40)),
    sa.Column("to_status", sa.String(40), nullable=False),
    sa.Column("failure_code", sa.String(80)),
    sa.Column("changed_at", Stamp, nullable=False),
    sa.Column("observed_at", Stamp, nullable=False),
    sa.Column("observed_by", sa.String(20), nullable=False),
    sa.Column("changed_at_exact", sa.Boolean),
    sa.Column("actor", Text),
    sa.Index("ix_status_changes_connection", "connection_id", "changed_at"),
    sa.Index("ix_status_changes_changed_at", "changed_at"),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.String(80), primary_key=True),
    sa.Column("type", sa.String(80), nullable=False),
    sa.Column("webhook_endpoint_id", sa.String(80)),
    sa.Column("created_at", Stamp),
    sa.Column("received_at", Stamp, nullable=False),
    sa.Column("received_via", sa.String(20), nullable=False),
    sa.Column("payload", Text, nullable=False),
    sa.Column("applied_at", Stamp),
    sa.Column("outcome", Text),
)

checkpoints = sa.Table(
    "checkpoints",
    metadata,
    sa.Column("name", sa.String(120), primary_key=True),
    sa.Column("value", Text, nullable=False),
    sa.Column("updated_at", Stamp, nullable=False),
)

launches = sa.Table(
    "launches",
    metadata,
    sa.Column("intent_id", sa.String(200), primary_key=True),
    sa.Column("target", Text, nullable=False),
    sa.Column("launched_by", Text, nullable=False),
    sa.Column("requested_at", Stamp, nullable=False),
    sa.Column("patient_id", sa.String(200), nullable=False),
    sa.Column("mode", sa.String(20), nullable=False),
    sa.Column("request", Text, nullable=False),
    sa.Column("session_id", sa.String(80)),
    sa.Column("session_url", Text),
    sa.Column("error", Text),
    sa.Column("finished_at", Stamp),
)
