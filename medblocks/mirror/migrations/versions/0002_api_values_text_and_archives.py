"""Every column holding a value the API sends becomes TEXT (the pinned spec states no maximum
length: a 250-character `patient_id` stopped every sync on PostgreSQL), and the archive that
`mirror start-over` moves an organisation's rows into (kept readable, never deleted).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

STAMP = sa.String(40)
API_VALUES = {
    "patients": ("id", "created_at"),
    "connections": (
        "id",
        "patient_id",
        "source_id",
        "status",
        "failure_code",
        "failure_at",
        "created_at",
        "updated_at",
        "patient_session_id",
        "failing_since",
    ),
    "sessions": ("id", "patient_id", "status", "connection_id", "expires_at", "created_at"),
    "status_changes": (
        "connection_id",
        "patient_id",
        "source_id",
        "from_status",
        "to_status",
        "failure_code",
        "changed_at",
    ),
    "events": ("id", "type", "webhook_endpoint_id", "created_at"),
    "launches": ("patient_id", "session_id"),
}


def upgrade() -> None:
    for table, columns in API_VALUES.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.alter_column(column, type_=sa.Text)
    op.create_table(
        "archives",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("organisation", sa.Text, nullable=False),
        sa.Column("archived_at", STAMP, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
    )
    op.create_table(
        "archived_rows",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("archive_id", sa.Integer, nullable=False),
        sa.Column("table_name", sa.String(40), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_index("ix_archived_rows_archive", "archived_rows", ["archive_id", "table_name"])


def downgrade() -> None:
    """Drops the archive (its rows with it); the columns stay TEXT, as a value longer than
    the old lengths may be stored in them by now."""
    op.drop_index("ix_archived_rows_archive", "archived_rows")
    op.drop_table("archived_rows")
    op.drop_table("archives")
