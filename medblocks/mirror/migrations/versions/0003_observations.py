"""How each status was observed: who acted (for the dashboard's own actions), whether the time
of a change is the server's own (`changed_at_exact`), and the same for a connection's
`failing_since` (exact, or the first time the mirror saw it failing: "at least since").

Rows written before this revision keep NULL in the new columns: their exactness is unknown and
the pages say "at least since" for them.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("status_changes") as table:
        table.add_column(sa.Column("changed_at_exact", sa.Boolean))
        table.add_column(sa.Column("actor", sa.Text))
    with op.batch_alter_table("connections") as table:
        table.add_column(sa.Column("failing_since_exact", sa.Boolean))


def downgrade() -> None:
    with op.batch_alter_table("connections") as table:
        table.drop_column("failing_since_exact")
    with op.batch_alter_table("status_changes") as table:
        table.drop_column("actor")
        table.drop_column("changed_at_exact")
