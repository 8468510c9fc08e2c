"""The mirror's tables, as SQLAlchemy Core objects (the migrations in `migrations/` create them).

Timestamps are kept as the API writes them: ISO 8601 UTC strings with milliseconds and `Z`,
which sort in time order as text on both SQLite and PostgreSQL. JSON values are stored as text.

Every column holding a value the API sends (ids, statuses, codes, the server's timestamps) is
`Text`: the pinned spec states no maximum length for them, so the mirror sets none (a
250-character `patient_id` is as valid as any). Lengths remain only on the mirror's own values
(its timestamps, sync run ids, how a row was observed, checkpoint names).
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()
Text = sa.Text
Stamp = sa.String(40)  # the mirror's own timestamps (`now_iso()`)

patients = sa.Table(
    "patients",
    metadata,
    sa.Column("id", Text, primary_key=True),
    sa.Column("email", Text),
    sa.Column("name", Text),
    sa.Column("metadata", Text, nullable=False),
    sa.Column("created_at", Text, nullable=False),
    sa.Column("sync_run", sa.String(40)),
    sa.Column("mirrored_at", Stamp, nullable=False),
)

connections = sa.Table(
    "connections",
    metadata,
    sa.Column("id", Text, primary_key=True),
    sa.Column("patient_id", Text, nullable=False, index=True),
    sa.Column("source_id", Text, nullable=False),
    sa.Column("status", Text, nullable=False, index=True),
    sa.Column("scopes", Text, nullable=False),
    sa.Column("failure_code", Text),
    sa.Column("failure_at", Text),
    sa.Column("created_at", Text, nullable=False),
    sa.Column("updated_at", Text, nullable=False),
    sa.Column("patient_session_id", Text),
    sa.Column("failing_since", Text),
    sa.Column("records_arrived", sa.Boolean),
    sa.Column("mirrored_at", Stamp, nullable=False),
    sa.Column("failing_since_exact", sa.Boolean),
    sa.Index("ix_connections_failing_since", "failing_since"),  # the new-failures alert rule
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", Text, primary_key=True),
    sa.Column("patient_id", Text, nullable=False, index=True),
    sa.Column("status", Text, nullable=False),
    sa.Column("connection_id", Text),
    sa.Column("recommended_connection_ids", Text),
    sa.Column("attempts", Text, nullable=False),
    sa.Column("url", Text, nullable=False),
    sa.Column("expires_at", Text, nullable=False),
    sa.Column("created_at", Text, nullable=False),
    sa.Column("mirrored_at", Stamp, nullable=False),
)

status_changes = sa.Table(
    "status_changes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("connection_id", Text, nullable=False),
    sa.Column("patient_id", Text, nullable=False),
    sa.Column("source_id", Text, nullable=False),
    sa.Column("from_status", Text),
    sa.Column("to_status", Text, nullable=False),
    sa.Column("failure_code", Text),
    sa.Column("changed_at", Text, nullable=False),
    sa.Column("observed_at", Stamp, nullable=False),
    sa.Column("observed_by", sa.String(20), nullable=False),
    sa.Column("changed_at_exact", sa.Boolean),
    sa.Column("actor", Text),
    sa.Index("ix_status_changes_connection", "connection_id", "changed_at"),
    sa.Index("ix_status_changes_changed_at", "changed_at"),
    # covers the per-source history scans (Hospital status, incidents)
    sa.Index("ix_status_changes_changed_source_status", "changed_at", "source_id", "to_status"),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", Text, primary_key=True),
    sa.Column("type", Text, nullable=False),
    sa.Column("webhook_endpoint_id", Text),
    sa.Column("created_at", Text),
    sa.Column("received_at", Stamp, nullable=False),
    sa.Column("received_via", sa.String(20), nullable=False),
    sa.Column("payload", Text, nullable=False),
    sa.Column("applied_at", Stamp),
    sa.Column("outcome", Text),
    sa.Index("ix_events_received_at", "received_at"),  # the stale-mirror alert rule
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
    sa.Column("patient_id", Text, nullable=False),
    sa.Column("mode", sa.String(20), nullable=False),
    sa.Column("request", Text, nullable=False),
    sa.Column("session_id", Text),
    sa.Column("session_url", Text),
    sa.Column("error", Text),
    sa.Column("finished_at", Stamp),
)

archives = sa.Table(
    "archives",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("organisation", Text, nullable=False),
    sa.Column("archived_at", Stamp, nullable=False),
    sa.Column("rows", sa.Integer, nullable=False),
)

archived_rows = sa.Table(
    "archived_rows",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("archive_id", sa.Integer, nullable=False),
    sa.Column("table_name", sa.String(40), nullable=False),
    sa.Column("data", Text, nullable=False),
    sa.Index("ix_archived_rows_archive", "archive_id", "table_name"),
)

# Who saw and did what (issue 21). Rows are only ever inserted (`medblocks.mirror.audit`); on
# PostgreSQL migration 0005 adds a trigger that refuses UPDATE, DELETE and TRUNCATE.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", Stamp, nullable=False),
    sa.Column("actor", Text, nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("outcome", sa.String(20), nullable=False),
    sa.Column("target", Text),
    sa.Column("patient_id", Text),
    sa.Column("view", Text),
    sa.Column("detail", Text),
    sa.Column("rows", sa.Integer),
    sa.Column("request_id", Text),
    sa.Index("ix_audit_log_at", "at"),
    sa.Index("ix_audit_log_actor", "actor", "at"),
)
