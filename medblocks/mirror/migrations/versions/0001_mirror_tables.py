"""The mirror's first tables: patients, connections, sessions, status history, events,
checkpoints and the launch ledger.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

STAMP = sa.String(40)


def upgrade() -> None:
    op.create_table(
        "patients",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("email", sa.Text),
        sa.Column("name", sa.Text),
        sa.Column("metadata", sa.Text, nullable=False),
        sa.Column("created_at", STAMP, nullable=False),
        sa.Column("sync_run", sa.String(40)),
        sa.Column("mirrored_at", STAMP, nullable=False),
    )
    op.create_table(
        "connections",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("patient_id", sa.String(200), nullable=False),
        sa.Column("source_id", sa.String(80), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("scopes", sa.Text, nullable=False),
        sa.Column("failure_code", sa.String(80)),
        sa.Column("failure_at", STAMP),
        sa.Column("created_at", STAMP, nullable=False),
        sa.Column("updated_at", STAMP, nullable=False),
        sa.Column("patient_session_id", sa.String(80)),
        sa.Column("failing_since", STAMP),
        sa.Column("records_arrived", sa.Boolean),
        sa.Column("mirrored_at", STAMP, nullable=False),
    )
    op.create_index("ix_connections_patient_id", "connections", ["patient_id"])
    op.create_index("ix_connections_status", "connections", ["status"])
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("patient_id", sa.String(200), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("connection_id", sa.String(80)),
        sa.Column("recommended_connection_ids", sa.Text),
        sa.Column("attempts", sa.Text, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("expires_at", STAMP, nullable=False),
        sa.Column("created_at", STAMP, nullable=False),
        sa.Column("mirrored_at", STAMP, nullable=False),
    )
    op.create_index("ix_sessions_patient_id", "sessions", ["patient_id"])
    op.create_table(
        "status_changes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("connection_id", sa.String(80), nullable=False),
        sa.Column("patient_id", sa.String(200), nullable=False),
        sa.Column("source_id", sa.String(80), nullable=False),
        sa.Column("from_status", sa.String(40)),
        sa.Column("to_status", sa.String(40), nullable=False),
        sa.Column("failure_code", sa.String(80)),
        sa.Column("changed_at", STAMP, nullable=False),
        sa.Column("observed_at", STAMP, nullable=False),
        sa.Column("observed_by", sa.String(20), nullable=False),
    )
    op.create_index(
        "ix_status_changes_connection", "status_changes", ["connection_id", "changed_at"]
    )
    op.create_index("ix_status_changes_changed_at", "status_changes", ["changed_at"])
    op.create_table(
        "events",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("type", sa.String(80), nullable=False),
        sa.Column("webhook_endpoint_id", sa.String(80)),
        sa.Column("created_at", STAMP),
        sa.Column("received_at", STAMP, nullable=False),
        sa.Column("received_via", sa.String(20), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("applied_at", STAMP),
        sa.Column("outcome", sa.Text),
    )
    op.create_table(
        "checkpoints",
        sa.Column("name", sa.String(120), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", STAMP, nullable=False),
    )
    op.create_table(
        "launches",
        sa.Column("intent_id", sa.String(200), primary_key=True),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("launched_by", sa.Text, nullable=False),
        sa.Column("requested_at", STAMP, nullable=False),
        sa.Column("patient_id", sa.String(200), nullable=False),
        sa.Column("mode", sa.String(20), nullable=False),
        sa.Column("request", sa.Text, nullable=False),
        sa.Column("session_id", sa.String(80)),
        sa.Column("session_url", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("finished_at", STAMP),
    )


def downgrade() -> None:
    for table in (
        "launches",
        "checkpoints",
        "events",
        "status_changes",
        "sessions",
        "connections",
        "patients",
    ):
        op.drop_table(table)
