"""Alerts: what fires (alert_state), every decision to send (alert_sends, whose primary key
makes each decision once across processes), silences; indexes for the mirror's newest event,
newly failing connections and the per-source history scans.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

STAMP = sa.String(40)


def upgrade() -> None:
    op.create_table(
        "alert_state",
        sa.Column("key", sa.String(300), primary_key=True),
        sa.Column("rule", sa.String(40), nullable=False),
        sa.Column("group_key", sa.String(250), nullable=False),
        sa.Column("firing", sa.Boolean, nullable=False),
        sa.Column("started_at", STAMP, nullable=False),
        sa.Column("resolved_at", STAMP),
        sa.Column("updated_at", STAMP, nullable=False),
    )
    op.create_table(
        "alert_sends",
        sa.Column("id", sa.String(400), primary_key=True),
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("rule", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("decided_at", STAMP, nullable=False),
        sa.Column("decided_by", sa.String(120), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("link", sa.Text, nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("detail", sa.Text),
    )
    op.create_index("ix_alert_sends_decided_at", "alert_sends", ["decided_at"])
    op.create_table(
        "alert_silences",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("rule", sa.String(40), nullable=False),
        sa.Column("group_key", sa.String(250)),
        sa.Column("ends_at", STAMP, nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", STAMP, nullable=False),
    )
    op.create_index("ix_events_received_at", "events", ["received_at"])
    op.create_index("ix_connections_failing_since", "connections", ["failing_since"])
    op.create_index(  # covers the per-source history scans (Hospital status, incidents)
        "ix_status_changes_changed_source_status",
        "status_changes",
        ["changed_at", "source_id", "to_status"],
    )


def downgrade() -> None:
    op.drop_index("ix_status_changes_changed_source_status", "status_changes")
    op.drop_index("ix_connections_failing_since", "connections")
    op.drop_index("ix_events_received_at", "events")
    op.drop_table("alert_silences")
    op.drop_index("ix_alert_sends_decided_at", "alert_sends")
    op.drop_table("alert_sends")
    op.drop_table("alert_state")
